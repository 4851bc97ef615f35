/**
 * Reliability figures recorded by the e2e suites (test/e2e/reliability/) and printed as one table
 * at the end of the run (test/support/global-setup.ts), also written to .tmp/reliability.md for
 * docs/reliability.md. One JSON line per fact, appended, so files that run one after another add up.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const FIGURES_FILE = path.resolve(import.meta.dirname, '../../.tmp/reliability.jsonl');

export type Figure =
  /** One injected fault and how the run ended: survived (exit 0, right result), failed cleanly, or unclear (an assertion on it failed). */
  | { kind: 'fault'; area: 'registry' | 'rack' | 'engine'; name: string; outcome: 'survived' | 'failed-cleanly' | 'unclear' }
  /** A cancellation: how long from the signal to the exit, and whether the report was right. */
  | { kind: 'cancel'; name: string; stopMs: number; clean: boolean }
  /** One bad input: rejected before any side effect, or not. */
  | { kind: 'bad-input'; name: string; rejected: boolean }
  /** Secret scans of one run's output: forms × places × secrets looked for, and how many were found. */
  | { kind: 'secrets'; flow: string; scans: number; leaks: number };

export function recordFigure(figure: Figure): void {
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, `${JSON.stringify(figure)}\n`);
}
