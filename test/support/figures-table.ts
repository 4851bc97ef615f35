/** Reads the figures the e2e suites recorded and renders the reliability table. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FIGURES_FILE } from './figures.js';

export function resetFigures(): void {
  rmSync(FIGURES_FILE, { force: true });
}

/** The table of the newest figures of each kind; undefined when nothing was recorded. */
export function reliabilityTable(): string | undefined {
  if (!existsSync(FIGURES_FILE)) return undefined;
  // Each suite records its kind once per run; the newest record of a kind is the one that counts.
  const sums: Record<string, Record<string, number>> = {};
  for (const line of readFileSync(FIGURES_FILE, 'utf8').split('\n').filter(Boolean)) {
    const { kind, ...values } = JSON.parse(line) as { kind: string } & Record<string, number>;
    sums[kind] = values;
  }
  const f = sums.faults ?? {};
  const b = sums['bad-inputs'] ?? {};
  const s = sums.secrets ?? {};
  const table = [
    '| Check | Tried | Result |',
    '| --- | ---: | --- |',
    `| Faults injected (registry, rack, engine, cancellation) | ${f.injected ?? 0} | ${f.survived ?? 0} survived, ${f.failedCleanly ?? 0} failed cleanly, ${(f.injected ?? 0) - (f.survived ?? 0) - (f.failedCleanly ?? 0)} unclear |`,
    `| Bad inputs | ${b.tried ?? 0} | ${b.rejectedBeforeSideEffects ?? 0} rejected before any side effect |`,
    `| Secret scans (forms × places × flows) | ${s.scans ?? 0} | ${s.leaks ?? 0} leaks |`,
  ].join('\n');
  writeFileSync(FIGURES_FILE.replace(/\.jsonl$/, '.md'), `${table}\n`);
  return table;
}
