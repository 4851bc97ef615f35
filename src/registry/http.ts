/**
 * Registry requests over the shared node:http(s) exchange (`src/net/http.ts`), never `fetch`:
 * fetch refuses the browser's "bad ports" (5060, 5061, 6000, 6665–6669, 10080 …) and Docker
 * refuses none, so a registry on `127.0.0.1:5061` would take the push and then fail the check.
 * What fetch gave the client is kept: redirects are followed (registries send manifest and blob
 * reads to storage or a CDN), Authorization goes only to the origin it was meant for, and the
 * answer's headers are a `Headers` (what `HttpStatusError` and `Retry-After` parsing read).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { exchange, type HttpAnswer, type HttpExchange } from '../net/http.js';

/** One HTTP exchange; tests pass a recorder, the client uses `src/net/http.ts`. */
export type Exchange = (x: HttpExchange) => Promise<HttpAnswer>;

export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Ends the request, redirects included (the caller's time limit and the job's cancellation). */
  readonly signal?: AbortSignal;
}

export interface RegistryAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Buffer;
  /** Where the answer came from, after redirects. */
  readonly url: URL;
}

/** Go's http.Client stops after 10 redirects; Docker's registry client is one. */
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'convox-image-deploy';

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}

function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

/** The method after a redirect, as fetch does it: 303 turns anything but HEAD into GET, 301/302 turn POST into GET. */
function redirectedMethod(status: number, method: RegistryRequest['method']): RegistryRequest['method'] {
  if (status === 303 && method !== 'HEAD') return 'GET';
  if ((status === 301 || status === 302) && method === 'POST') return 'GET';
  return method;
}

/**
 * Sends `req`, following up to MAX_REDIRECTS redirects. Across origins the Authorization header
 * is dropped (as fetch and Go's client do), so a registry's credentials never reach its storage
 * backend. Rejects with the exchange's TransportError, or the signal's reason when it aborts.
 */
export async function registryRequest(req: RegistryRequest, send: Exchange = exchange): Promise<RegistryAnswer> {
  let { method, url, body } = req;
  let headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
  for (let hop = 0; ; hop++) {
    const sized = body ? { ...headers, 'content-length': String(body.length) } : headers;
    const answer = await send({
      method,
      url,
      headers: sized,
      body,
      signal: req.signal,
    });
    const location = answer.headers.location;
    if (!REDIRECT_STATUSES.has(answer.status) || !location) {
      return {
        status: answer.status,
        statusText: answer.statusText ?? '',
        headers: toHeaders(answer.headers),
        body: answer.body,
        url,
      };
    }
    // The target is not named: a storage redirect's query string is a signed credential.
    if (hop >= MAX_REDIRECTS) throw new Error(`${url.host} redirected more than ${MAX_REDIRECTS} times`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new Error(`${url.host} redirected to a ${next.protocol} URL, which is not HTTP`);
    }
    if (next.origin !== url.origin) headers = without(headers, 'authorization');
    const nextMethod = redirectedMethod(answer.status, method);
    if (nextMethod !== method) {
      body = undefined;
      headers = without(headers, 'content-type');
    }
    method = nextMethod;
    url = next;
  }
}
