/**
 * The rack test server's import-image, registries and parameters, held to the rack's own rules:
 * cases ported from convox/convox provider/k8s/build_test.go `TestBuildImportImage` (commit
 * 9e0245260), answered over HTTP as pkg/api/controllers.go answers them. The relay against a
 * real registry (private images, credentials) is in test/e2e/rack-server-import.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, getJson, postForm, waitFor } from './helpers.js';

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rack(opts: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ version: '3.24.6', apps: [{ name: 'web' }], ...opts });
  return server;
}

const ALL_IMAGE = 'services:\n  web:\n    image: acme/web:1\n  worker:\n    build: .\n';

/** External build → PUT manifest, as pkg/cli/builds.go `BuildsImportImage` does. */
async function external(s: RackServer, manifest: string): Promise<string> {
  const created = await postForm(s, '/apps/web/builds', { external: 'true' });
  const b = JSON.parse(created.text) as { id: string; status: string; repository: string };
  expect(b.status).toBe('created');
  expect(b.repository).toBe(`https://convox:${s.password}@api.${s.state.system.domain}/web`);
  const put = await call(s, 'PUT', `/apps/web/builds/${b.id}`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest }).toString(),
  });
  expect(put.status).toBe(200);
  return b.id;
}

const importImage = (s: RackServer, id: string, form: Record<string, string>) =>
  postForm(s, `/apps/web/builds/${id}/image`, form);

describe('POST /apps/{app}/builds/{id}/image', () => {
  it('answers 202 with an empty body, runs, completes without a release; own image: wins (SvcImageOverride)', async () => {
    const s = await rack();
    const id = await external(s, ALL_IMAGE);
    const r = await importImage(s, id, { image: 'acme/given:2' });
    expect(r.status).toBe(202);
    expect(r.body.length).toBe(0);
    expect((await getJson<{ status: string }>(s, `/apps/web/builds/${id}`)).status).toBe('running');
    const done = await waitFor(async () => {
      const b = await getJson<{ status: string; release: string; ended: string }>(s, `/apps/web/builds/${id}`);
      return b.status === 'running' ? undefined : b;
    });
    expect(done).toMatchObject({ status: 'complete', release: '' });
    const objects = s.state.apps.get('web')?.objects;
    expect(objects?.get(`import/${id}/web`)?.toString()).toBe('docker://acme/web:1\n');
    // A service with build: gets the given image (the rack does not refuse it).
    expect(objects?.get(`import/${id}/worker`)?.toString()).toBe('docker://acme/given:2\n');
  });

  it('parses the manifest with an EMPTY env: a required variable is 422 manifest parse failed', async () => {
    const s = await rack({ apps: [{ name: 'web', env: 'NEED=1' }] });
    const id = await external(s, 'services:\n  web:\n    image: acme/web:1\n    environment:\n      - NEED\n');
    const r = await importImage(s, id, { image: 'acme/web:1' });
    expect(r.status).toBe(422);
    expect(r.text).toBe('manifest parse failed: required env: NEED\n');
    // Refused before the flip: the build is untouched and may be retried.
    expect(s.state.apps.get('web')?.builds.find((b) => b.id === id)?.status).toBe('created');
  });

  it('${VAR} in image: becomes empty: unquoted, the YAML breaks (422); quoted, the relay refuses the service', async () => {
    const s = await rack({ apps: [{ name: 'web', env: 'TAG=1' }] });
    const plain = await external(s, 'services:\n  web:\n    image: acme/web:${TAG}\n');
    const broken = await importImage(s, plain, { image: 'acme/web:1' });
    expect([broken.status, broken.text.startsWith('manifest parse failed: yaml: ')]).toEqual([422, true]);
    const id = await external(s, 'services:\n  web:\n    image: "acme/web:${TAG}"\n');
    expect((await importImage(s, id, { image: 'acme/web:1' })).status).toBe(202);
    const done = await waitFor(async () => {
      const b = await getJson<{ status: string; reason: string }>(s, `/apps/web/builds/${id}`);
      return b.status === 'running' ? undefined : b;
    });
    expect(done).toMatchObject({ status: 'failed', reason: 'invalid image ref for service web' });
  });

  it.each([
    ['--help'],
    ['img;rm -rf /'],
    ['img with space'],
    ['a//b:1'],
    ['a@-flag:1'],
    ['a/b:-flag'],
    ['a/-flag/b:1'],
    ['img:'],
    ['img@'],
    ['img/'],
    ['img::tag'],
    ['img@@digest'],
    ['img:@bar'],
    ['img/@bar'],
  ])('422 invalid image ref for %j (InvalidImageRefRejected)', async (bad) => {
    const s = await rack();
    const id = await external(s, ALL_IMAGE);
    const r = await importImage(s, id, { image: bad });
    expect(r.status).toBe(422);
    expect(r.text).toMatch(/^invalid image ref: must start with a letter or digit/);
  });

  it('422 image param required; 422 no manifest; 422 no services', async () => {
    const s = await rack();
    const id = await external(s, ALL_IMAGE);
    expect((await importImage(s, id, {})).text).toBe('image param required\n');
    const bare = JSON.parse((await postForm(s, '/apps/web/builds', { external: 'true' })).text) as { id: string };
    const none = await importImage(s, bare.id, { image: 'a/b:1' });
    expect([none.status, none.text]).toEqual([
      422,
      `build ${bare.id} has no manifest; populate via BuildUpdate before BuildImportImage\n`,
    ]);
    const empty = await external(s, 'services: {}\n');
    expect((await importImage(s, empty, { image: 'a/b:1' })).text).toBe('manifest has no services to relay\n');
  });

  it('409 while the build is importing (RejectsReinvocationWhileRunning)', async () => {
    const s = await rack({ timing: { importMs: 300 } });
    const id = await external(s, ALL_IMAGE);
    expect((await importImage(s, id, { image: 'a/b:1' })).status).toBe(202);
    const again = await importImage(s, id, { image: 'a/b:1' });
    expect([again.status, again.text]).toEqual([409, `build ${id} is already importing; wait for completion before retrying\n`]);
  });

  it('409 beyond 4 imports in flight, and the slot comes back when one ends (ConcurrentImportCap_Returns409)', async () => {
    const s = await rack({ timing: { importMs: 200 } });
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => external(s, 'services:\n  web:\n    image: a/b:1\n')));
    const answers = [];
    for (const id of ids) answers.push((await importImage(s, id, { image: 'a/b:1' })).status);
    expect(answers).toEqual([202, 202, 202, 202, 409]);
    const fifth = s.state.apps.get('web')?.builds.find((b) => b.id === ids[4]);
    expect(fifth?.status).toBe('created');
    await waitFor(async () => (s.state.importsInFlight === 0 ? true : undefined));
    expect((await importImage(s, ids[4] ?? '', { image: 'a/b:1' })).status).toBe(202);
  });

  it('JSON error body for a client that asks (v3 ≥ 3.24.1)', async () => {
    const s = await rack();
    const id = await external(s, ALL_IMAGE);
    const r = await postForm(s, `/apps/web/builds/${id}/image`, { image: 'img:' }, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(422);
    expect(JSON.parse(r.text)).toEqual({ error: expect.stringMatching(/^invalid image ref/) as unknown });
  });

  it.each([['3.24.5'], ['3.18.8'], ['20260418101514']])('%s: no such route, an empty 404', async (version) => {
    const s = await rack({ version });
    const r = await importImage(s, 'BABCDEFGHIJ', { image: 'a/b:1' });
    expect([r.status, r.text, r.headers['request-id']]).toEqual([404, '', undefined]);
  });
});

