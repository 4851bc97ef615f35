/**
 * The bundle, run as the runner runs it, against the rack test server after a real build and
 * push: rack-build auto takes the import route on a 3.24.6 rack for an all-image manifest, falls
 * back (said once) on 3.24.5, keeps the source build for env mode; promote: false stages;
 * release: promotes the staged release. The e2e registry is private (htpasswd), so the import
 * passes registry-username/password to the rack as source credentials: never in the log.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../rack-server/index.js';
import { runAction, type ActionRun } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
const RACK_PASSWORD = 'Rack-Pa55word-e2e-imp1';
let rack: RackServer | undefined;
afterEach(async () => {
  await rack?.close();
  rack = undefined;
});

const manifest = (image: string): string => `services:\n  web:\n    image: ${image}\n    port: 3000\n`;
const env = { DOCKER_HOST: services.dockerHost };

async function start(version: string): Promise<RackServer> {
  // The rack holds no registry credentials: the import route must bring its own.
  rack = await startRackServer({
    version,
    password: RACK_PASSWORD,
    registry: { host: services.registry },
    apps: [{ name: 'shop', env: 'PORT=3000', manifest: manifest('busybox') }],
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

/** `convox registries add` for the test registry, as an operator would have run it. */
function rackHoldsCredentials(r: RackServer): void {
  r.state.registries.set(services.registry, {
    server: services.registry,
    username: services.registryUser,
    password: services.registryPassword,
  });
}

/** Builds and pushes `repo`, and makes its release on the rack without promoting it (promote: false). */
async function stage(repo: string): Promise<ActionRun> {
  const staged = await runAction({ inputs: inputs(repo, { promote: 'false' }), env, workspace: workspace(repo) });
  expect(staged.code, staged.all).toBe(0);
  return staged;
}

const workspace = (repo: string) =>
  makeWorkspace({
    Dockerfile: 'FROM scratch\nCOPY app.txt /app.txt\n',
    'app.txt': 'v1\n',
    'convox.yml': manifest(`${services.registry}/${repo}:old`),
  });

