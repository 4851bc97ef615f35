/**
 * Reading a rack SOCKET route (build logs, app logs) with `ws`, by the rack's rules
 * (docs/rack-api.md §1): each text frame is an arbitrary chunk of bytes, an empty binary
 * frame is the end (the server never closes, so we do), and an `ERROR: ` line ending the stream
 * is a failure reported after the upgrade (lines re-split across frames, which cut them anywhere).
 * A dropped or failed socket is a normal outcome, not an exception: callers keep polling and
 * re-read the stored log.
 */
import WebSocket from 'ws';

export interface SocketOptions {
  url: string;
  headers: Record<string, string>;
  rejectUnauthorized: boolean;
  signal?: AbortSignal;
  /** Called with every text frame's bytes, in order. */
  onData: (chunk: Buffer) => void;
  /** Keep-alive ping interval; proxies close quiet sockets (a long image push prints nothing). */
  pingMs?: number;
}

export interface SocketRead {
  /** Bytes delivered to onData. */
  bytes: number;
  /** `eof`: the rack said the stream is complete; `dropped`: it ended without saying so. */
  end: 'eof' | 'dropped' | 'refused' | 'aborted';
  /** The rack's `ERROR: …` text, or why the upgrade or connection failed. */
  error?: string;
  /** Set when the stream's last line was `ERROR: …`: the rack reporting that the stream failed. */
  failure?: StreamFailure;
}

export interface StreamFailure {
  /** The text after `ERROR: `. */
  text: string;
  /** The line's size in bytes, newline included (it was delivered to onData like any other). */
  bytes: number;
}

/** Reads one socket to its end. Never rejects. */
export function readSocket(opts: SocketOptions): Promise<SocketRead> {
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | undefined;
    let done = false;
    const errors = new ErrorLines();
    // Origin is left out: the rack's origin check passes requests without one.
    const ws = new WebSocket(opts.url, {
      headers: opts.headers,
      rejectUnauthorized: opts.rejectUnauthorized,
      handshakeTimeout: 30_000,
    });
    const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), opts.pingMs ?? 10_000);
    const finish = (end: SocketRead['end']): void => {
      if (done) return;
      done = true;
      clearInterval(ping);
      opts.signal?.removeEventListener('abort', onAbort);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      // Cut short by us, the last line so far says nothing about how the stream would have ended.
      const failure = end === 'aborted' ? undefined : errors.end();
      if (failure) error = failure.text;
      resolve({ bytes, end, error, failure });
    };
    const onAbort = (): void => finish('aborted');
    if (opts.signal?.aborted) return finish('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const chunk = toBuffer(data);
      if (isBinary && chunk.length === 0) return finish('eof');
      if (isBinary || done) return;
      errors.push(chunk);
      bytes += chunk.length;
      opts.onData(chunk);
    });
    ws.on('unexpected-response', (_req, res) => {
      const body: Buffer[] = [];
      res.on('data', (c: Buffer) => body.push(c));
      res.on('end', () => {
        error = `upgrade answered ${res.statusCode ?? 0}: ${Buffer.concat(body).toString('utf8').trim() || 'no message'}`;
        finish('refused');
      });
      res.on('error', () => finish('refused'));
    });
    ws.on('error', (e) => {
      error ??= e.message;
      finish(ws.readyState === WebSocket.CLOSED && bytes === 0 ? 'refused' : 'dropped');
    });
    ws.on('close', () => finish('dropped'));
  });
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const ERROR_PREFIX = 'ERROR: ';

/**
 * Finds an `ERROR: ` line at the end of a stream whose frames cut lines anywhere: only the last
 * line matters, so only it is kept. An `ERROR: ` line with output after it is ordinary log text
 * (pip, say, prints such lines), not the rack giving up on the stream.
 */
export class ErrorLines {
  /** The bytes after the last newline so far. */
  private rest: Buffer = Buffer.alloc(0);
  /** The last complete line, its newline included. */
  private lastLine: Buffer | undefined;

  push(chunk: Buffer): void {
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      this.rest = Buffer.concat([this.rest, chunk]);
      return;
    }
    const before = nl > 0 ? chunk.lastIndexOf(10, nl - 1) : -1;
    this.lastLine =
      before >= 0 ? Buffer.from(chunk.subarray(before + 1, nl + 1)) : Buffer.concat([this.rest, chunk.subarray(0, nl + 1)]);
    this.rest = Buffer.from(chunk.subarray(nl + 1));
  }

  /** The stream is over: the failure it ended with, if any (an unterminated last line counts). */
  end(): StreamFailure | undefined {
    const line = this.rest.length > 0 ? this.rest : this.lastLine;
    if (!line || line.subarray(0, ERROR_PREFIX.length).toString('latin1') !== ERROR_PREFIX) return undefined;
    return { text: line.toString('utf8').slice(ERROR_PREFIX.length).trim(), bytes: line.length };
  }
}

/**
 * Re-splits arbitrary byte chunks into lines. Works on bytes so a multi-byte character split
 * across two frames stays whole.
 */
export class LineBuffer {
  private rest: Buffer = Buffer.alloc(0);

  /** The complete lines in `chunk` (with what was left over before), without line endings. */
  push(chunk: Buffer): string[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      lines.push(stripCr(data.subarray(start, nl).toString('utf8')));
      start = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
    return lines;
  }

  /** The unterminated last line, if any. */
  flush(): string[] {
    const last = this.rest.length ? [stripCr(this.rest.toString('utf8'))] : [];
    this.rest = Buffer.alloc(0);
    return last;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
