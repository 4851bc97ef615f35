/**
 * Test helper: lay a build context on disk from a short list (files with content, modes and
 * owners, directories, symlinks, hard links), with every mtime fixed so builds of copies of it can
 * be compared; and copy a laid context with `cp -a` (owners, modes, times, links and hard links
 * kept), so each build reads its own directory and no transfer can reuse another's files.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * One entry: `path` (a file whose content is its path), `path/` (a directory), `path -> target`
 * (a symlink), `path => other` (a hard link to an entry laid before), `[path, content]`, or an
 * object for modes and owners.
 */
export type ContextSpec =
  | string
  | readonly [string, string | Buffer]
  | {
      readonly path: string;
      readonly content?: string | Buffer;
      readonly mode?: number;
      readonly uid?: number;
      readonly gid?: number;
      /** Seconds since the epoch; default: the fixed time of the tree plus the entry's index. */
      readonly mtime?: number;
    };

/** The fixed time the laid entries get (plus their index, so a swapped time shows): 2021-03-04T05:06:07Z. */
export const CONTEXT_TIME = 1_614_834_367;

/** Lays `specs` under a new temp dir (or `root`), then sets owners, modes and times. */
export function layContext(
  specs: readonly ContextSpec[],
  base = CONTEXT_TIME,
  root = mkdtempSync(path.join(tmpdir(), 'cid-diff-')),
): string {
  const finish: (() => void)[] = [];
  for (const spec of specs) {
    const s = specObject(spec);
    const link = /^(.*?) (->|=>) (.*)$/.exec(s.path);
    const abs = path.join(root, link?.[1] ?? s.path.replace(/\/$/, ''));
    mkdirSync(path.dirname(abs), { recursive: true });
    if (link?.[2] === '->') symlinkSync(link[3] ?? '', abs);
    else if (link?.[2] === '=>') linkSync(path.join(root, link[3] ?? ''), abs);
    else if (s.path.endsWith('/')) mkdirSync(abs, { recursive: true });
    else writeFileSync(abs, s.content ?? s.path);
    finish.push(() => {
      // chown first: it clears setuid and setgid.
      if (s.uid !== undefined || s.gid !== undefined) lchownSync(abs, s.uid ?? 0, s.gid ?? 0);
      if (s.mode !== undefined) chmodSync(abs, s.mode);
    });
  }
  for (const f of finish) f();
  fixTimes(root, specs, base);
  return root;
}

type SpecObject = Exclude<ContextSpec, string | readonly [string, string | Buffer]>;

function specObject(spec: ContextSpec): SpecObject {
  if (typeof spec === 'string') return { path: spec };
  if (isPair(spec)) return { path: spec[0], content: spec[1] };
  return spec;
}

function isPair(spec: ContextSpec): spec is readonly [string, string | Buffer] {
  return Array.isArray(spec);
}

/** Sets every entry's mtime under `root` to CONTEXT_TIME plus its index in a sorted walk, deepest first. */
export function fixTimes(root: string, specs: readonly ContextSpec[] = [], base = CONTEXT_TIME): void {
  const explicit = new Map<string, number>();
  for (const s of specs.map(specObject)) if (s.mtime !== undefined) explicit.set(s.path.replace(/\/$/, ''), s.mtime);
  const all = entriesUnder(root).sort().reverse();
  all.forEach((rel, i) => {
    const t = explicit.get(rel) ?? base + all.length - i;
    lutimesSync(path.join(root, rel), t, t);
  });
  lutimesSync(root, base, base);
}

/** Every path under `root`, relative; symlinks are not followed (Node 20's recursive readdir follows them). */
function entriesUnder(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    return d.isDirectory() ? [p, ...entriesUnder(root, p)] : [p];
  });
}

/** A copy of the context at `src` with everything kept (`cp -a`), in a new temp dir, under `name`. */
export function copyContext(src: string, name: string): string {
  const dest = path.join(mkdtempSync(path.join(tmpdir(), 'cid-diff-')), name);
  execFileSync('cp', ['-a', src, dest]);
  return dest;
}

/** True when `abs` exists (without following a symlink). */
export function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}
