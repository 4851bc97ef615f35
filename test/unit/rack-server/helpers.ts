/** Raw HTTP and raw WebSocket conversations with the rack test server. */
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { WebSocket } from 'ws';
import type { RackServer } from '../../rack-server/index.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RawRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Password for Basic auth; `false` for none. Default: the server's password. */
  password?: string | false;
  user?: string;
}

export function basic(password: string, user = 'convox'): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One HTTP request; resolves with the whole answer, rejects on connection errors. */
export function call(server: RackServer, method: string, path: string, o: RawRequest = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(server.url);
  const headers: Record<string, string> = { ...o.headers };
  const password = o.password === undefined ? server.password : o.password;
  if (password !== false) headers.authorization = basic(password, o.user);
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A form POST the way the Convox SDK sends it. */
export function postForm(
  server: RackServer,
  path: string,
  form: Record<string, string>,
  o: RawRequest = {},
): Promise<RawResponse> {
  return call(server, 'POST', path, {
    ...o,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...o.headers },
    body: new URLSearchParams(form).toString(),
  });
}

export async function getJson<T = Record<string, unknown>>(server: RackServer, path: string, o: RawRequest = {}): Promise<T> {
  const r = await call(server, 'GET', path, o);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** A gzip tarball of `files` (path → text). */
export async function tgz(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, text] of Object.entries(files)) p.entry({ name }, text);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** Upload the source and create a build; returns the create answer's JSON. */
export async function createBuild(
  server: RackServer,
  app: string,
  files: Record<string, string>,
  form: Record<string, string> = {},
): Promise<Record<string, string>> {
  const up = await call(server, 'POST', `/apps/${app}/objects/tmp/src.tgz`, {
    headers: { 'content-type': 'application/octet-stream' },
    body: await tgz(files),
  });
  const url = (JSON.parse(up.text) as { Url: string }).Url;
  const r = await postForm(server, `/apps/${app}/builds`, { url, ...form });
  if (r.status !== 200) throw new Error(`build create: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as Record<string, string>;
}

export interface Frame {
  binary: boolean;
  data: Buffer;
}

export interface SocketResult {
  frames: Frame[];
  /** `eof`: empty binary frame seen; `closed`: connection ended without it. */
  end: 'eof' | 'closed';
  /** Text of all non-EOF frames joined. */
  text: string;
  /** Whether the server closed the socket in the `settleMs` after EOF. */
  serverClosedAfterEof: boolean;
}

/** Open a socket and read until the EOF frame (then close it ourselves) or until it drops. */
export function readSocket(
  server: RackServer,
  path: string,
  headers: Record<string, string> = {},
  o: { password?: string | false; settleMs?: number; onFrame?: (f: Frame) => void } = {},
): Promise<SocketResult> {
  const password = o.password === undefined ? server.password : o.password;
  const h = { ...headers, ...(password === false ? {} : { authorization: basic(password) }) };
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, { headers: h, skipUTF8Validation: true });
  const frames: Frame[] = [];
  return new Promise((resolve, reject) => {
    let eof = false;
    let closedAfterEof = false;
    const done = (end: 'eof' | 'closed'): void => {
      const text = Buffer.concat(frames.filter((f) => f.data.length > 0).map((f) => f.data)).toString('utf8');
      resolve({ frames, end, text, serverClosedAfterEof: closedAfterEof });
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = { binary: isBinary, data: Buffer.from(data) };
      frames.push(f);
      o.onFrame?.(f);
      if (isBinary && f.data.length === 0) {
        eof = true;
        // Give the server a moment to (wrongly) close first, then close as the client must.
        setTimeout(() => {
          ws.close();
          done('eof');
        }, o.settleMs ?? 30);
      }
    });
    ws.on('close', () => {
      if (eof) closedAfterEof = true;
      else done('closed');
    });
    ws.on('error', (e) => {
      if (!eof) reject(e);
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`status ${res.statusCode}`), {
            status: res.statusCode,
            body: Buffer.concat(chunks).toString(),
          }),
        ),
      );
    });
  });
}

/** Poll `fn` until it returns a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5000,
  stepMs = 2,
): Promise<Exclude<T, undefined | null | false | '' | 0>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as Exclude<T, undefined | null | false | '' | 0>;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A manifest with one image service. */
export const IMAGE_MANIFEST = 'services:\n  web:\n    image: ${IMAGE}\n    port: 3000\n';
