/**
 * Every bad input fails before any side effect. Each case runs the real bundle with otherwise
 * valid inputs and must exit 1 with a message naming the input and a fix, and leave everything
 * as it was: no connection to the engine (a tap on its socket counts them) and its images, build
 * cache and containers unchanged; no request to the registry (a proxy in front of it counts
 * them) and its repositories and tags unchanged; the workspace byte-identical; no request to the
 * rack or the GitHub API. A control run with the same valid inputs does all of those things, so
 * each detector is shown to work. Cases run two at a time.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../../rack-server/index.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { recordFigure } from '../../support/figures.js';
import { startGitHubApi, type GitHubApiStandIn } from '../../support/github-api.js';
import { runAction, type ActionRun } from '../../support/run-action.js';
import { EngineTap, engineSnapshot, registrySnapshot, workspaceSnapshot } from '../../support/side-effects.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectNoSecrets, GITHUB_TOKEN, RACK_PASSWORD, runSecrets } from './helpers.js';

const services = inject('services');

interface Case {
  name: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** Changes to the workspace before the run (it holds Dockerfile, a.txt, convox.yml, sub/keep.txt). */
  prepare?: (ws: string) => void;
  /**
   * The inputs the message must name: the annotation is titled `input '<name>'` with a fix, or
   * (for a problem placed on a file) its text matches the pattern.
   */
  names: (string | RegExp)[];
}

