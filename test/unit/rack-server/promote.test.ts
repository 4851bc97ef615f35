import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, getJson, IMAGE_MANIFEST, postForm, readSocket, sleep, waitFor } from './helpers.js';

let server: RackServer | undefined;
async function start(o: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'web', env: 'IMAGE=a:1', manifest: IMAGE_MANIFEST }], ...o });
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type App = { status: string; release: string };

async function newRelease(s: RackServer, env = 'IMAGE=a:2'): Promise<string> {
  const r = await postForm(s, '/apps/web/releases', { env });
  return (JSON.parse(r.text) as { id: string }).id;
}

/** Poll the app every 2 ms until `until` holds; distinct (status, release) states with times. */
async function watch(s: RackServer, until: (a: App) => boolean): Promise<{ at: number; app: App }[]> {
  const t0 = Date.now();
  const seen: { at: number; app: App }[] = [];
  await waitFor(async () => {
    const app = await getJson<App>(s, '/apps/web');
    const last = seen.at(-1)?.app;
    if (!last || last.status !== app.status || last.release !== app.release) seen.push({ at: Date.now() - t0, app });
    return until(app) && seen.length > 1;
  });
  return seen;
}

describe('promote validation', () => {
  it('403 `app is currently updating` unless force=true', async () => {
    const s = await start();
    const id = await newRelease(s);
    s.state.apps.get('web')!.status = 'updating';
    const r = await postForm(s, `/apps/web/releases/${id}/promote`, { force: 'false' });
    expect([r.status, r.text]).toEqual([403, 'app is currently updating\n']);
    const forced = await postForm(s, `/apps/web/releases/${id}/promote`, { force: 'true' });
    expect([forced.status, forced.text, forced.headers['content-type']]).toEqual([200, 'ok\n', 'text/plain; charset=utf-8']);
  });

  it.each([
    ['3.24.9', 400],
    ['20260418101514', 500],
  ])('%s: an older release → %i `can not promote an older release, try rollback`', async (version, status) => {
    const s = await start({ version });
    const older = await newRelease(s, 'IMAGE=a:old');
    const newer = await newRelease(s, 'IMAGE=a:new');
    expect((await call(s, 'POST', `/apps/web/releases/${newer}/promote`)).status).toBe(200);
    await waitFor(async () => {
      const a = await getJson<App>(s, '/apps/web');
      return a.status === 'running' && a.release === newer;
    });
    const r = await call(s, 'POST', `/apps/web/releases/${older}/promote`);
    expect([r.status, r.text]).toEqual([status, 'can not promote an older release, try rollback\n']);
  });

  it.each([
    ['3.24.9', 400],
    ['20260418101514', 500],
  ])('%s: an empty manifest → %i', async (version, status) => {
    const s = await start({ version, apps: [{ name: 'web', env: 'A=1' }] });
    const [r] = await getJson<{ id: string }[]>(s, '/apps/web/releases');
    const p = await call(s, 'POST', `/apps/web/releases/${r?.id}/promote`);
    expect([p.status, p.text]).toEqual([status, 'can not promote a release with an empty manifest\n']);
  });

  it('re-checks required env with the release env: 500 `required env: …`', async () => {
    const s = await start({
      apps: [{ name: 'web', env: 'NEED=1', manifest: 'services:\n  web:\n    image: x\n    environment:\n      - NEED\n' }],
    });
    const id = await newRelease(s, 'OTHER=1');
    const p = await call(s, 'POST', `/apps/web/releases/${id}/promote`);
    expect([p.status, p.text]).toEqual([500, 'required env: NEED\n']);
  });

  it('404 for an unknown app, Kubernetes 500 for an unknown release on v3', async () => {
    const s = await start();
    expect((await call(s, 'POST', '/apps/nope/releases/R/promote')).status).toBe(404);
    const r = await call(s, 'POST', '/apps/web/releases/RABC/promote');
    expect([r.status, r.text]).toEqual([500, 'releases.convox.com "rabc" not found\n']);
  });
});

