/**
 * The session's gRPC service, called the way the daemon calls it (gRPC over the h2c connection
 * the /session request was upgraded to), without an engine: a fake modem hands the session one
 * end of a loopback TCP connection and this test plays the daemon on the other.
 */
import http2 from 'node:http2';
import { createServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { ProtoWriter, readFields } from '../../../src/buildkit/protobuf.js';
import { credentialsHost, openBuildSession, type CredentialsFor } from '../../../src/buildkit/session.js';

interface Dialed {
  headers: Record<string, unknown>;
  path: string;
  method: string;
  hijack: boolean;
}

/** A session wired to a fake engine; `call` sends one unary gRPC request as the daemon would. */
async function harness(credentialsFor: CredentialsFor) {
  let daemonSide: Socket | undefined;
  const server = createServer((s) => {
    daemonSide = s;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dialed: Dialed[] = [];
  const docker = {
    modem: {
      dial(opts: Dialed, cb: (err: unknown, socket?: Socket) => void) {
        dialed.push(opts);
        const client = new Socket();
        client.connect(port, '127.0.0.1', () => cb(null, client));
      },
    },
  } as unknown as Docker;
  const log = new MemoryLog();
  const session = await openBuildSession(docker, credentialsFor, log);
  while (!daemonSide) await new Promise((r) => setTimeout(r, 5));
  const h2 = http2.connect('http://session', { createConnection: () => daemonSide as Socket });
  const call = (path: string, message: Buffer) =>
    new Promise<{ status: string | undefined; message: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = h2.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let trailers: http2.IncomingHttpHeaders = {};
      let headers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => {
        headers = h;
      });
      req.on('trailers', (t) => {
        trailers = t;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const framed = Buffer.concat(chunks);
        const status = (trailers['grpc-status'] ?? headers['grpc-status']) as string | undefined;
        const msg = (trailers['grpc-message'] ?? headers['grpc-message']) as string | undefined;
        resolve({
          status,
          message: msg && decodeURIComponent(msg),
          body: framed.subarray(5, 5 + (framed.length >= 5 ? framed.readUInt32BE(1) : 0)),
        });
      });
      req.on('error', reject);
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      req.end(frame);
    });
  return {
    session,
    log,
    dialed,
    call,
    close: () => {
      session.close();
      h2.destroy();
      server.close();
    },
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const ask = (host: string) => new ProtoWriter().string(1, host).finish();
const fields = (b: Buffer) => [...readFields(b)].map((f) => [f.field, Buffer.isBuffer(f.value) ? f.value.toString() : f.value]);

describe('openBuildSession', () => {
  it('upgrades POST /session to h2c, announcing each method it serves on its own header line', async () => {
    const h = await harness(() => undefined);
    cleanup = h.close;
    expect(h.dialed).toHaveLength(1);
    expect(h.dialed[0]).toMatchObject({ path: '/session', method: 'POST', hijack: true });
    expect(h.dialed[0]?.headers).toEqual({
      Upgrade: 'h2c',
      'X-Docker-Expose-Session-Uuid': h.session.id,
      'X-Docker-Expose-Session-Name': 'convox-image-deploy',
      // Without a context to serve there is nothing to share between builds: the id stands in.
      'X-Docker-Expose-Session-Sharedkey': h.session.id,
      'X-Docker-Expose-Session-Grpc-Method': [
        '/moby.filesync.v1.Auth/Credentials',
        '/moby.filesync.v1.Auth/FetchToken',
        '/moby.filesync.v1.Auth/GetTokenAuthority',
        '/moby.filesync.v1.Auth/VerifyTokenAuthority',
        '/grpc.health.v1.Health/Check',
      ],
    });
    expect(h.session.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers Credentials per host, nothing for hosts it has no credentials for, and logs no secret', async () => {
    const h = await harness((host) => (host === 'registry.example.com' ? { username: 'ci', password: 'pa55-word' } : undefined));
    cleanup = h.close;
    const mine = await h.call('/moby.filesync.v1.Auth/Credentials', ask('registry.example.com'));
    const hub = await h.call('/moby.filesync.v1.Auth/Credentials', ask('registry-1.docker.io'));
    expect([mine.status, fields(mine.body)]).toEqual([
      '0',
      [
        [1, 'ci'],
        [2, 'pa55-word'],
      ],
    ]);
    expect([hub.status, fields(hub.body)]).toEqual(['0', []]);
    expect(h.session.hostsAsked).toEqual(['registry.example.com', 'registry-1.docker.io']);
    expect(h.log.lines).toEqual([
      expect.stringMatching(/^debug: BuildKit session .* open$/),
      'debug: BuildKit asked for credentials for registry.example.com: answered as ci',
      'debug: BuildKit asked for credentials for registry-1.docker.io: none, so pulling anonymously',
    ]);
  });

  it("asks for docker.io when BuildKit asks for Docker Hub's registry host", async () => {
    const h = await harness((host) => (host === 'docker.io' ? { username: 'hubber', password: 'hub-token' } : undefined));
    cleanup = h.close;
    const hub = await h.call('/moby.filesync.v1.Auth/Credentials', ask('registry-1.docker.io'));
    expect(fields(hub.body)).toEqual([
      [1, 'hubber'],
      [2, 'hub-token'],
    ]);
  });

  it.each(['FetchToken', 'GetTokenAuthority', 'VerifyTokenAuthority'])(
    'answers %s UNIMPLEMENTED, so BuildKit falls back to Credentials',
    async (method) => {
      const h = await harness(() => undefined);
      cleanup = h.close;
      const r = await h.call(`/moby.filesync.v1.Auth/${method}`, ask('x'));
      expect([r.status, r.message]).toEqual(['12', `${method} is not served by this client`]);
    },
  );

  it('reports SERVING to the health checks BuildKit makes every second', async () => {
    const h = await harness(() => undefined);
    cleanup = h.close;
    const r = await h.call('/grpc.health.v1.Health/Check', Buffer.alloc(0));
    expect([r.status, fields(r.body)]).toEqual(['0', [[1, 1]]]);
  });

  it('turns an engine that refuses the session into an ActionError', async () => {
    const docker = {
      modem: { dial: (_o: unknown, cb: (e: Error) => void) => cb(new Error('(HTTP code 404) no such endpoint')) },
    } as unknown as Docker;
    const e = await openBuildSession(docker, () => undefined).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(
      'cannot open a BuildKit session with the Docker engine: (HTTP code 404) no such endpoint',
    );
    expect((e as ActionError).place).toEqual({ phase: 'build' });
  });
});

describe('credentialsHost', () => {
  it.each([
    [ask('127.0.0.1:5055'), '127.0.0.1:5055'],
    [new ProtoWriter().varint(7, 1).string(1, 'h').finish(), 'h'],
    [Buffer.alloc(0), ''],
  ])('%#', (msg, host) => expect(credentialsHost(msg)).toBe(host));
});