const CASES: Case[] = [
  // image
  { name: 'image missing', inputs: { image: '' }, names: ['image'] },
  { name: 'uppercase repository', inputs: { image: 'Acme/Shop' }, names: ['image'] },
  { name: 'image with a tag', inputs: { image: 'acme/shop:latest' }, names: ['image'] },
  { name: 'image with a digest', inputs: { image: `acme/shop@sha256:${'a'.repeat(64)}` }, names: ['image'] },
  { name: 'empty path component', inputs: { image: 'acme//shop' }, names: ['image'] },
  { name: 'leading dash', inputs: { image: '-acme/shop' }, names: ['image'] },
  { name: 'space in image', inputs: { image: 'acme/sh op' }, names: ['image'] },
  { name: 'image name over 255 characters', inputs: { image: `acme/${'a'.repeat(300)}` }, names: ['image'] },
  { name: 'image with a URL scheme', inputs: { image: 'https://registry.example.com/acme/shop' }, names: ['image'] },
  // tags
  { name: 'slash in a tag', inputs: { tags: 'feature/x' }, names: ['tags'] },
  { name: 'space in a tag', inputs: { tags: 'v1 beta' }, names: ['tags'] },
  { name: 'tag starting with a dot', inputs: { tags: '.hidden' }, names: ['tags'] },
  { name: 'tag starting with a dash', inputs: { tags: '-dash' }, names: ['tags'] },
  { name: 'illegal character in a tag', inputs: { tags: 'v1+build' }, names: ['tags'] },
  { name: 'unknown template variable', inputs: { tags: '{{nope}}' }, names: ['tags'] },
  { name: 'unclosed template', inputs: { tags: '{{sha' }, names: ['tags'] },
  { name: 'template rendering empty', inputs: { tags: '{{sha}}' }, env: { GITHUB_SHA: '' }, names: ['tags'] },
  { name: '{{branch}} on a tag push', inputs: { tags: '{{branch}}' }, env: { GITHUB_REF: 'refs/tags/v3.0.2' }, names: ['tags'] },
  { name: 'tag over 128 characters', inputs: { tags: 'x'.repeat(129) }, names: ['tags'] },
  { name: 'duplicate tags', inputs: { tags: 'v1,v1' }, names: ['tags'] },
  { name: 'tags that name no tag', inputs: { tags: ' , \n ,' }, names: ['tags'] },
  { name: 'unknown timestamp code', inputs: { 'timestamp-format': '%Q' }, names: ['timestamp-format'] },
  { name: 'timestamp format with a colon', inputs: { 'timestamp-format': '%H:%M' }, names: ['timestamp-format'] },
  // build inputs
  { name: 'context outside the workspace', inputs: { context: '../..' }, names: ['context'] },
  {
    name: 'context symlink out of the workspace',
    inputs: { context: 'out' },
    prepare: (ws) => symlinkSync('/tmp', path.join(ws, 'out')),
    names: ['context'],
  },
  { name: 'missing context directory', inputs: { context: 'no-such-dir' }, names: ['context'] },
  { name: 'context that is a file', inputs: { context: 'a.txt' }, names: ['context'] },
  { name: 'missing Dockerfile', inputs: { file: 'docker/Dockerfile.prod' }, names: ['file'] },
  { name: 'Dockerfile that is a directory', inputs: { file: 'sub' }, names: ['file'] },
  { name: 'Dockerfile outside the workspace', inputs: { file: '../Dockerfile' }, names: ['file'] },
  { name: 'target stage not in the Dockerfile', inputs: { target: 'prod' }, names: ['target'] },
  { name: 'build-args line without =', inputs: { 'build-args': 'NOEQUALS' }, names: ['build-args'] },
  { name: 'build-args key given twice', inputs: { 'build-args': 'A=1\nA=2' }, names: ['build-args'] },
  { name: 'label without a key', inputs: { labels: '=value' }, names: ['labels'] },
  { name: 'cache-from that is not an image', inputs: { 'cache-from': 'not an image!' }, names: ['cache-from'] },
  { name: 'platform list (needs Buildx)', inputs: { platform: 'linux/amd64,linux/arm64' }, names: ['platform'] },
  { name: 'platform garbage', inputs: { platform: 'Linux AMD64' }, names: ['platform'] },
  { name: 'network name with spaces', inputs: { network: 'no network' }, names: ['network'] },
  { name: 'no-cache with build: false', inputs: { 'no-cache': 'true', build: 'false' }, names: ['no-cache'] },
  // booleans and choices
  { name: 'boolean yes', inputs: { build: 'yes' }, names: ['build'] },
  { name: 'boolean on', inputs: { push: 'on' }, names: ['push'] },
  { name: 'boolean 1', inputs: { wait: '1' }, names: ['wait'] },
  { name: 'boolean Y', inputs: { 'pin-digest': 'Y' }, names: ['pin-digest'] },
  { name: 'boolean sure', inputs: { 'rack-insecure-tls': 'sure' }, names: ['rack-insecure-tls'] },
  { name: 'boolean no (comment)', inputs: { comment: 'no' }, names: ['comment'] },
  { name: 'dry-run maybe', inputs: { 'dry-run': 'maybe' }, names: ['dry-run'] },
  { name: 'unknown update mode', inputs: { update: 'sideways' }, names: ['update'] },
  // manifest
  { name: 'manifest path traversal', inputs: { manifest: '../convox.yml' }, names: ['manifest'] },
  { name: 'absolute manifest path', inputs: { manifest: '/etc/hostname' }, names: ['manifest'] },
  {
    name: 'manifest symlink out of the workspace',
    inputs: { manifest: 'linked.yml' },
    prepare: (ws) => symlinkSync('/etc/hostname', path.join(ws, 'linked.yml')),
    names: ['manifest'],
  },
  { name: 'missing manifest', inputs: { manifest: 'deploy/convox.yml' }, names: ['manifest'] },
  { name: 'manifest that is a directory', inputs: { manifest: 'sub' }, names: ['manifest'] },
  { name: 'empty services list', inputs: { services: ' , ' }, names: ['services'] },
  {
    name: 'services naming a service the manifest lacks',
    inputs: { services: 'ghost' },
    names: [/has no service named 'ghost' \(services: web, worker\)%0A  Fix: correct the names in the services input/],
  },
  // manifest contents: refused in the plan, the file left as it was
  {
    name: 'malformed manifest YAML',
    prepare: (ws) => writeFileSync(path.join(ws, 'convox.yml'), 'services:\n  web:\n    image: [unclosed\n'),
    names: [/convox\.yml:4:1: not valid YAML/],
  },
  {
    name: 'empty manifest',
    prepare: (ws) => writeFileSync(path.join(ws, 'convox.yml'), '# nothing yet\n'),
    names: [/convox\.yml: is empty/],
  },
  {
    name: 'no service uses the image',
    prepare: (ws) => writeFileSync(path.join(ws, 'convox.yml'), 'services:\n  web:\n    image: other/thing:1\n'),
    names: [/no service uses the image .*acme\/bad-input.*web: other\/thing:1/],
  },
  {
    name: 'named service with build: and no image:',
    inputs: { services: 'worker' },
    prepare: (ws) =>
      writeFileSync(path.join(ws, 'convox.yml'), 'services:\n  web:\n    image: other/thing:1\n  worker:\n    build: .\n'),
    names: [/service 'worker' has build: and no image:/],
  },
  {
    name: 'env mode on a manifest without ${IMAGE_VERSION}',
    inputs: { update: 'env' },
    names: [/does not use \$\{IMAGE_VERSION\}.*Fix: change line 3 to/],
  },
  { name: 'env-var with a dash', inputs: { 'env-var': 'IMAGE-VERSION' }, names: ['env-var'] },
  { name: 'env-var starting with a digit', inputs: { 'env-var': '1IMAGE' }, names: ['env-var'] },
  { name: 'env mode without app', inputs: { update: 'env', app: '' }, names: ['update'] },
  // registry credentials
  { name: 'registry password without user', inputs: { 'registry-username': '' }, names: ['registry-username'] },
  { name: 'registry user without password', inputs: { 'registry-password': '' }, names: ['registry-password'] },
  // rack
  { name: 'app name with capitals', inputs: { app: 'Shop_App' }, names: ['app'] },
  { name: 'timeout nonsense', inputs: { timeout: 'soon' }, names: ['timeout'] },
  { name: 'negative timeout', inputs: { timeout: '-5m' }, names: ['timeout'] },
  { name: 'zero timeout', inputs: { timeout: '0' }, names: ['timeout'] },
  { name: 'timeout over a day', inputs: { timeout: '48h' }, names: ['timeout'] },
  { name: 'rack-host garbage', inputs: { 'rack-host': 'ht!tp://rack' }, names: ['rack-host'] },
  { name: 'rack-host with a foreign scheme', inputs: { 'rack-host': 'ftp://rack.example.com' }, names: ['rack-host'] },
  {
    name: 'rack-host over plain http to a remote host',
    inputs: { 'rack-host': 'http://rack.example.com' },
    names: ['rack-host'],
  },
  { name: 'rack-host with a query', inputs: { 'rack-host': 'https://rack.example.com/?rack=x' }, names: ['rack-host'] },
  { name: 'rack-host with a space', inputs: { 'rack-host': 'rack .example.com' }, names: ['rack-host'] },
  { name: 'no rack password', inputs: { 'rack-password': '' }, names: ['rack-password'] },
  { name: 'Console without a rack name', inputs: { 'rack-host': 'console.convox.com' }, names: ['rack'] },
  {
    name: 'rack-insecure-tls with the Console',
    inputs: { 'rack-host': 'console.convox.com', rack: 'acme/production', 'rack-insecure-tls': 'true' },
    names: ['rack-insecure-tls'],
  },
  // reports
  { name: 'environment-url that is not a URL', inputs: { 'environment-url': 'shop dot example' }, names: ['environment-url'] },
  // several at once: all named in one go
  {
    name: 'three bad inputs at once',
    inputs: { tags: '{{nope}}', timeout: 'soon', 'dry-run': 'maybe' },
    names: ['tags', 'timeout', 'dry-run'],
  },
];

