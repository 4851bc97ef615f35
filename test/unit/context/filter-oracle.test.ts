/**
 * tonistiigi/fsutil itself as the oracle for src/context/filter.ts: the Go module (current fsutil,
 * and the one Debian's docker 20.10 CLI vendors) built from the module proxy and run in a child.
 * First it must pass fsutil's own tables (that checks the port of the tables and the oracle).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OraclePool,
  GoMode,
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

const vectors = loadFsutilVectors();
const skip = oracleSkipReason();

function hasBit(mode: number, bit: number): boolean {
  return (mode & bit) >>> 0 !== 0;
}

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
        ...(found ? { found } : {}),
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
});
