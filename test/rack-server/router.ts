/**
 * gorilla/mux-style route matching as stdapi uses it: `{name}` = one segment, `{name:.*}` = the
 * rest; routes tried in registration order; SOCKET routes match only GETs with
 * `Upgrade: websocket`; a path that matches with the wrong method gives 405, else 404.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Rack } from './rack.js';
import type { Reply } from './http.js';
import type { WebSocket } from 'ws';

/** Everything a handler may read about the request. */
export interface Ctx {
  rack: Rack;
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
  /** The body for raw readers; empty when the form parser consumed it. */
  raw: Buffer;
  /** True when a Console deploy key made the request. */
  deployKey: boolean;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;
export type SocketHandler = (ctx: Ctx, socket: LogSocket) => Promise<void>;

/** What socket handlers write to: Convox framing lives behind it (see sockets.ts). */
export interface LogSocket {
  readonly ws: WebSocket;
  /** One server write: split into several text frames of arbitrary size. */
  write(data: string | Buffer): Promise<void>;
  /** Whether the client went away (handlers stop following then). */
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler?: Handler;
  socket?: SocketHandler;
  /** The first v3 version that has the route (absent on older v3 and on v2 racks). */
  since?: string;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Compile `/apps/{app}/objects/{key:.*}` into a regex and its parameter names. */
export function route(method: string, pattern: string, fn: Handler | SocketHandler, since?: string): Route {
  const keys: string[] = [];
  const source = pattern
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^:}]+)(?::(.*))?\}$/.exec(part);
      if (!m) return part.replace(/[.+?^$()|[\]\\*]/g, '\\$&');
      keys.push(m[1] ?? '');
      return `(${m[2] ?? '[^/]+'})`;
    })
    .join('');
  const r: Route = { method, pattern, regex: new RegExp(`^${source}$`), keys, since };
  if (method === 'SOCKET') r.socket = fn as SocketHandler;
  else r.handler = fn as Handler;
  return r;
}

/** The first matching route, `405` when only the method was wrong, else `404`. */
export function matchRoute(routes: readonly Route[], method: string, path: string, upgrade: boolean): RouteMatch | 404 | 405 {
  let methodMismatch = false;
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (!m) continue;
    const isSocket = r.method === 'SOCKET';
    const wanted = isSocket ? 'GET' : r.method;
    if (wanted !== 'ANY' && wanted !== method) {
      if (!isSocket || upgrade) methodMismatch = true;
      continue;
    }
    if (isSocket !== upgrade && isSocket) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => (params[k] = m[i + 1] ?? ''));
    return { route: r, params };
  }
  return methodMismatch ? 405 : 404;
}

/** stdapi's parameter lookup: body form, then query, then a header of the same name. */
export function value(ctx: Ctx, name: string): string {
  const fromForm = ctx.form[name];
  if (fromForm) return fromForm;
  const fromQuery = ctx.query.get(name);
  if (fromQuery) return fromQuery;
  const header = ctx.headers[name.toLowerCase()];
  return (Array.isArray(header) ? header[0] : header) ?? '';
}

/**
 * An options parameter as stdapi's `UnmarshalOptions` reads it: present (even empty) in the body
 * form, else in the query; `undefined` when absent.
 */
export function param(ctx: Ctx, name: string): string | undefined {
  if (name in ctx.form) return ctx.form[name];
  return ctx.query.get(name) ?? undefined;
}

/** Header value as a string ('' when absent). */
export function header(ctx: Ctx, name: string): string {
  const h = ctx.headers[name.toLowerCase()];
  return (Array.isArray(h) ? h[0] : h) ?? '';
}