const REPO = 'acme/bad-input';
const GOOD_MANIFEST = (registry: string): string =>
  `services:\n  web:\n    image: ${registry}/${REPO}:old\n  worker:\n    image: ${registry}/${REPO}:old\n`;

/** One run with its own tap, registry proxy, rack and GitHub stand-in, so nothing is shared between parallel runs. */
interface Observed {
  run: ActionRun;
  ws: string;
  wsBefore: Record<string, string>;
  wsAfter: Record<string, string>;
  engineConnections: number;
  registryRequests: string[];
  rackRequests: string[];
  githubRequests: string[];
  gh: GitHubApiStandIn;
}

async function observe(c: Pick<Case, 'inputs' | 'env' | 'prepare'>): Promise<Observed> {
  const tap = await EngineTap.start(services.dockerHost);
  const proxy = await new FaultProxy(services.registry).start();
  const rack: RackServer = await startRackServer({
    password: RACK_PASSWORD,
    registry: { host: proxy.host, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: 'shop', env: 'IMAGE_VERSION=old', manifest: 'services:\n  web:\n    image: busybox\n' }],
  });
  const gh = await startGitHubApi();
  const ws = makeWorkspace({
    Dockerfile: 'FROM scratch AS base\nCOPY a.txt /\n',
    'a.txt': 'a\n',
    'convox.yml': GOOD_MANIFEST(proxy.host),
  });
  mkdirSync(path.join(ws, 'sub'));
  writeFileSync(path.join(ws, 'sub/keep.txt'), 'keep\n');
  c.prepare?.(ws);
  const wsBefore = workspaceSnapshot(ws);
  try {
    const run = await runAction({
      inputs: {
        image: `${proxy.host}/${REPO}`,
        tags: 'v1',
        network: 'none',
        'registry-username': services.registryUser,
        'registry-password': services.registryPassword,
        app: 'shop',
        'rack-host': rack.url,
        'rack-password': RACK_PASSWORD,
        'github-token': GITHUB_TOKEN,
        environment: 'production',
        timeout: '1m',
        ...c.inputs,
      },
      env: { DOCKER_HOST: tap.host, GITHUB_API_URL: gh.url, ...c.env },
      workspace: ws,
      timeoutMs: 60_000,
    });
    return {
      run,
      ws,
      wsBefore,
      wsAfter: workspaceSnapshot(ws),
      engineConnections: tap.connections,
      registryRequests: proxy.requests.map((q) => `${q.method} ${q.url}`),
      rackRequests: rack.requests.map((q) => `${q.method} ${q.path}`),
      githubRequests: gh.requests.map((q) => `${q.method} ${q.path}`),
      gh,
    };
  } finally {
    await Promise.all([tap.close(), proxy.close(), rack.close(), gh.close()]);
  }
}

