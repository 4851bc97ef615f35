/**
 * fast-check arbitraries for build contexts: small random trees (nested and empty dirs, files,
 * symlinks to files, dirs, `.`, parents, absolute paths and nowhere, hard links, a fifo, hidden
 * names, spaces, non-ASCII, odd modes, owners and mtimes) and pattern sets from a grammar of
 * `*`, `**`, `?`, `[a-c]`, `!`, leading `/` and `./`, trailing `/`, names that exist and do not.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

const NAMES = ['a', 'b', 'ab', 'B', 'foo', 'bar', 'x.txt', '.hidden', 'sp ace', 'é', 'ü-ñ', '_', 'l1', 'sub'];

interface Meta {
  readonly name: string;
  readonly owner: number;
  /** Seconds since the epoch to set, or undefined to keep the time of creation (with its nanoseconds). */
  readonly mtime: number | undefined;
}
export type NodeSpec = Meta &
  (
    | { readonly kind: 'file'; readonly mode: number; readonly data: string; readonly sparse: boolean }
    | { readonly kind: 'dir'; readonly mode: number; readonly children: readonly NodeSpec[] }
    | { readonly kind: 'symlink'; readonly target: TargetSpec }
    | { readonly kind: 'hardlink'; readonly ref: number }
    | { readonly kind: 'fifo' }
  );
/** A fixed link target, or one of the tree's own paths (`ref` modulo their count), relative or absolute. */
export type TargetSpec = string | { readonly ref: number; readonly abs: boolean; readonly suffix: string };

const meta = {
  name: fc.constantFrom(...NAMES),
  owner: fc.constantFrom(0, 0, 1000, 65534),
  mtime: fc.constantFrom(undefined, undefined, 0, -1, 1_000_000_000.5, 4_102_444_800),
};
const target: fc.Arbitrary<TargetSpec> = fc.oneof(
  fc.constantFrom('.', '..', '/', './', '../..', 'nowhere', '/nowhere/deep', '../../../../etc', 'a/../b', 'sp ace'),
  fc.record({ ref: fc.nat(), abs: fc.boolean(), suffix: fc.constantFrom('', '', '/', '/x.txt', '/..') }),
);
const leaf: fc.Arbitrary<NodeSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      ...meta,
      kind: fc.constant('file' as const),
      mode: fc.constantFrom(0o644, 0o644, 0o755, 0o600, 0o444, 0o4755, 0o2711),
      data: fc.constantFrom('', 'x', 'hello\n', 'é'.repeat(40)),
      sparse: fc.constantFrom(false, false, false, true),
    }),
  },
  { weight: 3, arbitrary: fc.record({ ...meta, kind: fc.constant('symlink' as const), target }) },
  { weight: 1, arbitrary: fc.record({ ...meta, kind: fc.constant('hardlink' as const), ref: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ ...meta, kind: fc.constant('fifo' as const) }) },
);

function children(depth: number): fc.Arbitrary<NodeSpec[]> {
  const node = depth > 0 ? fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 2, arbitrary: dir(depth - 1) }) : leaf;
  return fc.uniqueArray(node, { maxLength: 4, selector: (n) => n.name });
}
function dir(depth: number): fc.Arbitrary<NodeSpec> {
  return fc.record({
    ...meta,
    kind: fc.constant('dir' as const),
    mode: fc.constantFrom(0o755, 0o755, 0o700, 0o555, 0o1777),
    children: children(depth),
  });
}

/** A context's top-level entries, at most three directories deep. */
export const treeArbitrary: fc.Arbitrary<NodeSpec[]> = children(3);

/** A pattern from the grammar, or (`ref`) one of the tree's own paths. */
export type PatternSpec = string | { readonly ref: number; readonly not: boolean; readonly lead: string; readonly trail: string };

const segment = fc.constantFrom(
  ...['*', '**', '?', '*.txt', 'a*', '*o*', '[a-c]', '[a-c]*', 'f?o', '.*', '[^a]*', 'nope'],
  ...NAMES,
);
const grammarPattern = fc
  .record({
    not: fc.boolean(),
    lead: fc.constantFrom('', '', '', '/', './'),
    segs: fc.array(segment, { minLength: 1, maxLength: 3 }),
    trail: fc.constantFrom('', '', '', '/', '/**', '/*'),
  })
  .map((p) => `${p.not ? '!' : ''}${p.lead}${p.segs.join('/')}${p.trail}`);
