/**
 * The fixture corpus: each directory under test/fixtures/manifests holds a manifest as people
 * write them (input.yml), the inputs (case.json) and the hand-written expected bytes
 * (expected.yml), or the expected error. Output must match byte for byte.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';
import type { ManifestPlanInput } from '../../../src/manifest/index.js';

const ROOT = path.resolve(import.meta.dirname, '../../fixtures/manifests');

interface Case {
  file: string;
  image: string;
  tag: string;
  mode: 'manifest' | 'env';
  services?: string[];
  digest?: string;
  envVar?: string;
  expect?: { kind: string; changed?: boolean; services: Record<string, unknown>[]; notes?: string[] };
  error?: { message: string; line?: number; column?: number; fix?: string };
}

// corpus/ (real files, corpus.test.ts) and reference/ (Go's readings) are not fixture cases.
const names = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(ROOT, d.name, 'case.json')))
  .map((d) => d.name)
  .sort();

function inputOf(dir: string, c: Case): ManifestPlanInput {
  return {
    file: c.file,
    bytes: readFileSync(path.join(dir, 'input.yml')),
    image: parseReference(c.image),
    mode: c.mode,
    envVar: c.envVar ?? 'IMAGE_VERSION',
    tag: c.tag,
    services: c.services,
    digest: c.digest,
  };
}

describe('manifest fixtures', () => {
  test('the corpus is big enough to mean something', () => {
    // Only fixtures with expected output bytes count; error fixtures check messages, not rewrites.
    const withOutput = names.filter((name) => existsSync(path.join(ROOT, name, 'expected.yml')));
    expect(withOutput.length).toBeGreaterThanOrEqual(30);
  });

  test.each(names)('%s', (name) => {
    const dir = path.join(ROOT, name);
    const c = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')) as Case;
    const input = inputOf(dir, c);
    if (c.error) {
      expect(existsSync(path.join(dir, 'expected.yml'))).toBe(false);
      let thrown: unknown;
      try {
        planManifestUpdate(input);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ActionError);
      const error = thrown as ActionError;
      expect(error.message).toContain(c.error.message);
      expect(error.place).toMatchObject({
        file: c.file,
        phase: 'manifest',
        ...(c.error.line ? { line: c.error.line, column: c.error.column } : {}),
      });
      if (c.error.fix) expect(error.fix).toContain(c.error.fix);
      return;
    }
    const expected = readFileSync(path.join(dir, 'expected.yml'));
    const plan = planManifestUpdate(input);
    // Compare as hex-annotated text on failure, but assert the bytes.
    expect(plan.after.toString('latin1')).toBe(expected.toString('latin1'));
    expect(plan.after.equals(expected)).toBe(true);
    expect(plan.before.equals(input.bytes)).toBe(true);
    expect(plan.kind).toBe(c.expect?.kind);
    expect(plan.changed).toBe(c.expect?.changed ?? !expected.equals(input.bytes));
    expect(plan.diff === '').toBe(!plan.changed);
    expect(plan.services).toEqual(c.expect?.services);
    expect(plan.notes).toEqual(c.expect?.notes ?? []);
  });
});
