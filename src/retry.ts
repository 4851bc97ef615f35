/**
 * Classified retries: transient failures (429, 5xx, dropped connections) are retried with
 * exponential backoff and full jitter, honouring `Retry-After`; everything else fails at once.
 * Used for registry calls, pushes and rack API calls.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Log } from './log.js';

/** What to do after a failure: try again (optionally after the server's wait), or give up. */
export type RetryDecision = 'retry' | { readonly retryAfterMs: number } | 'fatal';

export interface RetryOptions {
  /** Total tries including the first. Default 5. */
  readonly attempts?: number;
  /** Backoff before the second try, doubled each time (before jitter). Default 500 ms. */
  readonly baseMs?: number;
  /** Cap on any single wait, `Retry-After` included. Default 30 s. */
  readonly maxMs?: number;
  readonly classify: (err: unknown) => RetryDecision;
  readonly log: Log;
  /** Waits `ms`, rejecting as soon as `signal` aborts. Tests pass a recorder. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1); tests pass a seeded generator. */
  readonly random?: () => number;
  readonly signal?: AbortSignal;
  /** How a failure reads in the log line; defaults to `describeFailure`. */
  readonly describe?: (err: unknown) => string;
}

/** A non-success HTTP answer, carrying what classification and messages need. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers = new Headers(),
    message?: string,
  ) {
    super(message ?? `${status} ${statusText}`.trim());
  }
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the operation was cancelled');
}

/** `1.2s`: one decimal is as precise as a reader of the log needs. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Runs `fn` until it succeeds, `classify` calls a failure fatal, the attempts run out, or
 * `signal` aborts. The last failure is rethrown unchanged so callers can still tell what it was.
 * Each retry is logged: `push …: attempt 2/5 after 503 Service Unavailable, waiting 1.2s`.
 */
export async function retry<T>(what: string, fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const baseMs = opts.baseMs ?? 500;
  const maxMs = opts.maxMs ?? 30_000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const describe = opts.describe ?? describeFailure;
  const { signal } = opts;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      // A failure caused by our own cancellation is not the server's fault: do not retry it.
      if (signal?.aborted) throw abortError(signal);
      const verdict = opts.classify(err);
      if (verdict === 'fatal' || attempt >= attempts) throw err;
      const backoff = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      const waitMs = verdict === 'retry' ? Math.floor(random() * backoff) : Math.min(maxMs, Math.max(0, verdict.retryAfterMs));
      const asked =
        verdict !== 'retry' && verdict.retryAfterMs > maxMs ? ` (Retry-After asked for ${seconds(verdict.retryAfterMs)})` : '';
      opts.log.info(`${what}: attempt ${attempt + 1}/${attempts} after ${describe(err)}, waiting ${seconds(waitMs)}${asked}`);
      await sleep(waitMs, signal).catch((e: unknown) => {
        throw signal?.aborted ? abortError(signal) : e;
      });
      if (signal?.aborted) throw abortError(signal);
    }
  }
}

/**
 * Parses `Retry-After`: delay-seconds or an HTTP date (relative to `now`). Undefined when absent
 * or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with a day name; without this check Date.parse takes "1.5" or "-3".
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How an HTTP status should be treated: 429 and 503 honour `Retry-After`; 408 and other 5xx
 * are retried with backoff, except 501 and 505, which no retry can fix; 401/403 and every other
 * 4xx are fatal (retrying bad credentials can lock an account).
 */
export function classifyHttpStatus(status: number, headers?: Headers, now: number = Date.now()): RetryDecision {
  if (status === 429 || status === 408 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)) {
    const after = parseRetryAfter(headers?.get('retry-after'), now);
    return after === undefined ? 'retry' : { retryAfterMs: after };
  }
  return 'fatal';
}

/**
 * Network failures worth another try. ECONNREFUSED is included on purpose: in CI it is most
 * often a registry or load balancer restarting, and a registry that is really down costs only
 * a few seconds of backoff before the same error is reported. ENOTFOUND (a misspelt host) is not.
 */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The error and its `cause` chain (fetch wraps the socket error in `TypeError: fetch failed`). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for dropped or refused connections, timeouts and temporary DNS failures. */
export function isTransientNetworkError(err: unknown): boolean {
  return chain(err).some((e) => {
    const code = codeOf(e);
    if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
    if (e instanceof Error && e.name === 'TimeoutError') return true;
    return e instanceof Error && /socket hang up/i.test(e.message);
  });
}

/** The usual classifier: HTTP statuses by `classifyHttpStatus`, transient network errors retried. */
export function classifyError(err: unknown): RetryDecision {
  if (err instanceof HttpStatusError) return classifyHttpStatus(err.status, err.headers);
  return isTransientNetworkError(err) ? 'retry' : 'fatal';
}

/** A failure as one short phrase for the log: `503 Service Unavailable`, `ECONNRESET (socket hang up)`. */
export function describeFailure(err: unknown): string {
  if (err instanceof HttpStatusError) return `${err.status} ${err.statusText}`.trim();
  const links = chain(err);
  if (links.some((e) => e instanceof Error && e.name === 'TimeoutError')) return 'timed out';
  const coded = links.find((e) => codeOf(e) !== undefined);
  if (coded !== undefined) {
    const message = coded instanceof Error ? coded.message : '';
    const code = codeOf(coded) ?? '';
    return message && !message.includes(code) ? `${code} (${message})` : message || code;
  }
  return err instanceof Error ? err.message : String(err);
}
