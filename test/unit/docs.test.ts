/**
 * The performance and reliability tables live in docs/, written in the shape their generators
 * print (scripts/bench's table, test/support/figures-table.ts), and the README links to them
 * instead of carrying copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { table } from '../../scripts/bench/stats.js';
import { renderReliabilityTable } from '../support/figures-table.js';
import type { Figure } from '../support/figures.js';
import { ROOT } from './support/workflows.js';

const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');
const readme = read('README.md');
/** The Markdown table rows of `text` that start with `start`, and the rest of that table. */
const tableAt = (text: string, header: string): string[] => {
  const lines = text.split('\n');
  const i = lines.indexOf(header);
  if (i < 0) return [];
  const end = lines.findIndex((l, j) => j > i && !l.startsWith('|'));
  return lines.slice(i, end < 0 ? undefined : end);
};
/** Each row's first cell, its counts (`140 runs`) left out: they are figures, not labels. */
const firstCells = (rows: string[]): string[] =>
  rows.slice(2).map((r) => r.split(' | ')[0]!.replace(/^\| /, '').replace(/\d+/g, 'N'));

/** One figure of every kind and fault area, so every row the table can have is rendered. */
const everyKind: Figure[] = [
  ...(['registry', 'rack', 'engine'] as const).map((area): Figure => ({ kind: 'fault', area, name: area, outcome: 'survived' })),
  { kind: 'cancel', name: 'c', stopMs: 1, clean: true },
  { kind: 'bad-input', name: 'b', rejected: true },
  { kind: 'secrets', flow: 'f', scans: 1, leaks: 0 },
];

describe('the README', () => {
  it('links the performance and reliability documents, which exist, and carries no copy of their tables', () => {
    for (const doc of ['docs/performance.md', 'docs/reliability.md']) {
      expect(readme).toContain(`](${doc})`);
      expect(existsSync(path.join(ROOT, doc))).toBe(true);
    }
    expect(readme).not.toMatch(/^\| (Benchmark|Check) \|/m);
  });
});

describe('docs/reliability.md', () => {
  const rendered = renderReliabilityTable(everyKind)!.split('\n');
  const documented = tableAt(read('docs/reliability.md'), rendered[0]!);

  it("has the table test/support/figures-table.ts renders: its header and exactly its rows' checks", () => {
    expect(documented.slice(0, 2)).toEqual(rendered.slice(0, 2));
    expect(firstCells(documented)).toEqual(firstCells(rendered));
  });
});

describe('docs/performance.md', () => {
  it('has the table npm run bench prints, by its header', () => {
    const header = table([]).split('\n');
    expect(tableAt(read('docs/performance.md'), header[0]!).slice(0, 2)).toEqual(header);
  });
});