const patternSpec: fc.Arbitrary<PatternSpec> = fc.oneof(
  { weight: 6, arbitrary: grammarPattern },
  {
    weight: 4,
    arbitrary: fc.record({
      ref: fc.nat(),
      not: fc.constantFrom(false, false, true),
      lead: fc.constantFrom('', '', '/', './'),
      trail: fc.constantFrom('', '', '/'),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('!', '[a-', '**/', '.', '/', '..', 'a/../b', '!.', '') },
);
const patterns = fc.option(fc.array(patternSpec, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 3 });

/** One property case: a tree and the three lists the Dockerfile frontend can send (absent or non-empty, as gRPC metadata is). */
export interface ContextCase {
  readonly tree: readonly NodeSpec[];
  readonly include: readonly PatternSpec[] | undefined;
  readonly exclude: readonly PatternSpec[] | undefined;
  readonly follow: readonly PatternSpec[] | undefined;
}
export const contextCaseArbitrary: fc.Arbitrary<ContextCase> = fc.record({
  tree: treeArbitrary,
  include: patterns,
  exclude: patterns,
  follow: patterns,
});

/** Root-relative paths of every node, pre-order (parents first). */
export function treePaths(tree: readonly NodeSpec[], prefix = ''): string[] {
  return tree.flatMap((n) => {
    const p = prefix === '' ? n.name : `${prefix}/${n.name}`;
    return n.kind === 'dir' ? [p, ...treePaths(n.children, p)] : [p];
  });
}

/** The pattern text of `spec` for a tree whose paths are `paths`. */
export function resolvePattern(spec: PatternSpec, paths: readonly string[]): string {
  if (typeof spec === 'string') return spec;
  const p = paths.length > 0 ? paths[spec.ref % paths.length] : 'nope';
  return `${spec.not ? '!' : ''}${spec.lead}${p}${spec.trail}`;
}

/** The case's three lists as text, for a tree laid from `c.tree`. */
export function resolveCase(c: ContextCase): { include?: string[]; exclude?: string[]; follow?: string[] } {
  const paths = treePaths(c.tree);
  const text = (l: readonly PatternSpec[] | undefined) => l?.map((s) => resolvePattern(s, paths));
  return { include: text(c.include), exclude: text(c.exclude), follow: text(c.follow) };
}

/** Lays `tree` under `root` (an empty directory), then sets owners, modes and mtimes, children first. */
export function layTree(root: string, tree: readonly NodeSpec[]): void {
  const paths = treePaths(tree);
  const files: string[] = [];
  const finish: (() => void)[] = [];
  const lay = (nodes: readonly NodeSpec[], prefix: string): void => {
    for (const n of nodes) {
      const rel = prefix === '' ? n.name : `${prefix}/${n.name}`;
      const abs = path.join(root, rel);
      layNode(n, abs, rel, root, paths, files);
      if (n.kind === 'dir') lay(n.children, rel);
      finish.push(() => finishNode(n, abs));
    }
  };
  lay(tree, '');
  for (const f of finish.reverse()) f();
}

function layNode(n: NodeSpec, abs: string, rel: string, root: string, paths: readonly string[], files: string[]): void {
  switch (n.kind) {
    case 'dir':
      mkdirSync(abs);
      return;
    case 'symlink':
      symlinkSync(linkTarget(n.target, rel, paths), abs);
      return;
    case 'fifo': {
      const r = spawnSync('mkfifo', [abs], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mkfifo ${abs}: ${r.stderr || r.error?.message}`);
      return;
    }
    case 'hardlink':
      if (files.length > 0) {
        linkSync(path.join(root, files[n.ref % files.length] ?? ''), abs);
        return;
      }
      break; // nothing to link to yet: a plain file
    case 'file':
  }
  const fd = openSync(abs, 'wx');
  try {
    if (n.kind === 'file' && n.data !== '') writeSync(fd, n.data);
    if (n.kind === 'file' && n.sparse) ftruncateSync(fd, 5 * 2 ** 30); // a size past 32 bits, no disk used
  } finally {
    closeSync(fd);
  }
  files.push(rel);
}

function linkTarget(t: TargetSpec, rel: string, paths: readonly string[]): string {
  if (typeof t === 'string') return t;
  const to = `${paths[t.ref % paths.length] ?? 'a'}${t.suffix}`;
  if (t.abs) return `/${to}`;
  return path.posix.relative(path.posix.dirname(rel), to) || '.';
}

function finishNode(n: NodeSpec, abs: string): void {
  lchownSync(abs, n.owner, n.owner); // first: chown clears setuid and setgid
  if (n.kind === 'file' || n.kind === 'dir') chmodSync(abs, n.mode);
  if (n.mtime !== undefined) lutimesSync(abs, n.mtime, n.mtime);
}

/** The tree in one line, for reports: `d/` a directory, `l->target` a symlink, `h=>f` a hard link to f, `p|` a fifo. */
export function treeText(tree: readonly NodeSpec[]): string {
  const paths = treePaths(tree);
  const files: string[] = [];
  const text = (nodes: readonly NodeSpec[], prefix: string): string[] =>
    nodes.flatMap((n) => {
      const p = prefix === '' ? n.name : `${prefix}/${n.name}`;
      if (n.kind === 'dir') return [`${p}/`, ...text(n.children, p)];
      if (n.kind === 'symlink') return [`${p}->${linkTarget(n.target, p, paths)}`];
      if (n.kind === 'fifo') return [`${p}|`];
      const to = n.kind === 'hardlink' && files.length > 0 ? files[n.ref % files.length] : undefined;
      if (to === undefined) files.push(p);
      return [to === undefined ? p : `${p}=>${to}`];
    });
  return text(tree, '').join(' ');
}