describe('rack-build: auto', () => {
  it('3.24.6: imports the pushed image (no upload, no build pod), passes the credentials masked', async () => {
    const r = await start('3.24.6');
    const run = await runAction({ inputs: inputs('acme/imp'), env, workspace: workspace('acme/imp') });
    expect(run.code, run.all).toBe(0);
    expect(r.requests.some((q) => q.path.includes('/objects/'))).toBe(false);
    const image = r.requests.find((q) => q.path.endsWith('/image'));
    expect(image?.form['src-creds-user']).toBe(services.registryUser);
    expect(r.state.requireApp('shop').release).toBe(run.outputs['release-id']);
    expect(run.all).toContain('route: import');
    expect(run.all).not.toContain(RACK_PASSWORD);
    expect(run.all).not.toContain(services.registryPassword);
    // The rack imports with the action's credentials: what it holds for pulling is not read.
    expect(r.requests.some((q) => q.path === '/registries')).toBe(false);
    console.log(`import route: ${r.requests.length} rack requests`);
  });

  it('the rack at its concurrent-import cap (409): the import is retried with backoff, then lands', async () => {
    const r = await start('3.24.6');
    // Four imports of someone else's in flight, for 1.5 s: the rack's own 409, as a real rack answers it.
    r.state.importsInFlight = 4;
    const freed = setTimeout(() => (r.state.importsInFlight = 0), 1500);
    try {
      const run = await runAction({ inputs: inputs('acme/busy'), env, workspace: workspace('acme/busy') });
      expect(run.code, run.all).toBe(0);
      expect(run.all).toMatch(
        /rack: rack at concurrent-import cap \(4 in flight\); wait and retry; retrying the import in \d+\.\ds/,
      );
      expect(r.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/image')).length).toBeGreaterThan(1);
      expect(r.state.requireApp('shop').release).toBe(run.outputs['release-id']);
    } finally {
      clearTimeout(freed);
    }
  });

  it('3.24.5: the plan takes the source build, saying why, and never asks the rack to import', async () => {
    const r = await start('3.24.5');
    rackHoldsCredentials(r);
    const run = await runAction({ inputs: inputs('acme/old'), env, workspace: workspace('acme/old') });
    expect(run.code, run.all).toBe(0);
    expect(run.all).toContain('Route: source (the rack runs 3.24.5; importing an image needs v3 3.24.6 or later)');
    expect(run.summary).toContain('upload the source and build on the rack');
    expect(r.requests.some((q) => q.path.endsWith('/image'))).toBe(false);
    expect(r.requests.some((q) => q.path.includes('/objects/'))).toBe(true);
    // The rack's build pulls with the rack's credentials: the plan read which it holds.
    expect(r.requests.some((q) => q.method === 'GET' && q.path === '/registries')).toBe(true);
    console.log(`source route: ${r.requests.length} rack requests`);
  });

  it('3.24.5 with no credentials on the rack for the private registry: fails in the plan, before the push', async () => {
    const r = await start('3.24.5');
    const run = await runAction({ inputs: inputs('acme/nocreds'), env, workspace: workspace('acme/nocreds') });
    expect(run.code).toBe(1);
    expect(run.all).toContain(`${services.registry}/acme/nocreds is private (${services.registry} refused an anonymous read)`);
    expect(run.all).toContain(`convox registries add ${services.registry} USERNAME PASSWORD`);
    expect(run.summary).toMatch(/nothing was done[\s\S]*convox registries add/);
    expect(run.all).not.toContain('Pushing ');
    expect(r.requests.some((q) => q.path.includes('/objects/') || q.path.includes('/builds'))).toBe(false);
    expect(r.requests.filter((q) => q.method !== 'GET')).toEqual([]);
    expect(run.all).not.toContain(services.registryPassword);
  });

  it('a rack that reports 3.24.6 but answers 404 to the import: falls back once, and the record says so', async () => {
    const r = await start('3.24.6');
    rackHoldsCredentials(r);
    r.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', status: 404, body: '' });
    const run = await runAction({ inputs: inputs('acme/fb'), env, workspace: workspace('acme/fb') });
    expect(run.code, run.all).toBe(0);
    expect(run.all.split('building from source instead').length - 1).toBe(1);
    expect(run.summary).toMatch(/⏭️ Import .* — skipped: the rack has no import route \(404\): built from source instead/);
    expect(r.requests.some((q) => q.path.includes('/objects/'))).toBe(true);
    expect(r.state.requireApp('shop').release).toBe(run.outputs['release-id']);
  });

  it('promote: false stages the release, not promoted, and says how to promote', async () => {
    const r = await start('3.24.6');
    const before = r.state.requireApp('shop').release;
    const staged = await stage('acme/stage');
    const id = staged.outputs['release-id']!;
    expect(id).toMatch(/^R/);
    expect(r.state.requireApp('shop').release).toBe(before);
    expect(staged.all).toContain(`convox releases promote ${id}`);
  });

  it('release: promotes the staged release and waits, with no image, build or manifest change', async () => {
    const r = await start('3.24.6');
    const id = (await stage('acme/gate')).outputs['release-id']!;
    const before = r.requests.length;
    const promoted = await runAction({
      inputs: {
        app: 'shop',
        'rack-host': r.url,
        'rack-password': RACK_PASSWORD,
        release: id,
        build: 'false',
        update: 'none',
        timeout: '2m',
      },
      env,
      workspace: makeWorkspace({}),
    });
    expect(promoted.code, promoted.all).toBe(0);
    expect(r.state.requireApp('shop').release).toBe(id);
    expect(promoted.outputs['release-id']).toBe(id);
    const calls = r.requests.slice(before).map((q) => `${q.method} ${q.path}`);
    expect(calls).toContain(`POST /apps/shop/releases/${id}/promote`);
    expect(calls.some((c) => /\/builds|\/objects\//.test(c))).toBe(false);
    expect(promoted.summary).toContain(id);
  });
});
