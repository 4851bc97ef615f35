import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { manifestDigest } from '../../../src/registry/client.js';
import { MAX_REDIRECTS, registryRequest } from '../../../src/registry/http.js';
import { freeBadPort, NO_BAD_PORT } from '../../support/bad-ports.js';
import { basicOf, clientOptions, reply, startStandIn, type StandIn } from './stand-in.js';

const DIGEST = `sha256:${'ef'.repeat(32)}`;
const AUTH = basicOf('ci', 's3cr3t-pw');
const creds = (host: string) => ({ username: 'ci', password: 's3cr3t-pw', serveraddress: host });

const started: StandIn[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});
async function standIn(...args: Parameters<typeof startStandIn>): Promise<StandIn> {
  const s = await startStandIn(...args);
  started.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

const badPort = await freeBadPort();

describe.skipIf(badPort === undefined)(`a registry on a port fetch refuses (${badPort ?? NO_BAD_PORT})`, () => {
  it('is refused by fetch, which is why the client does not use it', async () => {
    const registry = await standIn((_req, res) => reply(res, 401), badPort);
    const e = (await rejection(fetch(`http://${registry.host}/v2/`))) as Error & { cause?: Error };
    expect(e.cause?.message).toBe('bad port');
    expect(registry.seen).toEqual([]);
  });

  it('answers the digest check, Bearer token service included', async () => {
    let host = '';
    const registry = await standIn((req, res) => {
      if (req.path === '/token') return reply(res, 200, {}, JSON.stringify({ token: 'tok-1' }));
      if (req.authorization !== 'Bearer tok-1') {
        return reply(res, 401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="reg"` });
      }
      reply(res, 200, { 'docker-content-digest': DIGEST });
    }, badPort);
    host = registry.host;
    expect(await manifestDigest(registry.ref('acme/shop:1'), creds(host), clientOptions())).toBe(DIGEST);
    expect(registry.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'HEAD /v2/acme/shop/manifests/1',
      'GET /token',
      'HEAD /v2/acme/shop/manifests/1',
    ]);
  });
});

describe('redirects, as fetch followed them', () => {
  it('keeps HEAD and the Authorization header on the same origin', async () => {
    const registry = await standIn((req, res) => {
      if (req.path === '/v2/acme/shop/manifests/1') return reply(res, 307, { location: '/moved/1' });
      reply(res, 200, { 'docker-content-digest': DIGEST });
    });
    expect(await manifestDigest(registry.ref('acme/shop:1'), creds(registry.host), clientOptions())).toBe(DIGEST);
    expect(registry.seen.map((s) => [s.method, s.path])).toEqual([
      ['HEAD', '/v2/acme/shop/manifests/1'],
      ['HEAD', '/moved/1'],
    ]);
  });

  it('drops the Authorization header on the way to another origin (storage, a CDN)', async () => {
    const manifest = '{"schemaVersion":2}';
    const storage = await standIn((req, res) => reply(res, 200, {}, req.method === 'GET' ? manifest : ''));
    const registry = await standIn((req, res) => {
      if (req.authorization !== AUTH) return reply(res, 401, { 'www-authenticate': 'Basic realm="r"' });
      reply(res, 302, { location: `http://${storage.host}/blob?sig=secret` });
    });
    const expected = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    expect(await manifestDigest(registry.ref('acme/shop:1'), creds(registry.host), clientOptions())).toBe(expected);
    expect(registry.seen.map((s) => s.authorization)).toEqual([undefined, AUTH, AUTH]);
    expect(storage.seen.map((s) => [s.method, s.path, s.query, s.authorization])).toEqual([
      ['HEAD', '/blob', { sig: 'secret' }, undefined],
      ['GET', '/blob', { sig: 'secret' }, undefined],
    ]);
  });

  it('turns a POST into a bodiless GET on 303, and returns a 3xx without Location as it is', async () => {
    const server = await standIn((req, res) => {
      if (req.path === '/token') return reply(res, 303, { location: '/token2' });
      if (req.path === '/token2') return reply(res, 200, {}, `${req.method} ${req.contentType ?? '-'} ${req.body || '-'}`);
      reply(res, 304);
    });
    const post = await registryRequest({
      method: 'POST',
      url: new URL(`http://${server.host}/token`),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('a=1'),
    });
    expect([post.status, post.body.toString(), post.url.pathname]).toEqual([200, 'GET - -', '/token2']);
    const bare = await registryRequest({ method: 'GET', url: new URL(`http://${server.host}/x`), headers: {} });
    expect(bare.status).toBe(304);
  });

  it(`gives up after ${MAX_REDIRECTS} redirects, without retrying or naming the target`, async () => {
    const registry = await standIn((req, res) => reply(res, 302, { location: `/loop?n=${registry.seen.length}` }));
    const opts = clientOptions();
    const e = await rejection(manifestDigest(registry.ref('acme/shop:1'), undefined, opts));
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(
      `registry ${registry.host} did not answer http://${registry.host}/v2/acme/shop/manifests/1: ` +
        `${registry.host} redirected more than ${MAX_REDIRECTS} times`,
    );
    expect(registry.seen).toHaveLength(MAX_REDIRECTS + 1);
    expect(opts.waits).toEqual([]);
  });

  it('refuses a redirect to a scheme that is not HTTP', async () => {
    const registry = await standIn((_req, res) => reply(res, 301, { location: 'file:///etc/passwd' }));
    const e = await rejection(registryRequest({ method: 'GET', url: new URL(`http://${registry.host}/v2/`), headers: {} }));
    expect((e as Error).message).toBe(`${registry.host} redirected to a file: URL, which is not HTTP`);
  });
});

describe('what the exchange hands back', () => {
  it("keeps the server's reason phrase and headers, and names itself", async () => {
    const registry = await standIn((_req, res) => {
      res.statusMessage = 'Slow Down';
      res.writeHead(503, { 'retry-after': '7' });
      res.end();
    });
    const answer = await registryRequest({ method: 'GET', url: new URL(`http://${registry.host}/v2/`), headers: {} });
    expect([answer.status, answer.statusText, answer.headers.get('retry-after')]).toEqual([503, 'Slow Down', '7']);
    expect(registry.seen[0]?.userAgent).toBe('convox-image-deploy');
  });

  it('times out a token service that never answers, and retries it', async () => {
    let host = '';
    let tokenAsks = 0;
    const registry = await standIn((req, res) => {
      if (req.path === '/token') return ++tokenAsks === 1 ? undefined : reply(res, 200, {}, '{"token":"t"}');
      if (req.authorization === 'Bearer t') return reply(res, 200, { 'docker-content-digest': DIGEST });
      reply(res, 401, { 'www-authenticate': `Bearer realm="http://${host}/token"` });
    });
    host = registry.host;
    const opts = clientOptions({ timeoutMs: 200 });
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).toBe(DIGEST);
    expect(opts.log.lines.filter((l) => !l.startsWith('debug:'))).toEqual([
      `check ${host}/acme/shop:1: attempt 2/5 after no answer within 0.2s, waiting 0.3s`,
    ]);
  });
});
