/**
 * Clocks, sleeps, back-off and polling schedules for talking to the rack. Pure apart from
 * `realSleep`, and every loop takes these as parameters so tests can run them on fake time.
 */

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real sleep, with abort support. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Delay before retry number `attempt` (1-based) of a failed read: exponential from 250 ms, capped
 * at 4 s, with jitter in [50 %, 100 %] so several runners hitting one rack spread out.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(4000, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/** A polling schedule: fast at first (most waits are short), backing off to a ceiling. */
export interface PollSchedule {
  firstMs: number;
  factor: number;
  maxMs: number;
  /** After this long, the ceiling rises to `slowMaxMs` (long rollouts need not be watched closely). */
  slowAfterMs?: number;
  slowMaxMs?: number;
}

/** Build status: the build itself takes minutes, so a few seconds of lag matter little. */
export const BUILD_POLL: PollSchedule = { firstMs: 500, factor: 1.5, maxMs: 3000, slowAfterMs: 10 * 60_000, slowMaxMs: 5000 };
/** App status after promote: this is the latency people feel at the end of a deploy. */
export const ROLLOUT_POLL: PollSchedule = { firstMs: 250, factor: 1.6, maxMs: 1500, slowAfterMs: 5 * 60_000, slowMaxMs: 4000 };
/** Waiting for someone else's update to finish before we promote. */
export const UPDATING_POLL: PollSchedule = { firstMs: 1000, factor: 1.5, maxMs: 5000 };

/** Delay before poll number `n` (0-based) when `elapsedMs` have passed since polling began. */
export function pollDelayMs(schedule: PollSchedule, n: number, elapsedMs: number): number {
  const slow = schedule.slowAfterMs !== undefined && elapsedMs >= schedule.slowAfterMs;
  const cap = slow ? (schedule.slowMaxMs ?? schedule.maxMs) : schedule.maxMs;
  return Math.round(Math.min(cap, schedule.firstMs * schedule.factor ** n));
}

/**
 * The deploy's overall time limit. Its signal aborts at the deadline (and with the caller's
 * signal), so every request and sleep ends there; `expired` tells a timeout from a cancel.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number,
    readonly startedAt = now(),
    parent?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.controller.abort(new DeadlineExceeded(timeoutMs)), timeoutMs);
    this.signal = parent ? AbortSignal.any([parent, this.controller.signal]) : this.controller.signal;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.startedAt + this.timeoutMs - this.now());
  }

  elapsed(): number {
    return this.now() - this.startedAt;
  }

  expired(): boolean {
    return this.controller.signal.aborted || this.remaining() === 0;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** The reason a Deadline's signal aborts with. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}
