import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../../../src/log.js';
import {
  HttpStatusError,
  classifyError,
  classifyHttpStatus,
  describeFailure,
  isTransientNetworkError,
  parseRetryAfter,
  retry,
  type RetryOptions,
} from '../../../src/retry.js';

const WHAT = 'push 127.0.0.1:5055/acme/shop:1';

function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

/** mulberry32: a tiny seeded generator, so waits are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fails with each of `failures` in turn, then returns 'ok'. */
function failing(failures: unknown[]): { fn: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    fn: async (attempt) => {
      attempts.push(attempt);
      const failure = failures[attempt - 1];
      if (failure !== undefined) throw failure;
      return 'ok';
    },
  };
}

function harness(extra: Partial<RetryOptions> = {}): { opts: RetryOptions; waits: number[]; log: MemoryLog } {
  const waits: number[] = [];
  const log = new MemoryLog();
  const opts: RetryOptions = {
    classify: classifyError,
    log,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: sequence([0.5, 0.25, 0.999, 0]),
    ...extra,
  };
  return { opts, waits, log };
}

const s503 = new HttpStatusError(503, 'Service Unavailable');
const s401 = new HttpStatusError(401, 'Unauthorized');
const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('retry', () => {
  it('returns the first success without waiting or logging', async () => {
    const { opts, waits, log } = harness();
    await expect(retry(WHAT, async () => 7, opts)).resolves.toBe(7);
    expect(waits).toEqual([]);
    expect(log.lines).toEqual([]);
  });

  it('backs off exponentially with full jitter and logs each retry', async () => {
    const { opts, waits, log } = harness();
    const { fn, attempts } = failing([s503, reset, s503]);
    await expect(retry(WHAT, fn, opts)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4]);
    // random 0.5 × 500, 0.25 × 1000, 0.999 × 2000
    expect(waits).toEqual([250, 250, 1998]);
    expect(log.lines).toEqual([
      `${WHAT}: attempt 2/5 after 503 Service Unavailable, waiting 0.3s`,
      `${WHAT}: attempt 3/5 after ECONNRESET (socket hang up), waiting 0.3s`,
      `${WHAT}: attempt 4/5 after 503 Service Unavailable, waiting 2.0s`,
    ]);
  });

  it('gives reproducible waits with a seeded generator, capped at maxMs', async () => {
    const { opts, waits } = harness({ random: seeded(42), baseMs: 1000, maxMs: 3000, attempts: 6 });
    await expect(retry(WHAT, failing([s503, s503, s503, s503, s503, s503]).fn, opts)).rejects.toBe(s503);
    const again = harness({ random: seeded(42), baseMs: 1000, maxMs: 3000, attempts: 6 });
    await expect(retry(WHAT, failing([s503, s503, s503, s503, s503, s503]).fn, again.opts)).rejects.toBe(s503);
    expect(waits).toEqual(again.waits);
    const r = seeded(42);
    expect(waits).toEqual([1000, 2000, 3000, 3000, 3000].map((cap) => Math.floor(r() * cap)));
    expect(waits).toHaveLength(5);
  });

  it('stops at once on a fatal failure and rethrows it unchanged', async () => {
    const { opts, waits, log } = harness();
    const { fn, attempts } = failing([s503, s401]);
    await expect(retry(WHAT, fn, opts)).rejects.toBe(s401);
    expect(attempts).toEqual([1, 2]);
    expect(waits).toEqual([250]);
    expect(log.lines).toHaveLength(1);
  });

  it('rethrows the last failure when the attempts run out', async () => {
    const { opts, waits } = harness({ attempts: 3 });
    const last = new HttpStatusError(502, 'Bad Gateway');
    const { fn, attempts } = failing([s503, s503, last]);
    await expect(retry(WHAT, fn, opts)).rejects.toBe(last);
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toEqual([250, 250]);
  });

  it.each([
    ['3', 3000, 'waiting 3.0s'],
    ['0', 0, 'waiting 0.0s'],
    ['120', 30_000, 'waiting 30.0s (Retry-After asked for 120.0s)'],
  ])('honours Retry-After: %s exactly, capped at maxMs', async (header, wait, logged) => {
    const { opts, waits, log } = harness();
    const busy = new HttpStatusError(429, 'Too Many Requests', new Headers({ 'retry-after': header }));
    await expect(retry(WHAT, failing([busy]).fn, opts)).resolves.toBe('ok');
    expect(waits).toEqual([wait]);
    expect(log.lines).toEqual([`${WHAT}: attempt 2/5 after 429 Too Many Requests, ${logged}`]);
  });

  it('uses a custom classifier and describer', async () => {
    const { opts, waits, log } = harness({ classify: () => ({ retryAfterMs: 1500 }), describe: () => 'rack busy' });
    await expect(retry('deploy', failing([new Error('x')]).fn, opts)).resolves.toBe('ok');
    expect(waits).toEqual([1500]);
    expect(log.lines).toEqual(['deploy: attempt 2/5 after rack busy, waiting 1.5s']);
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('job cancelled'));
    const { opts } = harness({ signal: controller.signal });
    const { fn, attempts } = failing([]);
    await expect(retry(WHAT, fn, opts)).rejects.toThrow('job cancelled');
    expect(attempts).toEqual([]);
  });

  it('stops at once when aborted during the wait (real sleep)', async () => {
    const controller = new AbortController();
    const log = new MemoryLog();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('job cancelled')), 20);
    const { fn, attempts } = failing([s503, s503]);
    const opts: RetryOptions = { classify: classifyError, log, signal: controller.signal, random: () => 0.99, baseMs: 60_000 };
    await expect(retry(WHAT, fn, opts)).rejects.toThrow('job cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(attempts).toEqual([1]);
  });

  it('does not retry a failure caused by its own abort', async () => {
    const controller = new AbortController();
    const { opts, waits } = harness({ signal: controller.signal });
    const fn = async (): Promise<never> => {
      controller.abort(new Error('job cancelled'));
      throw reset;
    };
    await expect(retry(WHAT, fn, opts)).rejects.toThrow('job cancelled');
    expect(waits).toEqual([]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Sun, 22 Nov 2026 20:55:00 GMT');
  it.each([
    ['5', 5000],
    [' 12 ', 12_000],
    ['Sun, 22 Nov 2026 20:55:07 GMT', 7000],
    ['Sun, 22 Nov 2026 20:54:00 GMT', 0],
    ['soon', undefined],
    ['-3', undefined],
    ['1.5', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %s', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('classifyHttpStatus', () => {
  const now = Date.parse('Sun, 22 Nov 2026 20:55:00 GMT');
  it.each([
    [429, {}, 'retry'],
    [429, { 'retry-after': '2' }, { retryAfterMs: 2000 }],
    [503, { 'retry-after': 'Sun, 22 Nov 2026 20:55:04 GMT' }, { retryAfterMs: 4000 }],
    [500, {}, 'retry'],
    [502, {}, 'retry'],
    [504, {}, 'retry'],
    [408, {}, 'retry'],
    [501, {}, 'fatal'],
    [505, {}, 'fatal'],
    [401, { 'retry-after': '1' }, 'fatal'],
    [403, {}, 'fatal'],
    [404, {}, 'fatal'],
    [400, {}, 'fatal'],
  ])('%i %j → %j', (status, headers, verdict) => {
    expect(classifyHttpStatus(status, new Headers(headers), now)).toEqual(verdict);
  });
});

describe('isTransientNetworkError', () => {
  const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  it.each([
    [coded('ECONNRESET'), true],
    [coded('ECONNREFUSED'), true],
    [coded('EPIPE'), true],
    [coded('ETIMEDOUT'), true],
    [coded('EAI_AGAIN'), true],
    [coded('UND_ERR_SOCKET', 'other side closed'), true],
    [new TypeError('fetch failed', { cause: coded('ECONNRESET') }), true],
    [new Error('socket hang up'), true],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), true],
    [coded('ENOTFOUND'), false],
    [coded('CERT_HAS_EXPIRED'), false],
    [new TypeError('fetch failed', { cause: coded('ENOTFOUND') }), false],
    [new Error('boom'), false],
    ['ECONNRESET', false],
    [undefined, false],
  ])('%s → %s', (err, transient) => {
    expect(isTransientNetworkError(err)).toBe(transient);
  });

  it('recognises the errors fetch really throws for a dropped and a refused connection', async () => {
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dropped = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    await new Promise((resolve) => server.close(resolve));
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(isTransientNetworkError(dropped)).toBe(true);
    expect(isTransientNetworkError(refused)).toBe(true);
    expect(describeFailure(refused)).toContain('ECONNREFUSED');
    expect(describeFailure(dropped)).toMatch(/^UND_ERR_SOCKET \(other side closed\)$|ECONNRESET/);
  });
});

describe('describeFailure', () => {
  it.each([
    [new HttpStatusError(503, 'Service Unavailable'), '503 Service Unavailable'],
    [new HttpStatusError(500, ''), '500'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ECONNRESET (socket hang up)'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'read ECONNRESET'],
    [
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      }),
      'connect ECONNREFUSED 127.0.0.1:1',
    ],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timed out'],
    [new Error('boom'), 'boom'],
    ['text', 'text'],
  ])('%s → %s', (err, text) => {
    expect(describeFailure(err)).toBe(text);
  });
});
