import { afterEach, describe, expect, it } from 'vitest';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { call } from './helpers.js';

let server: RackServer | undefined;
async function start(o: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'web' }], ...o });
  return server;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const octet = { 'content-type': 'application/octet-stream' };

describe('objects', () => {
  it('stores a raw octet-stream body and answers {"Url"} with a capital U', async () => {
    const s = await start();
    const body = Buffer.from([0x1f, 0x8b, 1, 2, 3]);
    const r = await call(s, 'POST', '/apps/web/objects/tmp/abc.tgz', { headers: octet, body });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ Url: 'object://web/tmp/abc.tgz' });
    expect(s.state.apps.get('web')?.objects.get('tmp/abc.tgz')).toEqual(body);
    const back = await call(s, 'GET', '/apps/web/objects/tmp/abc.tgz');
    expect(back.body).toEqual(body);
    expect(back.headers['content-type']).toBe('application/x-gzip');
  });

  it('an urlencoded content type lets the form parser eat the body: the object is empty', async () => {
    const s = await start();
    await call(s, 'POST', '/apps/web/objects/k', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
    });
    expect(s.state.apps.get('web')?.objects.get('k')?.length).toBe(0);
    expect(s.requests.at(-1)?.form).toEqual({ a: '1', b: '2' });
  });

  it('HEAD/GET existence answers JSON true/false with 200', async () => {
    const s = await start();
    await call(s, 'POST', '/apps/web/objects/k', { headers: octet, body: 'x' });
    const head = await call(s, 'HEAD', '/apps/web/objects/k');
    expect([head.status, head.headers['content-type']]).toEqual([200, 'application/json']);
    expect((await call(s, 'HEAD', '/apps/web/objects/missing')).status).toBe(200);
    const del = await call(s, 'DELETE', '/apps/web/objects/k');
    expect([del.status, del.text]).toEqual([200, 'ok\n']);
    expect(s.state.apps.get('web')?.objects.has('k')).toBe(false);
  });

  it('v3 rejects `..` keys with 400; v2 does not check', async () => {
    const s = await start();
    const r = await call(s, 'POST', '/apps/web/objects/a/../b', { headers: octet, body: 'x' });
    expect([r.status, r.text]).toEqual([400, 'invalid object key\n']);
    await s.close();
    const v2 = await start({ version: '20260418101514' });
    expect((await call(v2, 'POST', '/apps/web/objects/a/../b', { headers: octet, body: 'x' })).status).toBe(200);
  });

  it('an empty key becomes tmp/<30 hex>', async () => {
    const s = await start();
    const r = await call(s, 'POST', '/apps/web/objects/', { headers: octet, body: 'x' });
    expect((JSON.parse(r.text) as { Url: string }).Url).toMatch(/^object:\/\/web\/tmp\/[0-9a-f]{30}$/);
  });

  it('404 for an unknown app', async () => {
    const s = await start();
    const r = await call(s, 'POST', '/apps/nope/objects/k', { headers: octet, body: 'x' });
    expect([r.status, r.text]).toEqual([404, 'app not found: nope\n']);
  });
});
