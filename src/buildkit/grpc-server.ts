/**
 * Follows: grpc/grpc doc/PROTOCOL-HTTP2.md (framing, status in trailers).
 *
 * Just enough of a gRPC server for a BuildKit session, on Node's own HTTP/2: the daemon dials
 * us over the hijacked `POST /session` connection (h2c with prior knowledge) and calls a few
 * methods whose messages we encode by hand (protobuf.ts). We need no service definitions,
 * codecs, channels or name resolution, so @grpc/grpc-js (with protobufjs, ~850 KB of bundle
 * parsed on every run) is replaced by the wire rules it implements:
 *
 * - a call is a POST to `/<service>/<method>` with `content-type: application/grpc`;
 * - each message, both ways, is framed as a 1-byte compressed flag (always 0 here), a 4-byte
 *   big-endian length and the bytes;
 * - the status travels in trailers (`grpc-status`, `grpc-message`), or in the response headers
 *   alone ("trailers-only") when a call fails before any message.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { definedFields } from '../net/defined-fields.js';

/** gRPC status codes that this server sends. */
export const GrpcStatus = { OK: 0, UNKNOWN: 2, NOT_FOUND: 5, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/** Throw (or pass to `fail`) to end a call with a status other than OK. */
export class GrpcError extends Error {
  override readonly name = 'GrpcError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A call in progress, for streaming handlers. */
export interface ServerCall {
  /** Request metadata: the HTTP/2 headers, names lower-cased, repeated values joined by ', '. */
  readonly metadata: http2.IncomingHttpHeaders;
  /** Every value of a metadata key, in order, as sent (grpc-go sends one header per value; no joining). */
  values(key: string): string[];
  /** Called once per message from the client. */
  onMessage(fn: (message: Buffer) => void): void;
  /** Sends messages (one HTTP/2 write for all of them); resolves when the stream can take more. */
  send(...messages: Buffer[]): Promise<void>;
  /** Sends bytes that are already gRPC frames (each message behind its 5-byte prefix; see `frameHeader`). */
  sendFramed(frames: Buffer): Promise<void>;
  /** Ends the call with status OK. */
  end(): void;
  /** Ends the call with an error status (GrpcError's code, else INTERNAL). */
  fail(error: unknown): void;
}

export type UnaryHandler = (request: Buffer, metadata: http2.IncomingHttpHeaders) => Buffer | Promise<Buffer>;
export type StreamHandler = (call: ServerCall) => void;

export type Method =
  { readonly kind: 'unary'; readonly handle: UnaryHandler } | { readonly kind: 'stream'; readonly handle: StreamHandler };

export interface GrpcConnection {
  /** Tears the connection down; calls still running are cancelled. */
  close(): void;
}

/** Writes gRPC's prefix for a message of `length` bytes at `at`: not compressed, big-endian length. */
export function frameHeader(out: Buffer, at: number, length: number): void {
  out[at] = 0;
  out.writeUInt32BE(length, at + 1);
}

/** Serves `methods` (by full path, `/pkg.Service/Method`) on an already connected socket. */
export function serveGrpc(socket: Duplex, methods: ReadonlyMap<string, Method>, onError?: (e: Error) => void): GrpcConnection {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', (e) => onError?.(e));
  });
  server.on('stream', (stream, headers, _flags, rawHeaders) => dispatch(stream, headers, rawHeaders, methods, onError));
  server.emit('connection', socket);
  return {
    close() {
      for (const s of sessions) s.destroy();
      socket.destroy();
    },
  };
}

function dispatch(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: readonly string[],
  methods: ReadonlyMap<string, Method>,
  onError?: (e: Error) => void,
): void {
  stream.on('error', (e) => onError?.(e));
  const call = new Call(stream, headers, rawHeaders);
  const method = methods.get(String(headers[':path'] ?? ''));
  if (!method) {
    call.fail(new GrpcError(GrpcStatus.UNIMPLEMENTED, `${String(headers[':path'])} is not served by this client`));
    return;
  }
  if (method.kind === 'stream') {
    try {
      method.handle(call);
    } catch (e) {
      call.fail(e);
    }
    return;
  }
  let request: Buffer | undefined;
  call.onMessage((m) => (request ??= m));
  stream.on('end', () => {
    Promise.resolve()
      .then(() => method.handle(request ?? Buffer.alloc(0), headers))
      .then(async (reply) => {
        await call.send(reply);
        call.end();
      })
      .catch((e: unknown) => call.fail(e));
  });
}

class Call implements ServerCall {
  private listener: ((m: Buffer) => void) | undefined;
  private pending: Buffer[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private responded = false;
  private done = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    readonly metadata: http2.IncomingHttpHeaders,
    private readonly rawHeaders: readonly string[],
  ) {
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  values(key: string): string[] {
    const out: string[] = [];
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      if (this.rawHeaders[i]!.toLowerCase() === key) out.push(this.rawHeaders[i + 1]!);
    }
    return out;
  }

  onMessage(fn: (message: Buffer) => void): void {
    this.listener = fn;
    for (const m of this.pending.splice(0)) fn(m);
  }

  send(...messages: Buffer[]): Promise<void> {
    const frames = Buffer.allocUnsafe(messages.reduce((n, m) => n + 5 + m.length, 0));
    let at = 0;
    for (const m of messages) {
      frameHeader(frames, at, m.length);
      m.copy(frames, at + 5);
      at += 5 + m.length;
    }
    return this.sendFramed(frames);
  }

  sendFramed(frames: Buffer): Promise<void> {
    if (this.done || this.stream.destroyed) return Promise.resolve();
    this.respond();
    if (this.stream.write(frames)) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = (): void => {
        this.stream.off('drain', settle);
        this.stream.off('close', settle);
        resolve();
      };
      this.stream.on('drain', settle);
      this.stream.on('close', settle);
    });
  }

  end(): void {
    this.finish(GrpcStatus.OK, '');
  }

  fail(error: unknown): void {
    const code = error instanceof GrpcError ? error.code : GrpcStatus.INTERNAL;
    this.finish(code, error instanceof Error ? error.message : String(error));
  }

  private finish(code: number, message: string): void {
    if (this.done || this.stream.destroyed) return;
    this.done = true;
    const status = definedFields({
      'grpc-status': String(code),
      'grpc-message': message ? encodeURIComponent(message) : undefined,
    });
    if (!this.responded) {
      // Trailers-only: the status rides on the one HEADERS frame.
      this.responded = true;
      this.stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...status }, { endStream: true });
      return;
    }
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(status));
    this.stream.end();
  }

  private respond(): void {
    if (this.responded) return;
    this.responded = true;
    this.stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  }

  /** Splits the request body into messages; a frame may arrive in pieces or several in one chunk. */
  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const length = this.buffered.readUInt32BE(1);
      if (this.buffered.length < 5 + length) break;
      if (this.buffered[0] !== 0) {
        this.fail(new GrpcError(GrpcStatus.UNIMPLEMENTED, 'compressed messages are not accepted by this client'));
        return;
      }
      const message = this.buffered.subarray(5, 5 + length);
      this.buffered = this.buffered.subarray(5 + length);
      if (this.listener) this.listener(message);
      else this.pending.push(message);
    }
  }
}