const observed = new Map<string, Observed & { engineChanged: boolean; registryChanged: boolean }>();
let control: Observed & { engineChanged: boolean; registryChanged: boolean };

/** Runs `cases` two at a time, snapshotting the engine and the registry around each pair. */
async function observeAll(): Promise<void> {
  for (let i = 0; i < CASES.length; i += 2) {
    const pair = CASES.slice(i, i + 2);
    const engineBefore = await engineSnapshot(services.dockerHost);
    const registryBefore = await registrySnapshot(services);
    const results = await Promise.all(pair.map((c) => observe(c)));
    const engineChanged = (await engineSnapshot(services.dockerHost)) !== engineBefore;
    const registryChanged = (await registrySnapshot(services)) !== registryBefore;
    pair.forEach((c, j) => observed.set(c.name, { ...results[j]!, engineChanged, registryChanged }));
  }
}

beforeAll(async () => {
  // The control first: the same valid inputs build, push, write, deploy and report.
  const engineBefore = await engineSnapshot(services.dockerHost);
  const registryBefore = await registrySnapshot(services);
  const run = await observe({});
  control = {
    ...run,
    engineChanged: (await engineSnapshot(services.dockerHost)) !== engineBefore,
    registryChanged: (await registrySnapshot(services)) !== registryBefore,
  };
  await observeAll();
}, 300_000);

const tally: { name: string; rejected: boolean }[] = [];
afterAll(() => {
  for (const t of tally) recordFigure({ kind: 'bad-input', name: t.name, rejected: t.rejected });
});

describe('bad inputs', () => {
  it('control: the same inputs without the bad one build, push, write, deploy and report (every detector below fires)', () => {
    expect(control.run.code, control.run.stdout.slice(-3000)).toBe(0);
    expect(control.engineConnections).toBeGreaterThan(0);
    expect(control.engineChanged).toBe(true);
    expect(control.registryRequests.length).toBeGreaterThan(0);
    expect(control.registryChanged).toBe(true);
    expect(control.wsAfter).not.toEqual(control.wsBefore);
    expect(control.rackRequests).toContain('POST /apps/shop/builds');
    expect(control.githubRequests).toContain('POST /repos/acme/shop/deployments');
    expectNoSecrets('bad inputs: control', control.run, { workspace: control.ws, gh: control.gh, secrets: runSecrets(services) });
  });

  it.each(CASES)(`$name: rejected before any side effect`, (c) => {
    const o = observed.get(c.name)!;
    let rejected = false;
    try {
      expect(o.run.code, o.run.stdout.slice(-2000)).toBe(1);
      for (const input of c.names) {
        const named =
          typeof input === 'string'
            ? new RegExp(`::error title=convox-image-deploy%3A input '${input}'::[^\\n]*%0A  Fix: \\S`)
            : input;
        expect(o.run.stdout, o.run.stdout.slice(-2000)).toMatch(named);
      }
      expect(o.run.summary).toMatch(/^### ❌/);
      expect({ engineConnections: o.engineConnections, engineChanged: o.engineChanged }).toEqual({
        engineConnections: 0,
        engineChanged: false,
      });
      expect({ registryRequests: o.registryRequests, registryChanged: o.registryChanged }).toEqual({
        registryRequests: [],
        registryChanged: false,
      });
      expect(o.wsAfter).toEqual(o.wsBefore);
      expect(o.rackRequests).toEqual([]);
      expect(o.githubRequests).toEqual([]);
      expectNoSecrets(`bad input: ${c.name}`, o.run, { workspace: o.ws, gh: o.gh, secrets: runSecrets(services) });
      rejected = true;
    } finally {
      tally.push({ name: c.name, rejected });
    }
  });
});
