import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, createBuild, getJson, IMAGE_MANIFEST, postForm, readSocket, sleep, waitFor } from './helpers.js';

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

async function statuses(s: RackServer, until: (a: App) => boolean): Promise<App[]> {
  const seen: App[] = [];
  await waitFor(async () => {
    const a = await getJson<App>(s, '/apps/web');
    const last = seen.at(-1);
    if (!last || last.status !== a.status || last.release !== a.release) seen.push({ status: a.status, release: a.release });
    return until(a) && seen.length > 1;
  });
  return seen;
}

async function promoteNew(s: RackServer): Promise<string> {
  const r = await postForm(s, '/apps/web/releases', { env: 'IMAGE=a:2' });
  const id = (JSON.parse(r.text) as { id: string }).id;
  expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`)).status).toBe(200);
  return id;
}

describe('request faults', () => {
  it('fails the next N matching requests with a status and body, then lets them through', async () => {
    const s = await start();
    const f = s.faults.fail({ method: 'GET', path: '/apps/*', status: 503, body: 'upstream busy\n', times: 2 });
    expect((await call(s, 'GET', '/apps/web')).text).toBe('upstream busy\n');
    expect((await call(s, 'GET', '/apps/web')).status).toBe(503);
    expect((await call(s, 'GET', '/apps/web')).status).toBe(200);
    expect((await call(s, 'GET', '/apps/web/releases')).status).toBe(200);
    expect([f.hits, f.remaining]).toEqual([2, 0]);
    expect(s.requests.slice(-4).map((r) => r.status)).toEqual([503, 503, 200, 200]);
  });

  it('reset before the handler: connection error and no write', async () => {
    const s = await start();
    s.faults.fail({ method: 'POST', path: '/apps/web/releases', reset: true });
    await expect(postForm(s, '/apps/web/releases', { env: 'X=1' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(s.state.apps.get('web')?.releases).toHaveLength(1);
    expect(s.requests.at(-1)?.status).toBe(0);
  });

  it('reset after the handler: the write landed but the answer was lost', async () => {
    const s = await start();
    s.faults.fail({ method: 'POST', path: '/apps/web/releases', reset: true, after: true });
    await expect(postForm(s, '/apps/web/releases', { env: 'X=1' })).rejects.toThrow();
    expect(s.state.apps.get('web')?.releases).toHaveLength(2);
  });

  it('status after the handler: a 502 for a promote that did start', async () => {
    const s = await start({ timing: { statusLagMs: 1, promoteMs: 10 } });
    const r = await postForm(s, '/apps/web/releases', { env: 'IMAGE=a:2' });
    const id = (JSON.parse(r.text) as { id: string }).id;
    s.faults.fail({ path: '/apps/web/releases/*/promote', status: 502, after: true });
    expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`)).status).toBe(502);
    await waitFor(() => s.state.apps.get('web')?.release === id);
  });

  it('slows matching answers down', async () => {
    const s = await start();
    s.faults.slow('GET', '/system', 80, 1);
    const t0 = Date.now();
    expect((await call(s, 'GET', '/system')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
  });

  it('patterns: `**` spans segments, RegExps work, methods filter', async () => {
    const s = await start();
    s.faults.fail({ path: '/apps/**', status: 500 });
    s.faults.fail({ method: 'POST', path: /^\/system$/, status: 500 });
    expect((await call(s, 'GET', '/apps/web/releases')).status).toBe(500);
    expect((await call(s, 'GET', '/system')).status).toBe(200);
  });
});

