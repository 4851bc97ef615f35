/**
 * tonistiigi/fsutil itself as the oracle for src/context/filter.ts: the Go module (current fsutil,
 * and the one Debian's docker 20.10 CLI vendors) built from the module proxy and run in a child.
 * First it must pass fsutil's own tables (that checks the port of the tables and the oracle);
 * then filteredWalk must send what fsutil sends on random trees and pattern sets. Knobs:
 * FSUTIL_RUNS (300), FSUTIL_SEED and FSUTIL_PATH (a replay, as a failure prints them),
 * FSUTIL_TRACE=file (each case appended before it runs, to find one that hangs).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OraclePool,
  GoMode,
  hasBit,
  markdownTable,
  oracleSkipReason,
  printReport,
  type OracleEntry,
  type OracleVersion,
} from '../support/fsutil-oracle.js';
import {
  layVectorTree,
  loadFsutilVectors,
  vectorProblems,
  vectorTitle,
  type BufWalkEntry,
  type VectorOutcome,
  type WalkVector,
} from '../support/fsutil-tree.js';
import { PatternError as FilterPatternError } from '../../../src/context/patterns.js';
import { contextCaseArbitrary, layTree, resolveCase, treeText, type ContextCase } from '../support/context-arbitraries.js';
import { followLinksOutcome, sentStats, type FsStat } from '../support/filter-walk.js';
import { countCase, noteDeparture, reportOldDepartures, type Departure } from '../support/fsutil-departures.js';

const vectors = loadFsutilVectors();
const skip = oracleSkipReason();

function oracleStat(e: OracleEntry): FsStat {
  return { ...e, size: BigInt(e.size), devmajor: BigInt(e.devmajor), devminor: BigInt(e.devminor) };
}

const RUNS = Number(process.env.FSUTIL_RUNS ?? 300);
// A fresh seed each run explores more; the failure message and the report name it for a replay.
const SEED = process.env.FSUTIL_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FSUTIL_SEED);
const REPLAY = process.env.FSUTIL_PATH;

function oracleBufEntry(e: OracleEntry): BufWalkEntry {
  return { path: e.path, isDir: hasBit(e.mode, GoMode.dir), isSymlink: hasBit(e.mode, GoMode.symlink), linkname: e.linkname };
}

describe.skipIf(skip !== undefined)('fsutil oracle', () => {
  const pool = new OraclePool();
  const oracle = (version: OracleVersion, asNobody = false) => pool.get(version, asNobody);

  beforeAll(() => pool.prepare(['current', '20.10']), 600_000);
  // Reported, not asserted: where docker 20.10's fsutil departs from the current tables.
  afterAll(async () => {
    try {
      if (pool.ready) await reportOldTables();
    } finally {
      pool.close();
    }
  }, 120_000);

  async function reportOldTables(): Promise<void> {
    const rows: { vector: string; problem: string }[] = [];
    for (const [i, v] of vectors.walk.entries())
      for (const problem of vectorProblems(v, await runOnOracle('20.10', v))) rows.push({ vector: vectorTitle(v, i), problem });
    for (const [i, v] of vectors.followLinks.entries()) {
      const root = layVectorTree(v);
      const res = await oracle('20.10')
        .followLinks(root, v.paths)
        .finally(() => rmSync(root, { recursive: true, force: true }));
      if (JSON.stringify(res) !== JSON.stringify({ paths: v.result ?? undefined }))
        rows.push({ vector: vectorTitle(v, i), problem: JSON.stringify(res) });
    }
    const title = `fsutil 0834f99b (Debian's docker 20.10 CLI) against ${vectors.repo}@${vectors.commit.slice(0, 12)}'s tables: ${rows.length} departures`;
    printReport('fsutil-20.10-tables.md', rows.length > 0 ? `${title}\n\n${markdownTable(rows)}` : title);
  }

  async function runOnOracle(version: OracleVersion, v: WalkVector): Promise<VectorOutcome> {
    const root = layVectorTree(v);
    try {
      const o = oracle(version, v.asUser === 'nonroot');
      const req = { root, include: v.include, exclude: v.exclude, follow: v.follow };
      const res = await o.walk(req);
      const found = v.callback === 'skipDir' ? (await o.walk({ ...req, skipDir: true })).entries.map((e) => e.path) : undefined;
      return {
        entries: res.entries.map(oracleBufEntry),
        ...(res.error ? { error: { message: res.error } } : {}),
        found,
      };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  describe(`current fsutil passes its own tables (${vectors.repo}@${vectors.commit.slice(0, 12)})`, () => {
    it.each(vectors.walk.map((v, i) => [vectorTitle(v, i), v] as const))('%s', async (_title, v) => {
      const outcome = await runOnOracle('current', v);
      expect(vectorProblems(v, outcome)).toEqual([]);
      // The emulation of SkipDir that the filter.ts test applies to a whole walk agrees with Go's.
      if (outcome.found) expect(vectorProblems(v, { entries: outcome.entries })).toEqual([]);
    });

    it.each(vectors.followLinks.map((v, i) => [vectorTitle(v, i), v] as const))('%s', async (_title, v) => {
      const root = layVectorTree(v);
      try {
        const res = await oracle('current').followLinks(root, v.paths);
        expect(res).toEqual({ paths: v.result ?? undefined });
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });

  describe(`filteredWalk against current fsutil, ${RUNS} random trees and pattern sets`, () => {
    const departures = new Map<string, Departure>();
    const seen = {
      cases: 0,
      'fsutil fails': 0,
      'nothing sent': 0,
      'part sent': 0,
      'all sent': 0,
      'hard links sent': 0,
      'fifos sent': 0,
    };
    afterAll(() => reportOldDepartures(departures, seen, SEED));

    it('sends what fsutil sends, field for field', async () => {
      const property = fc.asyncProperty(contextCaseArbitrary, async (c) => {
        const root = mkdtempSync(path.join(tmpdir(), 'fsutil-prop-'));
        try {
          if (process.env.FSUTIL_TRACE) appendFileSync(process.env.FSUTIL_TRACE, `${JSON.stringify(c)}\n`);
          layTree(root, c.tree);
          const lists = resolveCase(c);
          const req = { root, ...lists };
          const [want, old, all] = await Promise.all([
            oracle('current').walk(req),
            oracle('20.10').walk(req),
            oracle('current').walk({ root }),
          ]);
          countCase(seen, want, all);
          const ours = sentStats(root, {
            includePatterns: lists.include,
            excludePatterns: lists.exclude,
            followPaths: lists.follow,
          });
          noteDeparture(departures, c, want, old);
          if (lists.follow) {
            const theirs = await oracle('current').followLinks(root, lists.follow);
            if (theirs.error === undefined) expect(followLinksOutcome(root, lists.follow)).toEqual({ paths: theirs.paths });
          }
          if (want.error !== undefined) {
            expect(ours.error, `fsutil fails with ${want.error}`).toBeDefined();
            if (/invalid (include|exclude)patterns/.test(want.error)) expect(ours.error).toBeInstanceOf(FilterPatternError);
          } else {
            expect(ours.error).toBeUndefined();
            expectSameStats(ours.stats, want.entries.map(oracleStat));
          }
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      });
      const details = await fc.check(property, { numRuns: RUNS, seed: SEED, path: REPLAY, endOnFailure: REPLAY !== undefined });
      if (details.failed) throw new Error(failureReport(details));
    }, 300_000);
  });
});

/** Stats as lines, so a failure shows ours and fsutil's side by side (vitest elides objects). */
function statLine(s: FsStat): string {
  const mode = `0o${s.mode.toString(8)}`;
  return `${s.path} mode=${mode} uid=${s.uid} gid=${s.gid} size=${s.size} mtime=${s.modTime} link=${JSON.stringify(s.linkname)} dev=${s.devmajor},${s.devminor}`;
}

function expectSameStats(ours: readonly FsStat[], fsutil: readonly FsStat[]): void {
  const [a, b] = [ours.map(statLine), fsutil.map(statLine)];
  if (JSON.stringify(a) !== JSON.stringify(b))
    throw new Error(`filteredWalk sends:\n  ${a.join('\n  ') || '(nothing)'}\nfsutil sends:\n  ${b.join('\n  ') || '(nothing)'}`);
}

function failureReport(details: fc.RunDetails<[ContextCase]>): string {
  const c = details.counterexample?.[0];
  const shown = c ? `\nshrunk: tree ${treeText(c.tree)}\n        lists ${JSON.stringify(resolveCase(c))}` : '';
  const e = details.errorInstance;
  const got = `\n${e instanceof Error ? e.message : String(e)}`.slice(0, 4000);
  const replay = `FSUTIL_SEED=${details.seed} FSUTIL_PATH=${details.counterexamplePath ?? ''} npx vitest run test/unit/context/filter-oracle.test.ts`;
  return `${fc.defaultReportMessage(details) ?? 'property failed'}${shown}${got}\nreplay: ${replay}`;
}
