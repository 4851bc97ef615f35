import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call, getJson, postForm } from './helpers.js';

let server: RackServer | undefined;
async function start(o: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer(o);
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('transport basics', () => {
  it('binds 127.0.0.1 on a free port', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers GET /check without auth: `ok`, no newline, no Request-Id', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/check', { password: false });
    expect([r.status, r.text]).toEqual([200, 'ok']);
    expect(r.headers['request-id']).toBeUndefined();
  });

  it('answers unknown routes 404 with an empty body, before auth', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/nope', { password: false });
    expect([r.status, r.text]).toEqual([404, '']);
    expect((await call(s, 'GET', '/racks')).status).toBe(404);
  });

  it('answers a known path with the wrong method 405, empty', async () => {
    const s = await start();
    const r = await call(s, 'DELETE', '/apps/x/builds');
    expect([r.status, r.text]).toEqual([405, '']);
  });

  it('answers GET on a SOCKET route without Upgrade 404', async () => {
    const s = await start({ apps: [{ name: 'web' }] });
    expect((await call(s, 'GET', '/apps/web/logs')).status).toBe(404);
  });
});

describe('authentication', () => {
  it('v3: 401 text `invalid authentication` with a Basic challenge and a Request-Id', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/system', { password: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.text).toBe('invalid authentication\n');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['www-authenticate']).toBe('Basic realm="convox"');
    expect(r.headers['request-id']).toMatch(/^[0-9a-f]{12}$/);
  });

  it('v2: 401 without WWW-Authenticate', async () => {
    const s = await start({ version: '20260418101514' });
    const r = await call(s, 'GET', '/system', { password: false });
    expect([r.status, r.text]).toEqual([401, 'invalid authentication\n']);
    expect(r.headers['www-authenticate']).toBeUndefined();
  });

  it('accepts any username with the right password', async () => {
    const s = await start({ password: 'pw' });
    expect((await call(s, 'GET', '/auth', { user: 'anything' })).text).toBe('ok\n');
  });

  it('an empty rack password means no check', async () => {
    const s = await start({ password: '' });
    expect((await call(s, 'GET', '/system', { password: false })).status).toBe(200);
  });

  it('jwt: a read token may GET but not POST', async () => {
    const s = await start({ apps: [{ name: 'web' }] });
    const t = await postForm(s, '/system/jwt/token', { role: 'read', durationInHour: '1' });
    const { token } = JSON.parse(t.text) as { token: string };
    expect((await call(s, 'GET', '/apps/web', { user: 'jwt', password: token })).status).toBe(200);
    const w = await postForm(s, '/apps/web/releases', { env: 'A=1' }, { user: 'jwt', password: token });
    expect([w.status, w.text]).toEqual([401, 'you are unauthorized to access this\n']);
    const bad = await call(s, 'GET', '/apps/web', { user: 'jwt', password: 'nope' });
    expect(bad.text).toBe('invalid authentication: token is malformed\n');
  });
});

describe('responses', () => {
  it('GET /system: pretty JSON, trailing newline, v3 security headers', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/system');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.text.endsWith('}\n')).toBe(true);
    expect(r.text).toContain('\n  "version": "3.24.9"');
    expect(Object.keys(JSON.parse(r.text) as object)).toEqual([
      'count',
      'domain',
      'name',
      'provider',
      'rack-domain',
      'region',
      'status',
      'type',
      'version',
    ]);
  });

  it('v2 answers its timestamp version and no v3 headers', async () => {
    const s = await start({ version: '20260418101514' });
    const r = await call(s, 'GET', '/system');
    expect((JSON.parse(r.text) as { version: string }).version).toBe('20260418101514');
    expect(r.headers['x-frame-options']).toBeUndefined();
  });

  it('escapes <, > and & in JSON as Go does', async () => {
    const s = await start({ apps: [{ name: 'web', env: 'A=<b>&', manifest: 'services: {}\n' }] });
    const r = await call(s, 'GET', '/apps/web/releases');
    expect(r.text).toContain('A=\\u003cb\\u003e\\u0026');
  });

  it.each([
    ['3.24.9', 'application/json', 'application/json', '{"error":"app not found: nope"}\n'],
    ['3.24.9', 'text/html, application/json;q=0.9', 'application/json', '{"error":"app not found: nope"}\n'],
    ['3.24.9', '*/*', 'text/plain; charset=utf-8', 'app not found: nope\n'],
    ['3.24.0', 'application/json', 'text/plain; charset=utf-8', 'app not found: nope\n'],
    ['20260418101514', 'application/json', 'text/plain; charset=utf-8', 'app not found: nope\n'],
  ])('version %s, Accept %s → %s error', async (version, accept, type, body) => {
    const s = await start({ version });
    const r = await call(s, 'GET', '/apps/nope', { headers: { accept } });
    expect([r.status, r.headers['content-type'], r.text]).toEqual([404, type, body]);
  });

  it('lists and creates apps', async () => {
    const s = await start({ apps: [{ name: 'b' }, { name: 'a' }] });
    const created = await postForm(s, '/apps', { name: 'c' });
    expect(created.status).toBe(200);
    const apps = await getJson<{ name: string; generation: string }[]>(s, '/apps');
    expect(apps.map((a) => a.name)).toEqual(['a', 'b', 'c']);
    expect(Object.keys(apps[0] ?? {})).toEqual(['generation', 'locked', 'name', 'release', 'router', 'status', 'parameters']);
  });
});

describe('legacy racks', () => {
  it('serve /system only; everything else is a 404 JSON error', async () => {
    const s = await start({ version: '20180101000000', apps: [{ name: 'web' }] });
    expect(s.mode).toBe('legacy');
    const sys = await getJson<{ version: string }>(s, '/system');
    expect(sys.version).toBe('20180101000000');
    const r = await call(s, 'GET', '/apps/web/releases');
    expect([r.status, r.headers['content-type'], r.text]).toEqual([404, 'application/json', '{"error":"not found"}\n']);
    const a = await call(s, 'GET', '/system', { password: 'bad' });
    expect(a.status).toBe(401);
    expect(a.text).toMatch(/^Unable to authenticate/);
  });
});
