/**
 * The pinned Go references are what Go says today: reference.json (the corpus) and
 * merge-keys.json (the merge-key cases) are compared with a fresh run of yamlref, built from the
 * Go module proxy. Without Go these tests skip, saying why, except under CI (`CI` set), where
 * they must run and so fail. UPDATE_REFERENCE=1 rewrites both files from the run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  CORPUS,
  GENERATED_BY,
  MERGE_KEYS_JSON,
  REFERENCE_JSON,
  buildYamlRef,
  corpusSources,
  findGo,
  runYamlRef,
} from './yamlref.js';

interface MergeCase {
  name: string;
  yaml: string;
  convox?: Record<string, string>;
  compose?: Record<string, string>;
}

const found = findGo();
const skip = 'reason' in found && !process.env.CI;
if (skip) console.warn(`skipping the yamlref comparison: ${found.reason}`);

describe.skipIf(skip)('the pinned Go references', () => {
  test('reference.json is what yamlref reads in every corpus file', () => {
    const bin = buildYamlRef();
    const cases = corpusSources().map((s) => ({ name: s.local, yaml: readFileSync(path.join(CORPUS, s.local), 'utf8') }));
    const fresh = { generatedBy: GENERATED_BY, files: Object.fromEntries(runYamlRef(bin, cases)) };
    if (process.env.UPDATE_REFERENCE) writeFileSync(REFERENCE_JSON, `${JSON.stringify(fresh, null, 2)}\n`);
    expect(JSON.parse(readFileSync(REFERENCE_JSON, 'utf8'))).toEqual(fresh);
  }, 600_000);

  test('merge-keys.json is what yamlref reads in every merge-key case', () => {
    const bin = buildYamlRef();
    const pinned = (JSON.parse(readFileSync(MERGE_KEYS_JSON, 'utf8')) as { cases: MergeCase[] }).cases;
    const read = runYamlRef(bin, pinned);
    const fresh = {
      generatedBy: GENERATED_BY,
      cases: pinned.map(({ name, yaml }) => {
        const { convox, compose } = read.get(name) ?? {};
        return { name, yaml, convox, compose };
      }),
    };
    if (process.env.UPDATE_REFERENCE) writeFileSync(MERGE_KEYS_JSON, `${JSON.stringify(fresh, null, 2)}\n`);
    expect(JSON.parse(readFileSync(MERGE_KEYS_JSON, 'utf8'))).toEqual(fresh);
  }, 600_000);
});
