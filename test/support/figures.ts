/**
 * Reliability figures recorded by the e2e suites and printed as one table at the end of the
 * run (test/support/global-setup.ts) and written to .tmp/reliability.md for the README.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const FIGURES_FILE = path.resolve(import.meta.dirname, '../../.tmp/reliability.jsonl');

export function recordFigure(kind: string, values: Record<string, number>): void {
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ kind, ...values })}\n`);
}
