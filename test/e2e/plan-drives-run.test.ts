/**
 * The plan drives the run: for each shape of config, the steps the run executed (seen in the
 * real registry, the workspace and the rack's request log) are the plan's running steps, and the
 * job summary reports each step as the plan and the run's record say, in the plan's order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../rack-server/index.js';
import { registryTags } from '../support/registry.js';
import { runAction } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
const RACK_PASSWORD = 'Plan-Rack-Pa55-7q1w';
const env = { DOCKER_HOST: services.dockerHost };
const manifest = (image: string): string => `services:\n  web:\n    image: ${image}\n`;

interface PlannedStep {
  readonly title: string;
  readonly skipped?: string;
}

/** The plan as the log prints it ("Steps:" then "  1. title  [skipped: reason]"). */
function plannedSteps(stdout: string): PlannedStep[] {
  const text = stdout.slice(stdout.indexOf('\nSteps:\n'));
  const out: PlannedStep[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^ {2}\d+\. (.*?)(?: {2}\[skipped: (.*)\])?$/.exec(line);
    if (!m) break;
    out.push(m[2] ? { title: m[1]!, skipped: m[2] } : { title: m[1]! });
  }
  return out;
}

/** The summary's step lines: "1. ✅ title — detail". */
function summarySteps(summary: string): { icon: string; title: string; detail?: string }[] {
  return summary
    .split('\n')
    .map((l) => /^\d+\. (\S+) (.*?)(?: — (.*))?$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => (m[3] ? { icon: m[1]!, title: m[2]!, detail: m[3] } : { icon: m[1]!, title: m[2]! }));
}

const unescape = (s: string): string => s.replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1');

let rack: RackServer;
let seq = 0;
beforeAll(async () => {
  rack = await startRackServer({
    password: RACK_PASSWORD,
    registry: { host: services.registry, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: 'shop', env: 'IMAGE_VERSION=old\nPORT=3000', manifest: manifest('busybox') }],
  });
  // The tag `build: false` deploys.
  const ws = makeWorkspace({ Dockerfile: 'FROM scratch\nCOPY app.txt /\n', 'app.txt': 'seed\n' });
  const seed = await runAction({ inputs: { ...base('acme/plan-existing'), tags: 'seed', update: 'none' }, env, workspace: ws });
  expect(seed.code, seed.all).toBe(0);
});
afterAll(async () => rack?.close());

function base(repo: string): Record<string, string> {
  return {
    image: `${services.registry}/${repo}`,
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
  };
}

const app = { app: 'shop', 'rack-host': '', 'rack-password': RACK_PASSWORD, timeout: '2m' };

describe('the steps a run executes are the plan’s, and the summary says so', () => {
  it.each<[string, Record<string, string>, string]>([
    ['build and push, no app', { update: 'none' }, 'acme/plan-push'],
    ['push: false', { update: 'none', push: 'false' }, 'acme/plan-nopush'],
    ['existing tag (build: false)', { update: 'none', build: 'false', tags: 'seed' }, 'acme/plan-existing'],
    ['manifest rewrite, no app', {}, 'acme/plan-manifest'],
    ['dry run with an app', { ...app, 'dry-run': 'true' }, 'acme/plan-dry'],
    ['deploy, wait: false', { ...app, wait: 'false' }, 'acme/plan-nowait'],
    ['env deploy', { ...app, update: 'env' }, 'acme/plan-env'],
    ['deploy, rack-build: source', { ...app, 'rack-build': 'source' }, 'acme/plan-source'],
    ['staged (promote: false)', { ...app, promote: 'false' }, 'acme/plan-staged'],
  ])('%s', async (_name, extra, repo) => {
    const tag = extra.tags ?? `t${++seq}`;
    const before = manifest(`${services.registry}/${repo}:${extra.update === 'env' ? '${IMAGE_VERSION}' : 'old'}`);
    const ws = makeWorkspace({ Dockerfile: 'FROM scratch\nCOPY app.txt /\n', 'app.txt': `${repo}\n`, 'convox.yml': before });
    const inputs = { ...base(repo), tags: tag, ...extra, ...(extra.app ? { 'rack-host': rack.url } : {}) };
    const tagsBefore = await registryTags(services, repo);
    const buildsBefore = rack.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/builds')).length;
    const requestsBefore = rack.requests.length;
    const run = await runAction({ inputs, env, workspace: ws });
    expect(run.code, run.all).toBe(0);

    const planned = plannedSteps(run.stdout);
    const reported = summarySteps(run.summary);
    expect(reported.map((s) => unescape(s.title))).toEqual(planned.map((s) => s.title));
    planned.forEach((step, i) => {
      const got = reported[i]!;
      if (!step.skipped) expect(got.icon, step.title).toBe('✅');
      else if (step.skipped === 'dry run') expect([got.icon, got.detail], step.title).toEqual(['🧪', 'would run in a real run']);
      else expect([got.icon, unescape(got.detail ?? '')], step.title).toEqual(['⏭️', `skipped: ${step.skipped}`]);
    });

    // What the world saw is what the plan ran.
    const runs = (prefix: string): boolean => planned.some((s) => s.title.startsWith(prefix) && !s.skipped);
    expect(run.outputs['image-id'] !== undefined, 'image-id output').toBe(runs('Build '));
    const pushed = (await registryTags(services, repo)).filter((t) => !tagsBefore.includes(t));
    expect(pushed, 'tags pushed').toEqual(runs('Push ') ? [tag] : []);
    const written = readFileSync(path.join(ws, 'convox.yml'), 'utf8');
    expect(written !== before, 'manifest written').toBe(runs('Rewrite image:'));
    const builds = rack.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/builds')).length - buildsBefore;
    expect(builds, 'rack builds').toBe(runs('Build on the rack') || runs('Import ') ? 1 : 0);
    const since = rack.requests.slice(requestsBefore);
    expect(
      since.some((r) => r.path.includes('/objects/')),
      'source uploaded',
    ).toBe(runs('Upload the source'));
    expect(
      since.some((r) => r.method === 'POST' && r.path.endsWith('/image')),
      'image imported',
    ).toBe(runs('Import '));
    expect(
      since.some((r) => r.method === 'POST' && r.path.endsWith('/promote')),
      'promoted',
    ).toBe(runs('Promote '));
  });
});
