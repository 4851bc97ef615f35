import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { isLoopbackHost, manifestDigest } from '../../../src/registry/client.js';
import type { Exchange } from '../../../src/registry/http.js';
import { clientOptions, reply, startStandIn, type StandIn } from './stand-in.js';

const DIGEST = `sha256:${'cd'.repeat(32)}`;

let registry: StandIn | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function caught(p: Promise<unknown>): Promise<ActionError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof ActionError)) throw new Error(`expected an ActionError, got ${String(e)}`);
  return e;
}

/** Answers `failures` in order (a status, or 'drop' to cut the connection), then 200. */
function flaky(failures: Array<number | 'drop'>, headers: Record<string, string> = {}): Promise<StandIn> {
  return startStandIn((_req, res, n) => {
    const failure = failures[n - 1];
    if (failure === 'drop') return res.socket?.destroy();
    if (failure !== undefined) return reply(res, failure, headers);
    reply(res, 200, { 'docker-content-digest': DIGEST });
  });
}

describe('manifestDigest retries', () => {
  it('waits exactly as long as Retry-After says on 429', async () => {
    registry = await flaky([429], { 'retry-after': '2' });
    const opts = clientOptions();
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).toBe(DIGEST);
    expect(opts.waits).toEqual([2000]);
    expect(opts.log.lines.filter((l) => !l.startsWith('debug:'))).toEqual([
      `check ${registry.host}/acme/shop:1: attempt 2/5 after 429 Too Many Requests, waiting 2.0s`,
    ]);
  });

  it('backs off on 503 then succeeds', async () => {
    registry = await flaky([503, 503]);
    const opts = clientOptions({ random: () => 0.5 });
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).toBe(DIGEST);
    expect(opts.waits).toEqual([250, 500]);
    expect(registry.seen).toHaveLength(3);
  });

  it('retries a dropped connection', async () => {
    registry = await flaky(['drop']);
    const opts = clientOptions();
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).toBe(DIGEST);
    expect(opts.waits).toHaveLength(1);
  });

  it('gives up after the attempts with a message naming the registry and the count', async () => {
    registry = await flaky([503, 503, 503]);
    const opts = clientOptions({ attempts: 3 });
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), undefined, opts));
    expect(e.message).toBe(
      `registry ${registry.host} did not answer http://${registry.host}/v2/acme/shop/manifests/1: 503 Service Unavailable (3 attempts)`,
    );
    expect(e.fix).toBe('the registry is unavailable or overloaded; re-run the job later');
    expect(opts.waits).toHaveLength(2);
  });

  it('gives up on a refused connection after retrying it', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const opts = clientOptions({ attempts: 2 });
    const e = await caught(manifestDigest(parseReference(`127.0.0.1:${port}/acme/shop:1`), undefined, opts));
    expect(e.message).toMatch(new RegExp(`^registry 127\\.0\\.0\\.1:${port} did not answer .*ECONNREFUSED.* \\(2 attempts\\)$`));
    expect(opts.waits).toHaveLength(1);
  });

  it('times out a registry that stops answering, and retries', async () => {
    let n = 0;
    registry = await startStandIn((_req, res) => {
      if (++n === 1) return; // never answer the first request
      reply(res, 200, { 'docker-content-digest': DIGEST });
    });
    const opts = clientOptions({ timeoutMs: 100 });
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).toBe(DIGEST);
    expect(opts.log.lines.filter((l) => !l.startsWith('debug:'))).toEqual([
      `check ${registry.host}/acme/shop:1: attempt 2/5 after no answer within 0.1s, waiting 0.3s`,
    ]);
  });

  it('stops at once when the job is cancelled', async () => {
    registry = await flaky([503, 503, 503, 503]);
    const controller = new AbortController();
    const opts = clientOptions({
      signal: controller.signal,
      sleep: async () => {
        controller.abort(new Error('job cancelled'));
        throw new Error('aborted');
      },
    });
    await expect(manifestDigest(registry.ref('acme/shop:1'), undefined, opts)).rejects.toThrow('job cancelled');
    expect(registry.seen).toHaveLength(1);
  });
});

describe('scheme and host', () => {
  it.each([
    ['ghcr.io/acme/shop:1', 'https://ghcr.io/v2/acme/shop/manifests/1'],
    ['nginx:1.27', 'https://registry-1.docker.io/v2/library/nginx/manifests/1.27'],
    ['localhost:5000/acme/shop:1', 'http://localhost:5000/v2/acme/shop/manifests/1'],
    ['127.0.0.1:5055/a/b:2', 'http://127.0.0.1:5055/v2/a/b/manifests/2'],
    ['[::1]:5000/a:3', 'http://[::1]:5000/v2/a/manifests/3'],
    ['registry.internal:5000/a:4', 'https://registry.internal:5000/v2/a/manifests/4'],
  ])('%s → %s', async (text, url) => {
    const urls: string[] = [];
    const exchange: Exchange = async (x) => {
      urls.push(String(x.url));
      return { status: 200, headers: { 'docker-content-digest': DIGEST }, body: Buffer.alloc(0) };
    };
    expect(await manifestDigest(parseReference(text), undefined, clientOptions({ exchange }))).toBe(DIGEST);
    expect(urls).toEqual([url]);
  });

  it('speaks plain HTTP to hosts the caller marks insecure', async () => {
    const urls: string[] = [];
    const exchange: Exchange = async (x) => {
      urls.push(String(x.url));
      return { status: 200, headers: { 'docker-content-digest': DIGEST }, body: Buffer.alloc(0) };
    };
    const opts = clientOptions({ exchange, insecureHttp: (host) => host === 'registry.internal:5000' });
    await manifestDigest(parseReference('registry.internal:5000/a:4'), undefined, opts);
    expect(urls).toEqual(['http://registry.internal:5000/v2/a/manifests/4']);
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST:5000', true],
    ['127.0.0.1:5055', true],
    ['127.10.20.30', true],
    ['[::1]:5000', true],
    ['128.0.0.1:5000', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['ghcr.io', false],
  ])('isLoopbackHost(%s) → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
