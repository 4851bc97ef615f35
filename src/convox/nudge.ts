/**
 * A poll-loop sleep that something else can cut short: the build log reaching its end means
 * the status has probably changed, so the next poll should happen now, not in three seconds.
 */
import type { Sleep } from './timing.js';

export class Nudge {
  private wakeUp: (() => void) | undefined;
  private pending = false;

  /** Ends the current wait early (or the next one, if none is under way). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pending = true;
  }

  /** Sleeps `ms` unless woken; rejects only when `signal` aborts. */
  async wait(sleep: Sleep, ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    const cut = new AbortController();
    try {
      await new Promise<void>((resolve, reject) => {
        this.wakeUp = () => {
          cut.abort();
          resolve();
        };
        sleep(ms, AbortSignal.any([signal, cut.signal])).then(resolve, () => (signal.aborted ? reject(signal.reason) : resolve()));
        if (signal.aborted) reject(signal.reason);
      });
    } finally {
      this.wakeUp = undefined;
    }
  }
}
