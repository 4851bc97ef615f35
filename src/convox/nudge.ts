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

  /** Sleeps `ms` unless woken; true when woken. Rejects only when `signal` aborts. */
  async wait(sleep: Sleep, ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return true;
    }
    const cut = new AbortController();
    try {
      return await new Promise<boolean>((resolve, reject) => {
        this.wakeUp = () => {
          cut.abort();
          resolve(true);
        };
        sleep(ms, AbortSignal.any([signal, cut.signal])).then(
          () => resolve(false),
          () => (signal.aborted ? reject(signal.reason) : resolve(true)),
        );
        if (signal.aborted) reject(signal.reason);
      });
    } finally {
      this.wakeUp = undefined;
    }
  }
}
