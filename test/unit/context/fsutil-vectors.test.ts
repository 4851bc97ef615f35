/**
 * fsutil's own walker tables (filter_test.go and its neighbours, followlinks_test.go) run against
 * src/context/filter.ts. The vectors are test/fixtures/fsutil/vectors.json, each citing its source
 * file and test at the commit named there; filter-oracle.test.ts checks that fsutil itself passes them.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { followLinksOutcome, walkOutcome } from '../support/filter-walk.js';
import {
  NOBODY,
  layVectorTree,
  loadFsutilVectors,
  vectorProblems,
  vectorTitle,
  type VectorOutcome,
  type WalkVector,
} from '../support/fsutil-tree.js';
import { runProbe } from '../support/probe.js';

const vectors = loadFsutilVectors();

function options(v: WalkVector) {
  return { includePatterns: v.include, excludePatterns: v.exclude, followPaths: v.follow };
}

/** The permission vectors need a reader the mode bits stop: root is not one, so they run as NOBODY. */
async function outcomeAsNobody(root: string, v: WalkVector): Promise<VectorOutcome> {
  const code = `
    import { walkOutcome } from ${JSON.stringify(path.resolve('test/unit/support/filter-walk.ts'))};
    console.log(JSON.stringify(walkOutcome(${JSON.stringify(root)}, ${JSON.stringify(options(v))})));
  `;
  return JSON.parse(await runProbe(code, NOBODY)) as VectorOutcome;
}

describe(`fsutil's walker tables (${vectors.repo}@${vectors.commit.slice(0, 12)})`, () => {
  it.each(vectors.walk.map((v, i) => [vectorTitle(v, i), v] as const))('%s', async (_title, v) => {
    const root = layVectorTree(v);
    try {
      const outcome = v.asUser === 'nonroot' ? await outcomeAsNobody(root, v) : walkOutcome(root, options(v));
      expect(vectorProblems(v, outcome)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each(vectors.followLinks.map((v, i) => [vectorTitle(v, i), v] as const))('%s', (_title, v) => {
    const root = layVectorTree(v);
    try {
      expect(followLinksOutcome(root, v.paths)).toEqual({ paths: v.result ?? undefined });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
