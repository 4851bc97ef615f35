/**
 * The shared exchange (src/net/http.ts) against real sockets on loopback: what `sent` says about
 * each way a request can fail, the time limit and the abort signal, streamed bodies, TLS, and the
 * ports Node's fetch refuses.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exchange, TransportError, type HttpExchange } from '../../../src/net/http.js';
import { freeBadPort, NO_BAD_PORT } from '../../support/bad-ports.js';

type Closable = { close(cb?: () => void): unknown; closeAllConnections?: () => void };
const servers: Closable[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function listen<S extends net.Server>(server: S, port = 0): Promise<number> {
  servers.push(server as unknown as Closable);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

async function httpServer(handler: http.RequestListener, port = 0): Promise<URL> {
  return new URL(`http://127.0.0.1:${await listen(http.createServer(handler), port)}/v2/`);
}

function failure(x: HttpExchange): Promise<unknown> {
  return exchange(x).then(
    (a) => {
      throw new Error(`expected a failure, got ${a.status}`);
    },
    (e: unknown) => e,
  );
}

const get = (url: URL, extra: Partial<HttpExchange> = {}): HttpExchange => ({ method: 'GET', url, headers: {}, ...extra });

describe('an answer', () => {
  it('comes back whole: status, reason phrase, repeated headers, body', async () => {
    const url = await httpServer((_req, res) => {
      res.statusMessage = 'Slow Down';
      res.setHeader('www-authenticate', ['Bearer realm="a"', 'Basic realm="b"']);
      res.writeHead(429, { 'retry-after': '3' });
      res.end('{"errors":[]}');
    });
    const answer = await exchange(get(url));
    expect(answer.status).toBe(429);
    expect(answer.statusText).toBe('Slow Down');
    expect(answer.headers['retry-after']).toBe('3');
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="a", Basic realm="b"');
    expect(answer.body.toString()).toBe('{"errors":[]}');
  });

  it('larger than 32 MiB is refused rather than held in memory', async () => {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const url = await httpServer((_req, res) => {
      res.writeHead(200);
      let n = 0;
      const more = (): void => {
        while (n++ < 40) if (!res.write(chunk)) return void res.once('drain', more);
        res.end();
      };
      more();
    });
    const e = await failure(get(url));
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).message).toBe('answer larger than 33554432 bytes');
  });
});

describe('sent: whether the server can have seen the request', () => {
  it('is false when nothing listens', async () => {
    const port = await listen(net.createServer());
    servers.pop()!.close();
    const e = await failure(get(new URL(`http://127.0.0.1:${port}/`)));
    expect(e).toMatchObject({ name: 'TransportError', code: 'ECONNREFUSED', sent: false });
  });

  it('is true when the connection was made and dropped before an answer', async () => {
    const url = await httpServer((req) => req.socket.destroy());
    expect(await failure(get(url))).toMatchObject({ code: 'ECONNRESET', sent: true });
  });

  it('is true on a reused keep-alive socket, which never connects again', async () => {
    let n = 0;
    const url = await httpServer((req, res) => (++n === 1 ? res.end('first') : req.socket.destroy()));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await exchange(get(url, { agent }))).body.toString()).toBe('first');
      expect(await failure(get(url, { agent }))).toMatchObject({ code: 'ECONNRESET', sent: true });
      expect(n).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});

describe('TLS', () => {
  let dir = '';
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'net-tls-'));
    const [k, c] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', ...subject, '-keyout', k, '-out', c],
      {
        stdio: 'ignore',
      },
    );
    [key, cert] = [readFileSync(k), readFileSync(c)];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers through an agent that trusts the certificate, and refuses without it', async () => {
    const port = await listen(https.createServer({ key, cert }, (_req, res) => res.end('over tls')));
    const url = new URL(`https://127.0.0.1:${port}/`);
    const agent = new https.Agent({ ca: cert });
    try {
      expect((await exchange(get(url, { agent }))).body.toString()).toBe('over tls');
    } finally {
      agent.destroy();
    }
    expect(await failure(get(url))).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', sent: false });
  });

  it('counts as sent only after the handshake: a peer that hangs up before it saw nothing', async () => {
    const port = await listen(net.createServer((socket) => socket.destroy()));
    const agent = new https.Agent({ ca: cert });
    try {
      expect(await failure(get(new URL(`https://127.0.0.1:${port}/`), { agent }))).toMatchObject({ sent: false });
    } finally {
      agent.destroy();
    }
  });

  it('counts as sent when the peer drops the request after the handshake', async () => {
    const port = await listen(https.createServer({ key, cert }, (req) => req.socket.destroy()));
    const agent = new https.Agent({ ca: cert });
    try {
      expect(await failure(get(new URL(`https://127.0.0.1:${port}/`), { agent }))).toMatchObject({ sent: true });
    } finally {
      agent.destroy();
    }
  });
});

describe('time limit and cancellation', () => {
  it('gives up on a server that stays silent, as ETIMEDOUT, sent', async () => {
    const url = await httpServer(() => {});
    const e = await failure(get(url, { idleTimeoutMs: 150 }));
    expect(e).toMatchObject({ code: 'ETIMEDOUT', sent: true, message: 'no answer within 150 ms' });
  });

  it("rejects with the signal's own reason, whether aborted before or during the exchange", async () => {
    const url = await httpServer(() => {});
    const before = new AbortController();
    before.abort(new Error('job cancelled'));
    expect(await failure(get(url, { signal: before.signal }))).toBe(before.signal.reason);
    const during = new AbortController();
    const pending = failure(get(url, { signal: during.signal, idleTimeoutMs: 10_000 }));
    setTimeout(() => during.abort(new Error('time limit')), 100);
    expect(await pending).toBe(during.signal.reason);
  });
});

describe('a streamed body', () => {
  it('is made fresh by the factory for each exchange and arrives whole', async () => {
    const received: string[] = [];
    const url = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks).toString());
        res.end();
      });
    });
    let made = 0;
    const body = (): Readable => Readable.from([`part-${++made}-a,`, 'b,', 'c']);
    for (let i = 0; i < 2; i++) expect((await exchange({ method: 'POST', url, headers: {}, body })).status).toBe(200);
    expect(received).toEqual(['part-1-a,b,c', 'part-2-a,b,c']);
  });

  it("failing is the source's error, not a network one (so it is never retried)", async () => {
    const url = await httpServer((req) => req.resume());
    const broken = new Error('tarball unreadable');
    const body = (): Readable => {
      const s = new PassThrough();
      s.write('start');
      setTimeout(() => s.destroy(broken), 50);
      return s;
    };
    expect(await failure({ method: 'POST', url, headers: {}, body })).toBe(broken);
  });

  it('is let go of when the server answers early (413), and the answer is returned', async () => {
    const url = await httpServer((_req, res) => res.writeHead(413).end('too large'));
    const source = new PassThrough();
    source.write(Buffer.alloc(64 * 1024));
    const answer = await exchange({ method: 'POST', url, headers: {}, body: () => source });
    expect([answer.status, answer.body.toString()]).toEqual([413, 'too large']);
    // The server keeps the connection open: only the exchange letting go of the request frees the source.
    const freed = await Promise.race([once(source, 'close').then(() => 'freed'), sleep(2000).then(() => 'still held')]);
    expect(freed).toBe('freed');
  });
});

const badPort = await freeBadPort();
describe.skipIf(badPort === undefined)(`a port fetch refuses (${badPort ?? NO_BAD_PORT})`, () => {
  it('is refused by fetch and reached by the exchange', async () => {
    const url = await httpServer((_req, res) => res.writeHead(401).end(), badPort);
    const refused = await fetch(url).catch((e: Error & { cause?: Error }) => e.cause?.message);
    expect(refused).toBe('bad port');
    expect((await exchange(get(url))).status).toBe(401);
  });
});