describe('build faults', () => {
  it('a stuck build stays `running`; its stream ends with EOF (pod gone)', async () => {
    const s = await start({ timing: { buildMs: 20 } });
    s.faults.stickBuild();
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(res.end).toBe('eof');
    await sleep(60);
    expect((await getJson<{ status: string }>(s, `/apps/web/builds/${b.id}`)).status).toBe('running');
  });

  it('a stuck build with a hanging stream never sends EOF', async () => {
    const s = await start({ timing: { buildMs: 10 } });
    s.faults.stickBuild('hang');
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const result = await Promise.race([readSocket(s, `/apps/web/builds/${b.id}/logs`), sleep(150).then(() => 'timeout')]);
    expect(result).toBe('timeout');
  });

  it('a failing build ends its log with `ERROR: <message>` and has no release', async () => {
    const s = await start();
    s.faults.failBuild('exit status 1', 'web');
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(res.text.endsWith('ERROR: exit status 1\n')).toBe(true);
    const done = await waitFor(async () => {
      const x = await getJson<{ status: string; release: string }>(s, `/apps/web/builds/${b.id}`);
      return x.status === 'failed' ? x : undefined;
    });
    expect(done.release).toBe('');
  });

  it('unstreamed lines: the stored log holds more than the live stream', async () => {
    const s = await start();
    s.faults.builds.push({ outcome: 'complete', unstreamedLines: 2 });
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const live = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    await waitFor(async () => (await getJson<{ status: string }>(s, `/apps/web/builds/${b.id}`)).status === 'complete');
    const stored = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(stored.text.startsWith(live.text)).toBe(true);
    expect(stored.text.slice(live.text.length)).toBe('Stored log line 1\nStored log line 2\n');
  });

  it('unicode logs: frames cut through UTF-8 sequences; the joined bytes are whole', async () => {
    const s = await start();
    s.faults.unicodeLogs = true;
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    const broken = res.frames.filter((f) => !f.binary && Buffer.from(f.data.toString('utf8')).compare(f.data) !== 0);
    expect(broken.length).toBeGreaterThan(0);
    expect(res.text).toContain('✓');
    expect(res.text).not.toContain('\uFFFD');
  });
});

describe('deployment faults', () => {
  it('the app is already updating for N ms: promote is refused until it is running', async () => {
    const s = await start();
    s.faults.appUpdating('web', 60);
    const r = await postForm(s, '/apps/web/releases', { env: 'IMAGE=a:2' });
    const id = (JSON.parse(r.text) as { id: string }).id;
    expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`)).status).toBe(403);
    await waitFor(async () => (await getJson<App>(s, '/apps/web')).status === 'running');
    expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`)).status).toBe(200);
  });

  it('rollback: updating → rollback → running with the previous release', async () => {
    const s = await start({ timing: { statusLagMs: 50, promoteMs: 80, rollbackMs: 80 } });
    const old = s.state.apps.get('web')?.release ?? '';
    s.faults.nextPromote('rollback');
    const id = await promoteNew(s);
    const seen = await statuses(s, (a) => a.status === 'running' && a.release === old);
    expect(seen.map((a) => a.status)).toEqual(['running', 'updating', 'rollback', 'running']);
    expect(seen[1]?.release).toBe(id);
  });

  it('fast rollback: never shows `rollback`, only the old release at the end', async () => {
    const s = await start({ timing: { statusLagMs: 50, promoteMs: 80 } });
    const old = s.state.apps.get('web')?.release ?? '';
    s.faults.nextPromote('fast-rollback');
    const id = await promoteNew(s);
    const seen = await statuses(s, (a) => a.status === 'running' && a.release === old);
    expect(seen).toEqual([
      { status: 'running', release: old },
      { status: 'updating', release: id },
      { status: 'running', release: old },
    ]);
  });

  it('v2 failed: updating → rollback → failed for good', async () => {
    const s = await start({ version: '20260418101514', timing: { statusLagMs: 50, promoteMs: 80, rollbackMs: 80 } });
    const old = s.state.apps.get('web')?.release ?? '';
    s.faults.nextPromote('failed');
    await promoteNew(s);
    const seen = await statuses(s, (a) => a.status === 'failed');
    expect(seen.map((a) => a.status)).toEqual(['running', 'updating', 'rollback', 'failed']);
    expect(seen.at(-1)?.release).toBe(old);
    await sleep(40);
    expect((await getJson<App>(s, '/apps/web')).status).toBe('failed');
  });

  it('superseded: someone else promotes a newer release mid-deploy', async () => {
    const s = await start({ timing: { statusLagMs: 1, promoteMs: 30 } });
    s.faults.nextPromote('superseded');
    const id = await promoteNew(s);
    await sleep(80);
    const app = await getJson<App>(s, '/apps/web');
    expect(app.status).toBe('running');
    expect(app.release).not.toBe(id);
    const theirs = await getJson<{ description: string }>(s, `/apps/web/releases/${app.release}`);
    expect(theirs.description).toBe('promoted by someone else');
  });

  it('a socket that drops mid-log: no EOF frame, connection gone', async () => {
    const s = await start();
    s.faults.dropSocket('/apps/web/builds/*/logs', 3);
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(res.end).toBe('closed');
    expect(res.frames).toHaveLength(3);
    expect(res.frames.every((f) => !f.binary)).toBe(true);
  });
});
