import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, createBuild, getJson, IMAGE_MANIFEST, postForm, waitFor } from './helpers.js';

let server: RackServer | undefined;
async function start(o: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'web', env: 'A=1\nB=2', manifest: IMAGE_MANIFEST }], ...o });
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Release = Record<string, string>;

async function create(s: RackServer, form: Record<string, string>): Promise<Release> {
  const r = await postForm(s, '/apps/web/releases', form);
  expect(r.status).toBe(200);
  return JSON.parse(r.text) as Release;
}

describe('releases', () => {
  it('v3 list items include env; newest first; ?limit', async () => {
    const s = await start();
    const r2 = await create(s, { env: 'A=1\nB=3' });
    const list = await getJson<Release[]>(s, '/apps/web/releases');
    expect(list.map((r) => r.id)).toEqual([r2.id, s.state.apps.get('web')?.releases[0]?.id]);
    expect(list[0]?.env).toBe('A=1\nB=3');
    expect(Object.keys(list[0] ?? {})).toEqual(['id', 'app', 'build', 'env', 'manifest', 'description', 'created']);
    expect(await getJson<Release[]>(s, '/apps/web/releases?limit=1')).toHaveLength(1);
  });

  it('v2 list items have an empty env; get has it', async () => {
    const s = await start({ version: '20260418101514' });
    const [item] = await getJson<Release[]>(s, '/apps/web/releases?limit=1');
    expect(item?.env).toBe('');
    expect((await getJson<Release>(s, `/apps/web/releases/${item?.id}`)).env).toBe('A=1\nB=2');
  });

  it('env create forks the newest release: build and manifest kept, description lists the diff', async () => {
    const s = await start();
    const base = s.state.apps.get('web')?.releases[0];
    const r = await create(s, { env: 'A=1\nB=9\nC=3' });
    expect(r).toMatchObject({
      build: base?.build,
      manifest: IMAGE_MANIFEST,
      env: 'A=1\nB=9\nC=3',
      description: 'env add:C change:B',
    });
    const r2 = await create(s, { env: 'C=3' });
    expect(r2.description).toBe('env remove:A remove:B');
  });

  it('a present but empty `env` clears the env (stdapi counts present parameters)', async () => {
    const s = await start();
    const r = await create(s, { env: '' });
    expect([r.env, r.description]).toEqual(['', 'env remove:A remove:B']);
  });

  it('without a build, a fork has an empty manifest and description', async () => {
    const s = await start({ apps: [{ name: 'web', env: 'A=1' }] });
    const r = await create(s, { env: 'A=1' });
    expect([r.manifest, r.description, r.build]).toEqual(['', '', '']);
  });

  it('v3: an env write without changes keeps the forked description; v2 says `env ` anyway', async () => {
    const s = await start();
    expect((await create(s, { env: 'A=1\nB=2' })).description).toBe('seed build');
    await s.close();
    const v2 = await start({ version: '20260418101514' });
    expect((await create(v2, { env: 'A=1\nB=2' })).description).toBe('env ');
  });

  it('forks the newest release by creation time, not the active one', async () => {
    const s = await start();
    const unpromoted = await create(s, { env: 'A=new' });
    const b = await createBuild(s, 'web', { 'convox.yml': 'services:\n  web:\n    image: x:${A}\n' });
    const done = await waitFor(async () => {
      const x = await getJson<Record<string, string>>(s, `/apps/web/builds/${b.id}`);
      return x.status === 'complete' ? x : undefined;
    });
    const rel = await getJson<Release>(s, `/apps/web/releases/${done.release}`);
    expect(rel.env).toBe(unpromoted.env);
    expect(s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString()).toContain('docker pull x:new');
  });

  it('`build` sets build, manifest and description from that build; `description` wins over all', async () => {
    const s = await start();
    const b = s.state.addBuild(s.state.apps.get('web')!, {
      status: 'complete',
      manifest: 'services: {}\n',
      description: 'from build',
    });
    expect(await create(s, { build: b.id })).toMatchObject({
      build: b.id,
      manifest: 'services: {}\n',
      description: 'from build',
      env: 'A=1\nB=2',
    });
    expect((await create(s, { build: b.id, env: 'Z=1', description: 'mine' })).description).toBe('mine');
  });

  it('v3 `parent-release` forks that release instead of the newest', async () => {
    const s = await start();
    const first = s.state.apps.get('web')?.releases[0];
    await create(s, { env: 'X=1' });
    const r = await create(s, { 'parent-release': first?.id ?? '', description: 'again' });
    expect(r.env).toBe('A=1\nB=2');
    const missing = await postForm(s, '/apps/web/releases', { 'parent-release': 'RNOPE' });
    expect([missing.status, missing.text]).toEqual([500, 'releases.convox.com "rnope" not found\n']);
  });

  it('an env-only first release has no build and an empty manifest', async () => {
    const s = await start({ apps: [{ name: 'fresh', env: 'A=1' }] });
    const [r] = await getJson<Release[]>(s, '/apps/fresh/releases');
    expect(r).toMatchObject({ build: '', manifest: '', env: 'A=1' });
    expect((await getJson<{ release: string }>(s, '/apps/fresh')).release).toBe('');
  });

  it('release get: 404 on v2 for unknown ids, v3 Kubernetes 500', async () => {
    const s = await start({ version: '20260418101514' });
    const r = await call(s, 'GET', '/apps/web/releases/RNOPE');
    expect([r.status, r.text]).toEqual([404, 'release not found: RNOPE\n']);
  });
});
