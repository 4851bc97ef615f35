import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, createBuild, getJson, IMAGE_MANIFEST, postForm, readSocket, waitFor } from './helpers.js';

let server: RackServer | undefined;
async function start(o: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'web', env: 'IMAGE=repo/web:1\nKEEP=yes', manifest: IMAGE_MANIFEST }], ...o });
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Build = Record<string, string>;

async function finished(s: RackServer, id: string): Promise<Build> {
  return waitFor(async () => {
    const b = await getJson<Build>(s, `/apps/web/builds/${id}`);
    return b.status === 'complete' || b.status === 'failed' ? b : undefined;
  });
}

describe('build create and outcome', () => {
  it('v3: answers `running` with a process, then completes with a release forked from the newest env', async () => {
    const s = await start();
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST }, { description: 'ci build', 'git-sha': 'abc123' });
    expect(b.status).toBe('running');
    expect(b.process).toMatch(/^build-/);
    expect(b.id).toMatch(/^B[A-Z]{10}$/);
    expect(Object.keys(b)).toEqual([
      'id',
      'app',
      'description',
      'entrypoint',
      'git-sha',
      'logs',
      'manifest',
      'process',
      'release',
      'reason',
      'repository',
      'status',
      'started',
      'ended',
    ]);
    expect([b.release, b.ended]).toEqual(['', '0001-01-01T00:00:00Z']);
    const done = await finished(s, b.id ?? '');
    expect(done.status).toBe('complete');
    expect(done.release).toMatch(/^R[A-Z]{10}$/);
    expect(done.manifest).toBe(IMAGE_MANIFEST);
    expect(done.logs).toBe(`object://web/build/${b.id}/logs`);
    expect(done['git-sha']).toBe('abc123');
    const rel = await getJson<Record<string, string>>(s, `/apps/web/releases/${done.release}`);
    expect(rel).toMatchObject({
      build: b.id,
      env: 'IMAGE=repo/web:1\nKEEP=yes',
      manifest: IMAGE_MANIFEST,
      description: 'ci build',
    });
    expect((await getJson<{ release: string }>(s, '/apps/web')).release).not.toBe(done.release);
  });

  it('v2: answers `created`, the stored record turns `running`, then `complete`', async () => {
    const s = await start({ version: '20260418101514', timing: { buildMs: 80 } });
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    expect(b.status).toBe('created');
    expect(Object.keys(b)).toContain('wildcard-domain');
    expect(Object.keys(b)).not.toContain('repository');
    await waitFor(async () => (await getJson<Build>(s, `/apps/web/builds/${b.id}`)).status === 'running');
    expect((await finished(s, b.id ?? '')).status).toBe('complete');
  });

  it('v2: build create can take a while (buildCreateMs) and still answers `created`', async () => {
    const s = await start({ version: '20260418101514', timing: { buildCreateMs: 60, buildMs: 20 } });
    const t0 = Date.now();
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(b.status).toBe('created');
  });

  it('interpolates ${VAR} from the newest release env with build-args laid over, storing the raw text', async () => {
    const s = await start();
    await postForm(s, '/apps/web/releases', { env: 'IMAGE=repo/web:2\nKEEP=yes' });
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST }, { 'build-args': 'X=1,IMAGE=repo/web:3' });
    const done = await finished(s, b.id ?? '');
    const log = s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString() ?? '';
    expect(log).toContain('Running: docker pull repo/web:3');
    expect(done.manifest).toContain('${IMAGE}');
    const rel = await getJson<Record<string, string>>(s, `/apps/web/releases/${done.release}`);
    expect(rel.env).toBe('IMAGE=repo/web:2\nKEEP=yes');
  });

  it('unknown ${VAR} becomes empty; `$VAR` is left alone', async () => {
    const s = await start();
    const manifest = 'services:\n  web:\n    image: repo/web:${NOPE}x\n    command: echo $KEEP\n';
    const b = await createBuild(s, 'web', { 'convox.yml': manifest });
    await finished(s, b.id ?? '');
    expect(s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString()).toContain('docker pull repo/web:x');
  });

  it('fails `required env: A, B` (sorted) when environment entries are missing', async () => {
    const s = await start();
    const manifest =
      'environment:\n  - ZED\nservices:\n  web:\n    image: x/y:1\n    environment:\n      - ALPHA\n      - OPT=default\n';
    const b = await createBuild(s, 'web', { 'convox.yml': manifest });
    const done = await finished(s, b.id ?? '');
    expect([done.status, done.release]).toEqual(['failed', '']);
    const log = s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString() ?? '';
    expect(log.endsWith('ERROR: required env: ALPHA, ZED\n')).toBe(true);
  });

  it('build-args satisfy required env at build time', async () => {
    const s = await start();
    const manifest = 'services:\n  web:\n    image: x/y:1\n    environment:\n      - ALPHA\n';
    const b = await createBuild(s, 'web', { 'convox.yml': manifest }, { 'build-args': 'ALPHA=1' });
    expect((await finished(s, b.id ?? '')).status).toBe('complete');
  });

  it('reads the manifest named by `manifest`, and fails when it is absent', async () => {
    const s = await start();
    const ok = await createBuild(s, 'web', { './deploy/prod.yml': IMAGE_MANIFEST }, { manifest: 'deploy/prod.yml' });
    expect((await finished(s, ok.id ?? '')).status).toBe('complete');
    const bad = await createBuild(s, 'web', { 'other.yml': IMAGE_MANIFEST });
    const done = await finished(s, bad.id ?? '');
    expect(done.status).toBe('failed');
    expect(s.state.apps.get('web')?.objects.get(`build/${bad.id}/logs`)?.toString()).toMatch(
      /ERROR: open convox\.yml: no such file or directory\n$/,
    );
  });

  it('builds Dockerfile services when the Dockerfile is in the tarball', async () => {
    const s = await start();
    const manifest = 'services:\n  api:\n    build: ./api\n';
    const ok = await createBuild(s, 'web', { 'convox.yml': manifest, 'api/Dockerfile': 'FROM scratch\nCOPY . .\n' });
    expect((await finished(s, ok.id ?? '')).status).toBe('complete');
    const bad = await createBuild(s, 'web', { 'convox.yml': manifest });
    expect((await finished(s, bad.id ?? '')).status).toBe('failed');
  });

  it('an object stored with a form content type is empty, and the build fails', async () => {
    const s = await start();
    await call(s, 'POST', '/apps/web/objects/src.tgz', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x',
    });
    const r = await postForm(s, '/apps/web/builds', { url: 'object://web/src.tgz' });
    const done = await finished(s, (JSON.parse(r.text) as Build).id ?? '');
    expect(done.status).toBe('failed');
  });

  it('lists builds newest first with ?limit (default 10)', async () => {
    const s = await start({ timing: { buildMs: 5 } });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST })).id ?? '');
    const all = await getJson<Build[]>(s, '/apps/web/builds');
    expect(all).toHaveLength(10);
    expect(all[0]?.id).toBe(ids[11]);
    const two = await getJson<Build[]>(s, '/apps/web/builds?limit=2');
    expect(two.map((b) => b.id)).toEqual([ids[11], ids[10]]);
  });

  it('v3 looks ids up case-insensitively (errors as Kubernetes would), v2 exactly', async () => {
    const s = await start();
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    expect((await getJson<Build>(s, `/apps/web/builds/${b.id?.toLowerCase()}`)).id).toBe(b.id);
    const missing = await call(s, 'GET', '/apps/web/builds/BNOPE');
    expect([missing.status, missing.text]).toEqual([500, 'builds.convox.com "bnope" not found\n']);
    await s.close();
    const v2 = await start({ version: '20260418101514' });
    const b2 = await createBuild(v2, 'web', { 'convox.yml': IMAGE_MANIFEST });
    const r = await call(v2, 'GET', `/apps/web/builds/${b2.id?.toLowerCase()}`);
    expect(r.status).toBe(404);
  });

  it('PUT updates a build as build pods do', async () => {
    const s = await start();
    const ext = await postForm(s, '/apps/web/builds', { external: 'true' });
    const b = JSON.parse(ext.text) as Build;
    expect(b.status).toBe('created');
    expect(b.repository).toBe(`https://convox:rack-pass@api.rack.example.convox.cloud/web`);
    const put = await call(s, 'PUT', `/apps/web/builds/${b.id}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ manifest: 'services: {}\n', ended: '20260102.030405.000000007' }).toString(),
    });
    expect(JSON.parse(put.text)).toMatchObject({ manifest: 'services: {}\n', ended: '2026-01-02T03:04:05.000000007Z' });
  });
});

describe('build logs socket', () => {
  it('streams text frames that split lines, ends with an empty binary frame, and does not close', async () => {
    const s = await start({ timing: { statusFlipMs: 60 } });
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    let statusAtEof = '';
    const res = await readSocket(
      s,
      `/apps/web/builds/${b.id}/logs`,
      {},
      {
        settleMs: 20,
        onFrame: (f) => {
          if (f.binary) statusAtEof = s.state.apps.get('web')?.builds.find((x) => x.id === b.id)?.status ?? '';
        },
      },
    );
    expect(res.end).toBe('eof');
    expect(res.serverClosedAfterEof).toBe(false);
    const data = res.frames.slice(0, -1);
    expect(data.every((f) => !f.binary)).toBe(true);
    expect(data.some((f) => !f.data.toString().endsWith('\n'))).toBe(true);
    expect(res.frames.at(-1)).toEqual({ binary: true, data: Buffer.alloc(0) });
    // By design the stream ends a moment before the status flips.
    expect(statusAtEof).toBe('running');
    const done = await finished(s, b.id ?? '');
    expect(res.text).toBe(s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString());
    expect(done.status).toBe('complete');
  });

  it('replays the stored log of a finished build', async () => {
    const s = await start();
    const b = await createBuild(s, 'web', { 'convox.yml': IMAGE_MANIFEST });
    await finished(s, b.id ?? '');
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(res.text).toContain('Running: docker pull repo/web:1');
    expect(res.end).toBe('eof');
  });

  it('a failing build streams its `ERROR:` line, then EOF', async () => {
    const s = await start();
    const b = await createBuild(s, 'web', { 'convox.yml': 'services:\n  web:\n    image: x\n    environment:\n      - NEED\n' });
    const res = await readSocket(s, `/apps/web/builds/${b.id}/logs`);
    expect(res.text.endsWith('ERROR: required env: NEED\n')).toBe(true);
  });

  it('an unknown build gives an `ERROR:` frame after the upgrade, then EOF', async () => {
    const s = await start();
    const res = await readSocket(s, '/apps/web/builds/BXXXXXXXXXX/logs');
    expect(res.frames.map((f) => [f.binary, f.data.toString()])).toEqual([
      [false, 'ERROR: builds.convox.com "bxxxxxxxxxx" not found\n'],
      [true, ''],
    ]);
    expect(s.requests.at(-1)).toMatchObject({ websocket: true, status: 101, method: 'GET' });
  });

  it('bad credentials are reported after the upgrade as an `ERROR:` frame', async () => {
    const s = await start();
    const res = await readSocket(s, '/apps/web/builds/B/logs', {}, { password: 'nope' });
    expect(res.text).toBe('ERROR: invalid authentication\n');
    expect(res.end).toBe('eof');
  });

  it('refuses a foreign Origin before upgrading', async () => {
    const s = await start();
    const err = await readSocket(s, '/apps/web/builds/B/logs', { origin: 'https://evil.example' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 403,
      body: 'Forbidden\nERROR: websocket: request origin not allowed by Upgrader.CheckOrigin\n',
    });
    const host = new URL(s.url).host;
    const ok = await readSocket(s, '/apps/web/builds/BXXXXXXXXXX/logs', { origin: `https://${host}` });
    expect(ok.end).toBe('eof');
  });
});
