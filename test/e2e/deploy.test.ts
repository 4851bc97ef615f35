import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer, type RackServerOptions } from '../rack-server/index.js';
import { registryDigest, registryTags } from '../support/registry.js';
import { runAction } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
const RACK_PASSWORD = 'Rack-Pa55word-e2e-7f3k';
let rack: RackServer | undefined;
afterEach(async () => {
  await rack?.close();
  rack = undefined;
});

function manifest(image: string): string {
  return [
    '# shop on Convox',
    'environment:',
    '  - PORT=3000',
    'services:',
    '  web:',
    `    image: ${image}   # rewritten by CI`,
    '    port: 3000',
    '',
  ].join('\n');
}

async function startRack(
  app: string,
  opts: Partial<RackServerOptions> & { env?: string; seedManifest?: string } = {},
): Promise<RackServer> {
  rack = await startRackServer({
    password: RACK_PASSWORD,
    registry: { host: services.registry, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: app, env: opts.env ?? 'PORT=3000', manifest: opts.seedManifest ?? manifest('busybox') }],
    ...opts,
  });
  return rack;
}

function inputs(repo: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    image: `${services.registry}/${repo}`,
    tags: '{{timestamp}}',
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
    app: 'shop',
    'rack-host': rack!.url,
    'rack-password': RACK_PASSWORD,
    timeout: '2m',
    ...extra,
  };
}

const DOCKERFILE = 'FROM scratch\nCOPY app.txt /app.txt\n';

