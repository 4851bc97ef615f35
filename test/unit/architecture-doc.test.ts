/**
 * docs/ARCHITECTURE.md against the tree, as action-contract.test.ts holds the README to
 * action.yml: every folder and top-level file under src/, every folder under test/ and every
 * lazily loaded part of the bundle is named; every path it names exists; and each folder's
 * "Depends on" cell is exactly what that folder's files import.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/workflows.js';

const doc = readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
/** Everything the document writes as `code`. */
const named = new Set([...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
const dirs = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
/** Shared by every folder, so not listed as a dependency. */
const SHARED = new Set(['errors.ts', 'log.ts', 'secrets.ts']);

/** The parts scripts/build.mjs loads on first use: its `lazy` list's `file:` entries. */
function lazyParts(): string[] {
  const script = readFileSync(path.join(ROOT, 'scripts/build.mjs'), 'utf8');
  const list = script.slice(script.indexOf('const lazy = ['), script.indexOf('];', script.indexOf('const lazy = [')));
  return [...list.matchAll(/^\s+file: '([\w-]+\.cjs)',$/gm)].map((m) => m[1]!);
}

/** What the files of src/<folder> (recursively) import from outside it: `image/`, `retry.ts`, … */
function importsOf(folder: string): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)'/g)) {
          const target = path.relative(path.join(ROOT, 'src'), path.resolve(dir, m[1]!)).split(path.sep);
          if (target[0] === folder || target[0] === '..') continue;
          const name = target.length > 1 ? `${target[0]}/` : target[0]!.replace(/\.js$/, '.ts');
          if (!SHARED.has(name)) found.add(name);
        }
    }
  };
  walk(path.join(ROOT, 'src', folder));
  return [...found].sort();
}

/** The "Depends on" cell of each `src/<folder>/` row, as the names it writes in code. */
function documentedDeps(): Map<string, string[]> {
  const rows = [...doc.matchAll(/^\| `src\/([\w-]+)\/` \|.*\| ([^|]+) \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, [...m[2]!.matchAll(/`([^`]+)`/g)].map((d) => d[1]!).sort()]));
}

describe('docs/ARCHITECTURE.md', () => {
  it('names every folder under src/ and test/, and every file at the top of src/', () => {
    const src = dirs('src').map((d) => `src/${d}/`);
    const top = readdirSync(path.join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `src/${f}`);
    const test = dirs('test').map((d) => `test/${d}/`);
    expect([...src, ...top, ...test].filter((n) => !named.has(n))).toEqual([]);
  });

  it('names every lazily loaded part of the bundle, as build.mjs lists them and as dist/ holds them', () => {
    const parts = lazyParts();
    expect(parts.length).toBeGreaterThan(0);
    const inDist = readdirSync(path.join(ROOT, 'dist')).filter((f) => f.endsWith('.cjs') && f !== 'index.cjs');
    expect(inDist.sort()).toEqual([...parts].sort());
    expect(parts.filter((p) => !named.has(`dist/${p}`))).toEqual([]);
  });

  it('names only paths that exist', () => {
    const paths = [...named].filter((n) => /^(src|test|scripts|docs|dist)\/[\w./-]*$/.test(n));
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
  });

  it("gives each src folder's dependencies exactly as its imports are", () => {
    const documented = documentedDeps();
    expect([...documented.keys()].sort()).toEqual(dirs('src'));
    const wrong = dirs('src')
      .map((f) => ({ folder: f, documented: documented.get(f)!.filter((d) => d !== 'nothing'), imports: importsOf(f) }))
      .filter((r) => r.documented.join() !== r.imports.join());
    expect(wrong, 'update the Depends on column of docs/ARCHITECTURE.md').toEqual([]);
  });
});
