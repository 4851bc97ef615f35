/**
 * Runs every flow with distinctive secrets and scans everything the action emitted — stdout,
 * stderr, outputs, job summary, request bodies it sent to the GitHub API, and the files it left
 * in the workspace — for each secret in every form it could travel in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startRackServer } from '../rack-server/index.js';
import { recordFigure } from '../support/figures.js';
import { startGitHubApi } from '../support/github-api.js';
import { runAction } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
const RACK = 'Rk-Secr3t-9f8e7d6c';
const TOKEN = 'ghs_S3cretTokenValue0123456789';
const WRONG_REGISTRY = 'Wr0ng-Reg-Secr3t-42';

/** Every form a secret could leak in: as is, base64 of user:secret, URL-encoded, base64 alone. */
function forms(user: string, secret: string): string[] {
  return [secret, Buffer.from(`${user}:${secret}`).toString('base64'), encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
}
const SECRET_FORMS = [...forms('convox', RACK), ...forms(services.registryUser, services.registryPassword), ...forms(services.registryUser, WRONG_REGISTRY), ...forms('x', TOKEN)];

function filesOf(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out.join('\n');
}

let scans = 0;
let leaks = 0;
afterAll(() => {
  recordFigure('secrets', { scans, leaks });
  console.log(`secret scans: ${scans}, leaks: ${leaks}`);
});

function scan(what: string, text: string): void {
  for (const f of SECRET_FORMS) {
    scans++;
    if (text.includes(f)) leaks++;
    expect(text.includes(f), `${what} contains a secret (${f.slice(0, 3)}…)`).toBe(false);
  }
}

const FLOWS: { name: string; inputs: Record<string, string>; rack?: 'ok' | 'fail-build' | 'rollback'; event?: string; manifest?: string }[] = [
  { name: 'build and push', inputs: { update: 'none', app: '' } },
  { name: 'manifest deploy', inputs: {}, rack: 'ok' },
  { name: 'env deploy', inputs: { update: 'env' }, rack: 'ok', manifest: 'env' },
  { name: 'failing rack build', inputs: {}, rack: 'fail-build' },
  { name: 'rollback', inputs: {}, rack: 'rollback' },
  { name: 'dry run with PR comment', inputs: {}, rack: 'ok', event: 'pull_request' },
  { name: 'wrong rack password', inputs: { 'rack-password': `${RACK}-nope` }, rack: 'ok' },
  { name: 'wrong registry password', inputs: { 'registry-password': WRONG_REGISTRY, app: '' } },
  { name: 'bad inputs', inputs: { tags: '{{nope}}', timeout: 'soon' } },
];

describe('no secret appears anywhere the action writes', () => {
  it.each(FLOWS)('$name', async (flow) => {
    const gh = await startGitHubApi();
    const rack = await startRackServer({ password: RACK, registry: { host: services.registry, username: services.registryUser, password: services.registryPassword }, apps: [{ name: 'shop', env: 'IMAGE_VERSION=1\nA=1', manifest: 'services:\n  web:\n    image: busybox\n' }] });
    if (flow.rack === 'fail-build') rack.faults.failBuild(`could not pull with convox:${RACK}`);
    if (flow.rack === 'rollback') rack.faults.nextPromote('rollback');
    const repo = `secrets/${flow.name.toLowerCase().replace(/\W+/g, '-')}`;
    const image = flow.manifest === 'env' ? `${services.registry}/${repo}:\${IMAGE_VERSION}` : `${services.registry}/${repo}:old`;
    const dir = makeWorkspace({ Dockerfile: 'FROM scratch\nCOPY a.txt /\n', 'a.txt': 'a\n', 'convox.yml': `services:\n  web:\n    image: ${image}\n` });
    // Its own event file: the comment goes to PR 5 of acme/shop.
    const event = flow.event === 'pull_request' ? { number: 5, pull_request: { number: 5, head: { sha: 'feedc0de00112233445566778899aabbccddeeff', ref: 'topic', repo: { full_name: 'acme/shop' } } } } : {};
    try {
      const run = await runAction({
        inputs: { image: `${services.registry}/${repo}`, network: 'none', 'registry-username': services.registryUser, 'registry-password': services.registryPassword, app: 'shop', 'rack-host': rack.url, 'rack-password': RACK, 'github-token': TOKEN, environment: 'production', ...flow.inputs },
        env: { DOCKER_HOST: services.dockerHost, GITHUB_API_URL: gh.url },
        workspace: dir,
        eventName: flow.event ?? 'push',
        event,
      });
      scan('the log, outputs and summary', run.all);
      scan('GitHub API requests', JSON.stringify(gh.requests.map((q) => q.body)));
      scan('the workspace', filesOf(dir));
      if (flow.event === 'pull_request') expect(gh.commentsOn('acme', 'shop', 5), run.stdout.slice(-2500)).toHaveLength(1);
    } finally {
      await rack.close();
      await gh.close();
    }
  });
});
