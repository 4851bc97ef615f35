/**
 * deploy() when the network or the rack misbehaves: transient errors on reads are survived,
 * writes that may have landed are never repeated, dropped log sockets lose no lines, a busy
 * app is waited for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, DeployError } from '../../../src/convox/deploy.js';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { directTarget, leakedSecrets, MANIFEST_PINNED, request, tarballFactory } from './harness.js';
import type { TestRequest } from './harness.js';

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  expect(leakedSecrets()).toEqual([]);
});

async function rack(opts: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'shop', manifest: MANIFEST_PINNED, env: 'A=1' }], ...opts });
  return server;
}

async function failing(req: TestRequest): Promise<DeployError> {
  const e = await deploy(req).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof DeployError) return e;
  throw e ?? new Error(`deploy succeeded:\n${req.log.text()}`);
}

const count = (s: RackServer, method: string, path: RegExp): number =>
  s.requests.filter((r) => r.method === method && !r.websocket && path.test(r.path)).length;

describe('transient failures on reads', () => {
  it('5xx answers and resets on reads are retried and logged', async () => {
    const s = await rack();
    s.faults.fail({ method: 'GET', path: '/system', status: 503, times: 2 });
    s.faults.fail({ method: 'GET', path: '/apps/shop/builds/*', status: 502, times: 2 });
    s.faults.fail({ method: 'GET', path: '/apps/shop', reset: true, times: 1 });
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    expect(result.outcome).toBe('deployed');
    expect(count(s, 'GET', /^\/system$/)).toBe(3);
    expect(req.log.lines.filter((l) => l.includes('retrying in')).length).toBeGreaterThanOrEqual(5);
  });

  it('a read that keeps failing ends the deploy with the rack words', async () => {
    const s = await rack();
    s.faults.fail({ method: 'GET', path: '/system', status: 500, body: 'database locked\n', times: Infinity });
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(e.message).toMatch(/could not read the rack version on .*: database locked \(GET \/system answered 500\)/);
    expect(count(s, 'GET', /^\/system$/)).toBe(5);
  });
});

describe('writes are never repeated once they may have landed', () => {
  it('build create whose answer was lost: one POST, a clear failure', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds', reset: true, after: true });
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(count(s, 'POST', /^\/apps\/shop\/builds$/)).toBe(1);
    expect(e.message).toMatch(/could not create the build .* the rack may have acted on it; it was not repeated/);
  });

  it('build create answered 500: not repeated either', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds', status: 500, after: true });
    await failing(await request(directTarget(s.url, s.password)));
    expect(count(s, 'POST', /^\/apps\/shop\/builds$/)).toBe(1);
  });

  it('a promote whose answer was lost is watched, not repeated, and succeeds', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/releases/*/promote', reset: true, after: true });
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    expect(result.outcome).toBe('deployed');
    expect(count(s, 'POST', /\/promote$/)).toBe(1);
    expect(s.state.apps.get('shop')?.release).toBe(result.releaseId);
    expect(req.log.text()).toMatch(/answer to the promote .* was lost; not repeating it/);
  });

  it('a promote lost before it landed is reported as such, not as a rollback', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/releases/*/promote', reset: true });
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(count(s, 'POST', /\/promote$/)).toBe(1);
    expect(e.message).toMatch(/the answer to the promote of R[A-Z]{10} was lost and shop shows no sign of that deploy/);
  });

  it('an env release whose answer was lost is confirmed by reading, not re-created', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/releases', reset: true, after: true });
    const result = await deploy(await request(directTarget(s.url, s.password), { mode: 'env', tag: 'v9' }));
    expect(count(s, 'POST', /^\/apps\/shop\/releases$/)).toBe(1);
    expect(s.state.apps.get('shop')?.releases.find((r) => r.id === result.releaseId)?.env).toBe('A=1\nIMAGE_VERSION=v9');
  });

  it('the source upload is repeated with a fresh stream (same key)', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/objects/**', reset: true });
    const source = await tarballFactory({ 'convox.yml': MANIFEST_PINNED });
    await deploy(await request(directTarget(s.url, s.password), { source: source.source }));
    const uploads = s.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/apps/shop/objects/'));
    expect(uploads).toHaveLength(2);
    expect(uploads[0]?.path).toBe(uploads[1]?.path);
    expect(source.calls()).toBe(2);
  });

  it('an unreachable rack is retried, then named with a fix', async () => {
    const s = await rack();
    const dead = directTarget('http://127.0.0.1:1', s.password);
    const req = await request(dead, { timeoutMs: 5000 });
    const e = await failing(req);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.fix).toMatch(/reachable/);
  });
});

describe('log streams', () => {
  it('a dropped build log socket still completes, and no line is lost or doubled', async () => {
    const s = await rack({ timing: { buildMs: 300 } });
    s.faults.dropSocket('/apps/shop/builds/*/logs', 3);
    s.faults.unicodeLogs = true;
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    const stored = s.state.apps.get('shop')?.objects.get(`build/${result.buildId}/logs`)?.toString('utf8') ?? '';
    const storedLines = stored.split('\n').filter(Boolean);
    expect(storedLines.length).toBeGreaterThan(2);
    const printed = req.log.lines.filter((l) => storedLines.includes(l));
    expect(printed).toEqual(storedLines);
  });

  it('an ERROR: ending the live stream while the build runs: polling goes on, and the stored log fills in without losing a line', async () => {
    const s = await rack({ timing: { buildMs: 300 } });
    s.faults.failSocket('/apps/shop/builds/*/logs', 3, 'log stream interrupted: context canceled');
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    expect(result.outcome).toBe('deployed');
    const text = req.log.text();
    expect(req.log.lines).toContain('ERROR: log stream interrupted: context canceled');
    expect(text).toMatch(
      /the build log stream ended with "ERROR: log stream interrupted: context canceled"; waiting for the status of build B[A-Z]{10}/,
    );
    expect(text).toMatch(/went on after that error, so only the log stream failed/);
    const stored = s.state.apps.get('shop')?.objects.get(`build/${result.buildId}/logs`)?.toString('utf8') ?? '';
    const storedLines = stored.split('\n').filter(Boolean);
    expect(storedLines.length).toBeGreaterThan(2);
    expect(req.log.lines.filter((l) => storedLines.includes(l))).toEqual(storedLines);
  });

  it('an ERROR: on the stream of a build still running is no failure: it runs into the timeout, naming the line', async () => {
    const s = await rack();
    s.faults.stickBuild('hang');
    s.faults.failSocket('/apps/shop/builds/*/logs', 1, 'pod log unavailable');
    const req = await request(directTarget(s.url, s.password), { timeoutMs: 1500 });
    const e = await failing(req);
    expect(e.message).toMatch(
      /^timed out after 2s \(the timeout input\): build B[A-Z]{10} was still running after \d+s?; last log line: ERROR: pod log unavailable$/,
    );
    expect(req.log.text()).toContain('waiting for the status of build');
    // Polled on after the stream ended rather than giving up on it.
    const socketAt = s.requests.find((r) => r.websocket)?.at ?? Infinity;
    expect(
      s.requests.filter((r) => !r.websocket && /^\/apps\/shop\/builds\/B/.test(r.path) && r.at > socketAt + 300).length,
    ).toBeGreaterThan(1);
  });

  it('lines only in the stored log are printed after the build', async () => {
    const s = await rack();
    s.faults.builds.push({ outcome: 'complete', unstreamedLines: 3 });
    const req = await request(directTarget(s.url, s.password));
    await deploy(req);
    expect(req.log.lines.filter((l) => l.startsWith('Stored log line'))).toEqual([
      'Stored log line 1',
      'Stored log line 2',
      'Stored log line 3',
    ]);
  });
});

