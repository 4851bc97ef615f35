import type { Log } from '../log.js';
import type { PhaseName, PhaseRecord } from '../plan/types.js';

/**
 * Times each phase, runs it inside a log group, and remembers which phase was running so a
 * failure or a cancellation can say where it stopped.
 */
export class PhaseRecorder {
  readonly records: PhaseRecord[] = [];
  current: PhaseName | undefined;

  constructor(
    private readonly log: Log,
    private readonly clock: () => number = Date.now,
    private readonly onPhase: (phase: PhaseName) => void = () => {},
  ) {}

  async run<T>(name: PhaseName, title: string, fn: () => Promise<T>): Promise<T> {
    const started = this.clock();
    this.current = name;
    this.onPhase(name);
    try {
      const value = await this.log.group(title, fn);
      this.records.push({ name, status: 'ok', durationMs: this.clock() - started });
      return value;
    } catch (e) {
      this.records.push({ name, status: 'failed', durationMs: this.clock() - started });
      throw e;
    } finally {
      this.current = undefined;
    }
  }

  skip(name: PhaseName): void {
    this.records.push({ name, status: 'skipped', durationMs: 0 });
  }
}
