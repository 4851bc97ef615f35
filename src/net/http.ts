/**
 * One HTTP exchange over node:http/https: the body is a buffer or a stream made fresh by a
 * factory, the answer is read whole (rack and registry answers are small JSON or text).
 * Used by the rack client and the registry client; knows neither. Callers decide what to retry
 * using `TransportError.sent`. Not `fetch`: it applies browser rules (it refuses "bad ports"
 * such as 5061 or 6000) that Docker does not, and a registry or rack may listen on any port.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpExchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | (() => NodeJS.ReadableStream);
  /** Unset: Node's global agent (which honours HTTP(S)_PROXY when NODE_USE_ENV_PROXY=1, as fetch does). */
  agent?: http.Agent;
  signal?: AbortSignal;
  /** Gives up when the socket is silent this long (reads); unset = only the signal ends it. */
  idleTimeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  /** The reason phrase as the server sent it (`Too Many Requests`); empty over HTTP/2 or when absent. */
  statusText?: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A failure below HTTP. `sent` is false only when no connection was ever made, so the rack cannot have seen the request. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** Performs one exchange. Rejects with TransportError on network failure, or the signal's reason on abort. */
export function exchange(x: HttpExchange): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const lib = x.url.protocol === 'https:' ? https : http;
    let connected = false;
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      if (x.signal?.aborted) return reject(x.signal.reason);
      const err = e as NodeJS.ErrnoException;
      reject(new TransportError(err.message || String(e), err.code, connected, { cause: e }));
    };
    const options = { method: x.method, headers: x.headers, signal: x.signal, agent: x.agent };
    const req = lib.request(x.url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) return res.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        // Answered before the body was all sent: nothing will finish the request, so free its socket.
        if (!req.writableFinished) req.destroy();
        if (settled) return;
        settled = true;
        const status = res.statusCode ?? 0;
        resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('socket', (socket) => {
      // A reused keep-alive socket is already connected: the rack may see what we write.
      if (!socket.connecting) {
        connected = true;
        return;
      }
      socket.once(x.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => (connected = true));
    });
    req.on('error', fail);
    if (x.idleTimeoutMs)
      req.setTimeout(x.idleTimeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${x.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
    sendBody(req, x.body, (e) => {
      // The source failing (say, the tarball) is not a network problem: never retried.
      if (settled) return;
      settled = true;
      reject(e);
    });
  });
}

function sendBody(req: http.ClientRequest, body: HttpExchange['body'], sourceFailed: (e: unknown) => void): void {
  if (body === undefined || Buffer.isBuffer(body)) {
    req.end(body);
    return;
  }
  const stream = body() as Readable;
  stream.on('error', (e) => {
    sourceFailed(e);
    req.destroy(e);
  });
  // An early answer (401, 413) ends the exchange; stop reading the source.
  req.on('response', () => stream.unpipe(req));
  req.on('close', () => stream.destroy());
  stream.pipe(req);
}