describe('a busy app', () => {
  it('is waited for before promoting, and the wait is reported', async () => {
    const s = await rack({ timing: { buildMs: 20 } });
    s.faults.appUpdating('shop', 1500);
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    expect(result.outcome).toBe('deployed');
    expect(result.waitedForUpdatingMs).toBeGreaterThan(500);
    expect(req.log.text()).toMatch(/App shop is updating .* waiting for it to finish before promoting/);
    expect(s.requests.filter((r) => r.path.endsWith('/promote')).map((r) => r.status)).toEqual([200]);
  });

  it('someone else updating until the timeout: nothing promoted, and the message says why', async () => {
    const s = await rack({ timing: { buildMs: 20 } });
    s.faults.appUpdating('shop', 60_000);
    const e = await failing(await request(directTarget(s.url, s.password), { timeoutMs: 2500 }));
    expect(e.message).toMatch(
      /timed out after 3s .*: app shop was still updating \(someone else's update\) .*nothing was promoted/,
    );
    expect(count(s, 'POST', /\/promote$/)).toBe(0);
  });

  it('a promote refused with 403 "currently updating" is tried again after waiting (the rack did not act on it)', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/releases/*/promote', status: 403, body: 'app is currently updating\n' });
    const req = await request(directTarget(s.url, s.password));
    const result = await deploy(req);
    expect(s.requests.filter((r) => r.path.endsWith('/promote')).map((r) => r.status)).toEqual([403, 200]);
    expect(s.state.apps.get('shop')?.release).toBe(result.releaseId);
    expect(req.log.text()).toContain('The rack refused the promote: app is currently updating; waiting again');
  });
});

describe('a new app', () => {
  it.each(['manifest', 'env'] as const)('without any release deploys in %s mode', async (mode) => {
    const s = await rack({ apps: [{ name: 'shop' }] });
    const result = await deploy(await request(directTarget(s.url, s.password), { mode, tag: 'v1' }));
    expect(result.previousReleaseId).toBeUndefined();
    const app = s.state.apps.get('shop');
    expect(app?.release).toBe(result.releaseId);
    if (mode === 'env') expect(app?.releases.find((r) => r.id === result.releaseId)?.env).toBe('IMAGE_VERSION=v1');
  });
});