describe('status after promote', () => {
  it('running (lag) → updating with the new release → running', async () => {
    const s = await start({ timing: { statusLagMs: 40, promoteMs: 100 } });
    const old = s.state.apps.get('web')?.release;
    const id = await newRelease(s);
    const t0 = Date.now();
    expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`)).text).toBe('ok\n');
    const watchStart = Date.now();
    const seen = await watch(s, (a) => a.status === 'running' && a.release === id);
    expect(seen.map((x) => x.app)).toEqual([
      { ...seen[0]?.app, status: 'running', release: old },
      { ...seen[1]?.app, status: 'updating', release: id },
      { ...seen[2]?.app, status: 'running', release: id },
    ]);
    // `updating` cannot show before the lag has passed since the promote was sent.
    expect((seen[1]?.at ?? 0) + (watchStart - t0)).toBeGreaterThanOrEqual(38);
  });

  it('promoteCallMs: the promote request itself is slow, status stays `running` meanwhile', async () => {
    const s = await start({ timing: { promoteCallMs: 60, statusLagMs: 1 } });
    const id = await newRelease(s);
    const t0 = Date.now();
    const pending = call(s, 'POST', `/apps/web/releases/${id}/promote`);
    await sleep(30);
    expect((await getJson<App>(s, '/apps/web')).status).toBe('running');
    expect((await pending).text).toBe('ok\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('the app logs socket shows system/ events during the update, then EOF', async () => {
    const s = await start({ timing: { statusLagMs: 10, promoteMs: 60, logIdleMs: 40 } });
    const id = await newRelease(s);
    await call(s, 'POST', `/apps/web/releases/${id}/promote`);
    const res = await readSocket(s, '/apps/web/logs', { Prefix: 'true', Since: '5s' });
    expect(res.end).toBe('eof');
    const lines = res.text.trim().split('\n');
    const system = lines.filter((l) => l.split(' ')[1]?.startsWith('system/'));
    expect(system.some((l) => l.includes('Updating'))).toBe(true);
    expect(system.at(-1)).toContain('Running');
    expect(lines.some((l) => l.split(' ')[1]?.startsWith('service/'))).toBe(true);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /);
  });

  it('app logs without Prefix show bare messages; Follow=false ends after the backlog', async () => {
    const s = await start({ timing: { statusLagMs: 1, promoteMs: 5 } });
    const id = await newRelease(s);
    await call(s, 'POST', `/apps/web/releases/${id}/promote`);
    await waitFor(async () => {
      const a = await getJson<App>(s, '/apps/web');
      return a.status === 'running' && a.release === id;
    });
    const res = await readSocket(s, '/apps/web/logs', { Follow: 'false' });
    expect(res.text.split('\n')[0]).toMatch(/^Status: /);
    const filtered = await readSocket(s, '/apps/web/logs', { Follow: 'false', Filter: 'starting' });
    expect(filtered.text.trim().split('\n')).toHaveLength(1);
  });

  it('cancel: 403 when not updating; otherwise rollback then running with the previous release', async () => {
    const s = await start({ timing: { statusLagMs: 1, promoteMs: 500, rollbackMs: 80 } });
    const old = s.state.apps.get('web')?.release;
    const c = await call(s, 'POST', '/apps/web/cancel');
    expect([c.status, c.text]).toEqual([403, 'app is not updating\n']);
    const id = await newRelease(s);
    await call(s, 'POST', `/apps/web/releases/${id}/promote`);
    await waitFor(() => s.state.apps.get('web')?.status === 'updating');
    expect((await call(s, 'POST', '/apps/web/cancel')).text).toBe('ok\n');
    const seen = await watch(s, (a) => a.status === 'running');
    expect(seen.map((x) => x.app.status)).toEqual(['rollback', 'running']);
    expect(seen.at(-1)?.app.release).toBe(old);
  });

  it('processes list the active release per service, and the new one while deploying', async () => {
    const s = await start({ timing: { statusLagMs: 1, promoteMs: 200 } });
    const active = s.state.apps.get('web')?.release;
    const ps = await getJson<{ name: string; release: string; status: string }[]>(s, '/apps/web/processes');
    expect(ps.map((p) => [p.name, p.release, p.status])).toEqual([['web', active, 'running']]);
    const id = await newRelease(s);
    await call(s, 'POST', `/apps/web/releases/${id}/promote`);
    await sleep(20);
    const during = await getJson<{ release: string; status: string }[]>(s, '/apps/web/processes');
    expect(during.some((p) => p.release === id)).toBe(true);
  });
});
