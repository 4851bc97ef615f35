import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../rack-server/index.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startGitHubApi, type GitHubApiStandIn } from '../support/github-api.js';
import { registryTags } from '../support/registry.js';
import { REPO_ROOT, runAction } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
const RACK_PASSWORD = 'Dry-Rack-Pa55-3k2j';
const TOKEN = 'ghs_DryRunToken0123456789abcdef';
const event = (name: string): object =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/events', `${name}.json`), 'utf8')) as object;

let rack: RackServer;
let gh: GitHubApiStandIn;
beforeEach(async () => {
  rack = await startRackServer({
    password: RACK_PASSWORD,
    // The rack holds credentials for the private test registry (convox registries add), as a
    // rack that deploys from it must: the plan checks (plan/pull.ts).
    registry: { host: services.registry, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: 'shop', env: 'IMAGE_VERSION=20260101000000\nPORT=3000', manifest: 'services:\n  web:\n    image: busybox\n' }],
  });
  gh = await startGitHubApi();
});
afterEach(async () => {
  await rack.close();
  await gh.close();
});

/** Hash of every file in the workspace, to prove a dry run wrote nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const MANIFEST = `services:\n  web:\n    image: ${services.registry}/acme/planned:20260101000000 # deployed\n  worker:\n    image: ${services.registry}/acme/planned:\${IMAGE_VERSION}\n`;
const ENV_MANIFEST = `services:\n  web:\n    image: ${services.registry}/acme/planned:\${IMAGE_VERSION}\n`;

function files(manifest = MANIFEST): Record<string, string> {
  return { Dockerfile: 'FROM scratch\nCOPY app.txt /\n', 'app.txt': 'pr\n', 'convox.yml': manifest };
}

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    image: `${services.registry}/acme/planned`,
    tags: '{{sha}}',
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
    app: 'shop',
    'rack-host': rack.url,
    'rack-build': 'source',
    'rack-password': RACK_PASSWORD,
    'github-token': TOKEN,
    ...extra,
  };
}

const githubEnv = (): Record<string, string> => ({ DOCKER_HOST: services.dockerHost, GITHUB_API_URL: gh.url });

describe('dry runs in pull requests', () => {
  it.each([
    ['push', 'false'],
    ['workflow_dispatch', 'false'],
    ['pull_request', 'true'],
    ['pull_request_target', 'true'],
  ])('dry-run: auto on a %s event is %s', async (eventName, expected) => {
    const ws = makeWorkspace(files());
    const run = await runAction({
      inputs: { ...inputs(), push: 'false', update: 'none', app: '', comment: 'false' },
      env: githubEnv(),
      workspace: ws,
      eventName,
      event: event(eventName),
    });
    expect(run.code, run.all).toBe(0);
    expect(run.outputs['dry-run']).toBe(expected);
  });

  it('builds, pushes nothing, writes nothing, only reads from the rack, and posts one sticky comment that later updates', async () => {
    const ws = makeWorkspace(files());
    const before = snapshot(ws);
    const run = await runAction({
      inputs: inputs(),
      env: githubEnv(),
      workspace: ws,
      eventName: 'pull_request',
      event: event('pull_request'),
    });
    expect(run.code, run.all).toBe(0);
    // {{sha}} is the PR head commit from the payload, not the merge commit.
    expect(run.outputs.version).toBe('feedc0de00112233445566778899aabbccddeeff');
    expect(run.outputs['image-id']).toMatch(/^sha256:/);
    expect(snapshot(ws)).toEqual(before);
    expect(await registryTags(services, 'acme/planned')).toEqual([]);
    expect(rack.requests.length).toBeGreaterThan(0);
    expect(rack.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`)).toEqual([]);
    const diffLine = `+    image: ${services.registry}/acme/planned:feedc0de00112233445566778899aabbccddeeff # deployed`;
    expect(run.outputs['manifest-diff']).toContain(diffLine);
    expect(run.summary).toContain(diffLine);
    expect(run.summary).toMatch(/dry run/i);
    const comments = gh.commentsOn('acme', 'shop', 17);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(diffLine);
    expect(comments[0]!.body).toContain('shop');

    // A second push to the PR updates the same comment instead of adding one.
    const again = await runAction({
      inputs: { ...inputs(), tags: 'second-{{short_sha}}' },
      env: githubEnv(),
      workspace: ws,
      eventName: 'pull_request',
      event: event('pull_request'),
    });
    expect(again.code, again.all).toBe(0);
    const after = gh.commentsOn('acme', 'shop', 17);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(comments[0]!.id);
    expect(after[0]!.body).toContain('acme/planned:second-feedc0d');
    for (const text of [run.all, again.all, after[0]!.body]) {
      expect(text).not.toContain(RACK_PASSWORD);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(services.registryPassword);
    }
  });

  it('sends the registry no write: every request a recording proxy in front of it saw is a read', async () => {
    const proxy = await new FaultProxy(services.registry).start();
    try {
      const viaProxy = (dryRun: string) => ({
        ...inputs({ 'dry-run': dryRun, update: 'none', app: '', comment: 'false' }),
        image: `${proxy.host}/acme/watched`,
      });
      const ws = makeWorkspace(files());
      const dry = await runAction({
        inputs: viaProxy('true'),
        env: githubEnv(),
        workspace: ws,
        eventName: 'pull_request',
        event: event('pull_request'),
      });
      expect(dry.code, dry.all).toBe(0);
      const writes = (): string[] =>
        proxy.requests.filter((q) => !['GET', 'HEAD'].includes(q.method)).map((q) => `${q.method} ${q.url}`);
      expect(writes()).toEqual([]);
      // The same run for real writes through this proxy, so the proxy does see the engine's pushes.
      const real = await runAction({
        inputs: viaProxy('false'),
        env: githubEnv(),
        workspace: ws,
        eventName: 'push',
        event: event('push'),
      });
      expect(real.code, real.all).toBe(0);
      expect(writes().some((w) => w.startsWith('PUT /v2/acme/watched/manifests/'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a broken Dockerfile fails the PR, and the sticky comment says so with the failing step', async () => {
    const ws = makeWorkspace({ ...files(), Dockerfile: `FROM ${services.baseImage}\nRUN echo compiling && exit 7\n` });
    const run = await runAction({
      inputs: inputs(),
      env: githubEnv(),
      workspace: ws,
      eventName: 'pull_request',
      event: event('pull_request'),
    });
    expect(run.code).toBe(1);
    const [comment] = gh.commentsOn('acme', 'shop', 17);
    expect(comment?.body).toContain('The dry run failed in phase build');
    expect(comment?.body).toContain('RUN echo compiling && exit 7');
    expect(comment?.body).toContain('compiling');
  });

  it('env mode shows IMAGE_VERSION old -> new read from the rack', async () => {
    const ws = makeWorkspace(files(ENV_MANIFEST));
    const run = await runAction({
      inputs: inputs({ update: 'env' }),
      env: githubEnv(),
      workspace: ws,
      eventName: 'pull_request',
      event: event('pull_request'),
    });
    expect(run.code, run.all).toBe(0);
    expect(run.outputs['manifest-diff']).toBe('IMAGE_VERSION: 20260101000000 -> feedc0de00112233445566778899aabbccddeeff');
    expect(run.summary).toContain('20260101000000');
    expect(rack.requests.every((q) => q.method === 'GET')).toBe(true);
  });

  it('a fork PR (no secrets, read-only token) still succeeds and says what it could not check', async () => {
    gh.forkPullRequest();
    const ws = makeWorkspace(files());
    const { 'rack-password': _r, 'registry-password': _p, 'registry-username': _u, ...noSecrets } = inputs();
    const run = await runAction({
      inputs: noSecrets,
      env: githubEnv(),
      workspace: ws,
      eventName: 'pull_request',
      event: event('pull_request_fork'),
    });
    expect(run.code, run.all).toBe(0);
    expect(rack.requests).toEqual([]);
    expect(run.summary).toMatch(/rack-password|not consulted/);
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning') && /comment/i.test(l));
    expect(warnings).toHaveLength(1);
    expect(gh.commentsOn('acme', 'shop', 18)).toEqual([]);
  });
});

describe('GitHub deployments and outputs on a real run', () => {
  it('reports in_progress then success for a deploy', async () => {
    const ws = makeWorkspace(files(`services:\n  web:\n    image: ${services.registry}/acme/envdeploy:old\n`));
    const run = await runAction({
      inputs: {
        ...inputs(),
        image: `${services.registry}/acme/envdeploy`,
        tags: '{{timestamp}}',
        environment: 'production',
        'environment-url': 'https://shop.example.com',
      },
      env: { ...githubEnv() },
      workspace: ws,
      eventName: 'push',
      event: event('push'),
    });
    expect(run.code, run.all).toBe(0);
    expect(gh.deployments).toHaveLength(1);
    expect(gh.deployments[0]!.request.ref).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
    expect(gh.deployments[0]!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(gh.deployments[0]!.statuses[1]!.environment_url).toBe('https://shop.example.com');
  });

  it('sets every output it learned even when the deploy fails, and marks the deployment failed', async () => {
    rack.faults.failBuild('rack could not pull the image');
    const ws = makeWorkspace(files(`services:\n  web:\n    image: ${services.registry}/acme/failout:old\n`));
    const run = await runAction({
      inputs: { ...inputs(), image: `${services.registry}/acme/failout`, tags: '{{timestamp}}', environment: 'production' },
      env: githubEnv(),
      workspace: ws,
      eventName: 'push',
      event: event('push'),
    });
    expect(run.code).toBe(1);
    for (const name of ['image', 'tags', 'version', 'digest', 'image-id', 'manifest-diff', 'build-id', 'dry-run'])
      expect(run.outputs[name], name).toBeTruthy();
    expect(gh.deployments[0]!.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(run.summary).toContain('rack could not pull the image');
  });
});