describe('deploy to a Convox rack (test server) after a real build and push', () => {
  const env = { DOCKER_HOST: services.dockerHost };

  it('manifest mode: rewrites image:, uploads, builds, promotes, waits; the rack runs the new release', async () => {
    const r = await startRack('shop');
    const before = r.state.requireApp('shop').release;
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v1\n',
      'convox.yml': manifest(`${services.registry}/acme/deploy:old`),
    });
    const run = await runAction({ inputs: inputs('acme/deploy'), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    const tag = run.outputs.version!;
    const written = readFileSync(path.join(ws, 'convox.yml'), 'utf8');
    expect(written).toBe(manifest(`${services.registry}/acme/deploy:${tag}`));
    const app = r.state.requireApp('shop');
    expect(app.status).toBe('running');
    expect(app.release).toBe(run.outputs['release-id']);
    expect(run.outputs['previous-release-id']).toBe(before);
    const build = r.state.requireBuild(app, run.outputs['build-id']!);
    expect(build.status).toBe('complete');
    // The rack built from exactly the bytes written to the workspace.
    expect(build.manifest).toBe(written);
    expect(build.gitSha).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
    expect(await registryDigest(services, 'acme/deploy', tag)).toBe(run.outputs.digest);
    expect(run.summary).toContain(run.outputs['release-id']!);
    expect(run.all).not.toContain(RACK_PASSWORD);
    expect(run.all).not.toContain(services.registryPassword);
  });

  it('env mode: sets IMAGE_VERSION keeping every other variable, builds with it, leaves the manifest alone', async () => {
    const seeded = manifest(`${services.registry}/acme/envmode:\${IMAGE_VERSION}`);
    const r = await startRack('shop', {
      env: 'IMAGE_VERSION=old\nSECRET_KEY=keep me\nPORT=3000',
      seedManifest: manifest('busybox'),
    });
    const ws = makeWorkspace({ Dockerfile: DOCKERFILE, 'app.txt': 'v2\n', 'convox.yml': seeded });
    const run = await runAction({ inputs: inputs('acme/envmode', { update: 'env' }), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    const tag = run.outputs.version!;
    expect(readFileSync(path.join(ws, 'convox.yml'), 'utf8')).toBe(seeded);
    const app = r.state.requireApp('shop');
    const release = r.state.requireRelease(app, run.outputs['release-id']!);
    expect(release.env.split('\n').sort()).toEqual([`IMAGE_VERSION=${tag}`, 'PORT=3000', 'SECRET_KEY=keep me']);
    expect(app.release).toBe(release.id);
    const buildCreate = r.requests.find((q) => q.method === 'POST' && q.path === '/apps/shop/builds');
    expect(buildCreate?.form['build-args']).toBe(`IMAGE_VERSION=${tag}`);
    expect(run.outputs['manifest-diff']).toBe(`IMAGE_VERSION: old -> ${tag}`);
  });

  it('a failing rack build fails the step with the rack log tail', async () => {
    const r = await startRack('shop');
    const before = r.state.requireApp('shop').release;
    r.faults.failBuild('pull access denied for busybox-typo');
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v3\n',
      'convox.yml': manifest(`${services.registry}/acme/failing:old`),
    });
    const run = await runAction({ inputs: inputs('acme/failing', { 'rack-build': 'source' }), env, workspace: ws });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('pull access denied for busybox-typo');
    expect(run.outputs['build-id']).toMatch(/^B[A-Z]{10}$/);
    // Set although nothing was promoted: a follow-up step knows what is still running.
    expect(run.outputs['previous-release-id']).toBe(before);
    expect(run.outputs['release-id']).toBeUndefined();
    expect(run.summary).toContain('pull access denied for busybox-typo');
    // The release the plan saw survives the rack's progress reports, which do not name it yet.
    expect(run.summary).toContain(`Release before this run: \`${before}\``);
  });

  it('a rollback is a failure naming the previous release, which stays active', async () => {
    const r = await startRack('shop');
    const before = r.state.requireApp('shop').release;
    r.faults.nextPromote('rollback');
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v4\n',
      'convox.yml': manifest(`${services.registry}/acme/rolled:old`),
    });
    const run = await runAction({ inputs: inputs('acme/rolled'), env, workspace: ws });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`rolled back to ${before}`);
    expect(r.state.requireApp('shop').release).toBe(before);
    expect(run.outputs['release-id']).toMatch(/^R[A-Z]{10}$/);
    expect(run.outputs['previous-release-id']).toBe(before);
  });

  it('waits for an app that is already updating, and says so', async () => {
    const r = await startRack('shop');
    r.faults.appUpdating('shop', 2500);
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v5\n',
      'convox.yml': manifest(`${services.registry}/acme/busy:old`),
    });
    const run = await runAction({ inputs: inputs('acme/busy', { 'rack-build': 'source' }), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    expect(run.stdout).toMatch(/[Ww]ait(ed|ing)[^\n]*updat/);
    expect(r.state.requireApp('shop').release).toBe(run.outputs['release-id']);
  });

  it('survives transient 5xx answers on reads', async () => {
    const r = await startRack('shop');
    r.faults.fail({ method: 'GET', path: '/apps/shop/builds/*', times: 2, status: 503, body: 'upstream unavailable' });
    r.faults.fail({ method: 'GET', path: '/apps/shop', times: 1, status: 502 });
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v6\n',
      'convox.yml': manifest(`${services.registry}/acme/flaky:old`),
    });
    const run = await runAction({ inputs: inputs('acme/flaky'), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    expect(r.state.requireApp('shop').release).toBe(run.outputs['release-id']);
  });

  it.each([
    ['a wrong rack password', { 'rack-password': 'Not-The-Pa55word' }, /rack-password/, {}],
    ['an unknown app', { app: 'shop-typo' }, /app not found: shop-typo/, {}],
    ['an unsupported rack version', {}, /unsupported rack version/, { version: '20170101000000' }],
  ])('fails clearly on %s, before anything is pushed', async (_name, extra, message, rackOpts) => {
    await startRack('shop', rackOpts as Partial<RackServerOptions>);
    const repo = `acme/never-${Math.random().toString(36).slice(2, 8)}`;
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'x\n',
      'convox.yml': manifest(`${services.registry}/${repo}:old`),
    });
    const run = await runAction({ inputs: inputs(repo, extra as Record<string, string>), env, workspace: ws });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(await registryTags(services, repo)).toEqual([]);
    expect(readFileSync(path.join(ws, 'convox.yml'), 'utf8')).toBe(manifest(`${services.registry}/${repo}:old`));
    expect(run.all).not.toContain('Not-The-Pa55word');
  });

  it('deploys through a Console with a deploy key (manifest mode)', async () => {
    const key = 'dk-Console-Key-e2e-9q8w';
    const r = await startRack('shop', { console: { racks: ['acme/production', 'acme/staging'], deployKeys: [key] } });
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v7\n',
      'convox.yml': manifest(`${services.registry}/acme/console:old`),
    });
    const run = await runAction({
      inputs: inputs('acme/console', { rack: 'production', 'rack-password': key }),
      env,
      workspace: ws,
    });
    expect(run.code, run.all).toBe(0);
    const prod = r.racks['acme/production']!.requireApp('shop');
    expect(prod.release).toBe(run.outputs['release-id']);
    expect(r.racks['acme/staging']!.requireApp('shop').release).not.toBe(run.outputs['release-id']);
    // Every request names the rack; the Console resolves the bare name to the one matching rack.
    expect(
      r.requests
        .filter((q) => q.path !== '/racks' && q.headers.rack !== 'production')
        .map((q) => `${q.method} ${q.path} ${q.headers.rack}`),
    ).toEqual([]);
    expect(run.all).not.toContain(key);
  });

  it('env mode with a Console deploy key fails before anything is built or pushed, naming both ways forward', async () => {
    const key = 'dk-Env-Mode-Key-3x7';
    const r = await startRack('shop', { console: { racks: ['acme/production'], deployKeys: [key] } });
    const ws = makeWorkspace({
      Dockerfile: DOCKERFILE,
      'app.txt': 'v8\n',
      'convox.yml': manifest(`${services.registry}/acme/envkey:\${IMAGE_VERSION}`),
    });
    const run = await runAction({
      inputs: inputs('acme/envkey', { update: 'env', rack: 'production', 'rack-password': key }),
      env,
      workspace: ws,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/cannot read the releases of shop/);
    expect(run.stdout).toMatch(/update: manifest/);
    expect(run.outputs['image-id']).toBeUndefined();
    expect(await registryTags(services, 'acme/envkey')).toEqual([]);
    expect(r.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`)).toEqual([]);
  });
});
