import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { ConsoleOptions, RackServer } from '../../rack-server/index.js';
import { call, IMAGE_MANIFEST, postForm, readSocket } from './helpers.js';

let server: RackServer | undefined;
async function start(console: Partial<ConsoleOptions> = {}): Promise<RackServer> {
  server = await startRackServer({
    console: {
      racks: ['acme/staging', 'acme/production', 'other/production'],
      passwords: ['user-key'],
      deployKeys: ['deploy-key'],
      ...console,
    },
    apps: [{ name: 'web', env: 'IMAGE=a:1', manifest: IMAGE_MANIFEST }],
    timing: { statusLagMs: 1, promoteMs: 5 },
  });
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const as = (password: string, rack?: string, extra: Record<string, string> = {}) => ({
  password,
  headers: { ...(rack ? { rack } : {}), ...extra },
});

describe('console: racks and the Rack header', () => {
  it('lists racks as {name, organization: {name}, provider, status}', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/racks', as('user-key'));
    expect(JSON.parse(r.text)).toEqual([
      { name: 'staging', organization: { name: 'acme' }, provider: 'aws', status: 'running' },
      { name: 'production', organization: { name: 'acme' }, provider: 'aws', status: 'running' },
      { name: 'production', organization: { name: 'other' }, provider: 'aws', status: 'running' },
    ]);
    expect((await call(s, 'GET', '/racks', as('nope'))).status).toBe(401);
  });

  it.each([
    ['acme/production', 200, ''],
    ['staging', 200, ''],
    ['production', 400, 'ambiguous rack name: production\n'],
    ['nowhere', 404, 'rack not found: nowhere\n'],
  ])('Rack: %s → %i', async (rack, status, body) => {
    const s = await start();
    const r = await call(s, 'GET', '/apps/web', as('user-key', rack));
    expect(r.status).toBe(status);
    if (body) expect(r.text).toBe(body);
  });

  it('requires a Rack header for rack routes', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/apps/web', as('user-key'));
    expect([r.status, r.text]).toEqual([400, 'rack required\n']);
  });

  it('keeps each rack’s state apart', async () => {
    const s = await start();
    await postForm(s, '/apps/web/releases', { env: 'X=1' }, as('user-key', 'acme/staging'));
    expect(s.racks['acme/staging']?.apps.get('web')?.releases).toHaveLength(2);
    expect(s.racks['acme/production']?.apps.get('web')?.releases).toHaveLength(1);
    expect(s.state).toBe(s.racks['acme/staging']);
  });

  it('GET /auth answers JSON with an id for full credentials', async () => {
    const s = await start();
    const r = await call(s, 'GET', '/auth', as('user-key'));
    expect(JSON.parse(r.text)).toEqual({ id: 'user-0001' });
  });

  it('sockets are proxied too', async () => {
    const s = await start();
    const res = await readSocket(s, '/apps/web/logs', { rack: 'acme/staging', Follow: 'false' }, { password: 'user-key' });
    expect(res.end).toBe('eof');
  });
});

describe('console: deploy keys', () => {
  it('cannot read releases or GET /auth', async () => {
    const s = await start();
    for (const path of ['/apps/web/releases', `/apps/web/releases/${s.state.apps.get('web')?.release}`, '/auth']) {
      const r = await call(s, 'GET', path, as('deploy-key', 'acme/staging'));
      expect([r.status, r.text]).toEqual([403, 'Command not supported for deploy key (try build, promote, deploy)\n']);
    }
  });

  it('can write a full env release and promote it by id, and read the app', async () => {
    const s = await start();
    const created = await postForm(s, '/apps/web/releases', { env: 'IMAGE=a:2' }, as('deploy-key', 'acme/staging'));
    expect(created.status).toBe(200);
    const id = (JSON.parse(created.text) as { id: string }).id;
    expect((await call(s, 'POST', `/apps/web/releases/${id}/promote`, as('deploy-key', 'acme/staging'))).status).toBe(200);
    expect((await call(s, 'GET', '/apps/web', as('deploy-key', 'acme/staging'))).status).toBe(200);
    expect((await call(s, 'GET', '/apps/web/builds', as('deploy-key', 'acme/staging'))).status).toBe(200);
    expect((await call(s, 'GET', '/racks', as('deploy-key'))).status).toBe(200);
  });
});

describe('console: session challenge', () => {
  it('401 with a Session challenge, POST path → id, then the retry with Session works', async () => {
    const s = await start({ session: 'session' });
    const first = await call(s, 'GET', '/racks', as('user-key'));
    expect(first.status).toBe(401);
    expect(first.headers['www-authenticate']).toBe('Session path="/session" token="false"');
    const sess = await call(s, 'POST', '/session', as('user-key'));
    const { id } = JSON.parse(sess.text) as { id: string };
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect((await call(s, 'GET', '/racks', as('user-key', undefined, { session: id }))).status).toBe(200);
    expect((await call(s, 'GET', '/racks', as('user-key', undefined, { session: 'forged' }))).status).toBe(401);
  });

  it('a socket without a session is refused before the upgrade', async () => {
    const s = await start({ session: 'session' });
    const err = await readSocket(s, '/apps/web/logs', { rack: 'acme/staging' }, { password: 'user-key' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 401 });
  });

  it('hardware challenge: token="true" and the session cannot be had without a key', async () => {
    const s = await start({ session: 'hardware' });
    const first = await call(s, 'GET', '/racks', as('user-key'));
    expect(first.headers['www-authenticate']).toBe('Session path="/session" token="true"');
    expect((await call(s, 'POST', '/session', as('user-key'))).status).toBe(401);
  });

  it('bad credentials are refused before any challenge', async () => {
    const s = await start({ session: 'session' });
    const r = await call(s, 'GET', '/racks', as('wrong'));
    expect([r.status, r.text, r.headers['www-authenticate']]).toEqual([401, 'invalid authentication\n', undefined]);
  });
});