describe('registries and parameters', () => {
  it('add, list (sorted, passwords in clear), remove, 404 for an unknown server', async () => {
    const s = await rack({ registry: { host: 'zz.example.com', username: 'u1', password: 'p1' } });
    const added = await postForm(s, '/registries', { server: 'aa.example.com', username: 'u2', password: 'p2' });
    expect(JSON.parse(added.text)).toEqual({ server: 'aa.example.com', username: 'u2', password: 'p2' });
    expect(await getJson(s, '/registries')).toEqual([
      { server: 'aa.example.com', username: 'u2', password: 'p2' },
      { server: 'zz.example.com', username: 'u1', password: 'p1' },
    ]);
    expect((await call(s, 'DELETE', '/registries/aa.example.com')).text).toBe('ok\n');
    const gone = await call(s, 'DELETE', '/registries/aa.example.com');
    expect([gone.status, gone.text]).toEqual([404, 'no such registry: aa.example.com\n']);
  });

  it('v3 GET /system carries no parameters; v2 does; a Console shows them in GET /racks/{name}', async () => {
    const parameters = { docker_hub_username: 'acme', docker_hub_password: 'dckr_pat_x' };
    const v3 = await rack({ parameters });
    expect(await getJson(v3, '/system')).not.toHaveProperty('parameters');
    await v3.close();
    const v2 = await rack({ version: '20260418101514', parameters });
    expect((await getJson<{ parameters: unknown }>(v2, '/system')).parameters).toEqual(parameters);
    await v2.close();
    const c = await rack({ parameters, console: { racks: ['acme/prod'], passwords: ['key'] } });
    const record = await getJson<{ parameters: unknown }>(c, '/racks/acme/prod', { password: 'key' });
    expect(record.parameters).toEqual(parameters);
    const denied = await startRackServer({ console: { racks: ['acme/prod'], deployKeys: ['dk'] } });
    try {
      expect((await call(denied, 'GET', '/registries', { password: 'dk', headers: { rack: 'acme/prod' } })).status).toBe(403);
    } finally {
      await denied.close();
    }
  });
});
