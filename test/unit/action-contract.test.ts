/**
 * The contract between action.yml, the code that reads inputs, and the README: names and
 * defaults must agree, and the README's reference is generated from action.yml (run
 * `npm run docs` to regenerate it after changing action.yml).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/config/inputs.js';
import { pushContext } from './support/github.js';
import { Secrets } from '../../src/secrets.js';

const root = path.resolve(import.meta.dirname, '../..');
interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}
const action = load(readFileSync(path.join(root, 'action.yml'), 'utf8')) as ActionYml;

function inputsReadByCode(): Set<string> {
  const names = new Set<string>();
  const text = readFileSync(path.join(root, 'src/config/inputs.ts'), 'utf8');
  for (const m of text.matchAll(/raw\.(?:get|bool|choice|list|multiline|keyValues)\('([a-z-]+)'/g)) names.add(m[1]!);
  return names;
}

function outputsSetByCode(): Set<string> {
  const names = new Set<string>();
  for (const file of ['src/main.ts', 'src/phases/runner.ts']) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/setOutput\('([a-z-]+)'/g)) names.add(m[1]!);
  }
  return names;
}

const github = pushContext({ sha: 'a'.repeat(40) });

describe('action.yml and the code agree', () => {
  it('every input in action.yml is read, and nothing else is', () => {
    expect([...inputsReadByCode()].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('every output in action.yml is set, and nothing else is', () => {
    expect([...outputsSetByCode()].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it("action.yml's defaults mean exactly what leaving the inputs empty means", () => {
    const base = { INPUT_IMAGE: 'acme/shop', INPUT_CONTEXT: 'examples/app', INPUT_MANIFEST: 'examples/app/convox.yml' };
    const withDefaults: Record<string, string> = { ...base };
    for (const [name, spec] of Object.entries(action.inputs)) {
      // `${{ github.token }}` is an expression the runner fills in; the code's fallback is GITHUB_TOKEN.
      if (
        spec.default !== undefined &&
        !spec.default.includes('${{') &&
        withDefaults[`INPUT_${name.toUpperCase()}`] === undefined
      ) {
        withDefaults[`INPUT_${name.toUpperCase()}`] = spec.default;
      }
    }
    const now = new Date('2026-11-22T20:55:00Z');
    const a = readInputs(base, github, now, new Secrets());
    const b = readInputs(withDefaults, github, now, new Secrets());
    expect(b).toEqual(a);
    expect(a.tags).toEqual(['20261122205500']);
  });

  it('only image is required', () => {
    expect(
      Object.entries(action.inputs)
        .filter(([, s]) => s.required)
        .map(([n]) => n),
    ).toEqual(['image']);
  });
});

/** The README's inputs and outputs tables, rendered from action.yml. */
export function renderReference(a: ActionYml): string {
  const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| Input | Default | Description |', '| --- | --- | --- |'];
  for (const [name, s] of Object.entries(a.inputs)) {
    const def = s.required ? '**required**' : s.default !== undefined && s.default !== '' ? `\`${cell(s.default)}\`` : '';
    lines.push(`| \`${name}\` | ${def} | ${cell(s.description)} |`);
  }
  lines.push('', '| Output | Description |', '| --- | --- |');
  for (const [name, s] of Object.entries(a.outputs)) lines.push(`| \`${name}\` | ${cell(s.description)} |`);
  return lines.join('\n');
}

describe('README reference', () => {
  it('is generated from action.yml (npm run docs)', () => {
    const readmePath = path.join(root, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = '<!-- reference:start (generated from action.yml by npm run docs) -->';
    const end = '<!-- reference:end -->';
    const i = readme.indexOf(start);
    const j = readme.indexOf(end);
    expect(i, 'README.md lacks the reference markers').toBeGreaterThan(-1);
    const expected = `${start}\n${renderReference(action)}\n${end}`;
    const actual = readme.slice(i, j + end.length);
    if (process.env.UPDATE_DOCS === '1' && actual !== expected) writeFileSync(readmePath, readme.replace(actual, expected));
    else expect(actual).toBe(expected);
  });
});
