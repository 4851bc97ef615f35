/**
 * Reads the figures the e2e suites recorded (figures.ts) and renders the reliability table that
 * docs/reliability.md compiles (test/unit/docs.test.ts checks its rows are the ones rendered here).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FIGURES_FILE, type Figure } from './figures.js';

export const TABLE_FILE = FIGURES_FILE.replace(/\.jsonl$/, '.md');

export function resetFigures(): void {
  rmSync(FIGURES_FILE, { force: true });
}

function faultRow(figures: readonly Figure[], area: string, label: string): string | undefined {
  const mine = figures.filter((f): f is Extract<Figure, { kind: 'fault' }> => f.kind === 'fault' && f.area === area);
  if (mine.length === 0) return undefined;
  const n = (o: string): number => mine.filter((f) => f.outcome === o).length;
  return `| Faults: ${label} | ${mine.length} | ${n('survived')} survived, ${n('failed-cleanly')} failed cleanly, ${n('unclear')} unclear |`;
}

/** The table as Markdown (also written to .tmp/reliability.md); undefined when nothing was recorded. */
export function reliabilityTable(): string | undefined {
  if (!existsSync(FIGURES_FILE)) return undefined;
  const figures = readFileSync(FIGURES_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Figure);
  const table = renderReliabilityTable(figures);
  if (table) writeFileSync(TABLE_FILE, `${table}\n`);
  return table;
}

/** The reliability table of `figures` as Markdown: one row per kind (and fault area) recorded. */
export function renderReliabilityTable(figures: readonly Figure[]): string | undefined {
  const cancels = figures.filter((f): f is Extract<Figure, { kind: 'cancel' }> => f.kind === 'cancel');
  const bad = figures.filter((f): f is Extract<Figure, { kind: 'bad-input' }> => f.kind === 'bad-input');
  const secrets = figures.filter((f): f is Extract<Figure, { kind: 'secrets' }> => f.kind === 'secrets');
  const rows = [
    faultRow(figures, 'registry', 'registry (429 + Retry-After, 503, reset mid-upload, slow, down, refused, partial push)'),
    faultRow(
      figures,
      'rack',
      'rack (5xx and timeouts on reads and each write, lost answers, on the source and import routes, stuck app and build, dropped log sockets, rollbacks, release changed under us)',
    ),
    faultRow(figures, 'engine', 'engine (unreachable, failing build, full disk)'),
    cancels.length
      ? `| Cancellation (SIGTERM and SIGINT in build, push, upload, wait) | ${cancels.length} | ${cancels.filter((c) => c.clean).length} stopped cleanly; slowest stop ${Math.max(...cancels.map((c) => c.stopMs))} ms after the signal |`
      : undefined,
    bad.length
      ? `| Bad inputs | ${bad.length} | ${bad.filter((b) => b.rejected).length} rejected before any side effect (engine, registry, workspace, rack, GitHub API untouched) |`
      : undefined,
    secrets.length
      ? `| Secret scans (4 forms × places × secrets, ${new Set(secrets.map((s) => s.flow)).size} runs) | ${secrets.reduce((a, s) => a + s.scans, 0)} | ${secrets.reduce((a, s) => a + s.leaks, 0)} leaks |`
      : undefined,
  ].filter((r): r is string => r !== undefined);
  if (rows.length === 0) return undefined;
  return ['| Check | Tried | Result |', '| --- | ---: | --- |', ...rows].join('\n');
}
