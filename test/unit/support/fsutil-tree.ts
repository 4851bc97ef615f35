/**
 * Test helpers for fsutil's own test tables: lay a tree from fsutil's change-stream lines (as its
 * validator_test.go parseChange + filter_test.go tmpDir do) and print a walk in its bufWalk format.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One line of a walk as fsutil's bufWalk prints it (filter_test.go). */
export interface BufWalkEntry {
  readonly path: string;
  readonly isDir: boolean;
  readonly isSymlink: boolean;
  readonly linkname: string;
}

/** `dir p`, `file p`, `symlink:target p`, and ` >first` after a hard link (any other kind prints as `file`). */
export function bufWalkLine(e: BufWalkEntry): string {
  const t = e.isSymlink ? `symlink:${e.linkname}` : e.isDir ? 'dir' : 'file';
  return `${t} ${e.path}${!e.isSymlink && e.linkname !== '' ? ` >${e.linkname}` : ''}`;
}

/**
 * Lays `lines` (`ADD p file [data|>hardlink-target]`, `ADD p dir`, `ADD p symlink target`, and,
 * beyond fsutil's grammar, `ADD p fifo`) under a new temp dir (or `root`), with tmpDir's modes:
 * directories 0700, files 0644. Fields split on whitespace as Go's strings.Fields does.
 */
export function layChangeStream(lines: readonly string[], root = mkdtempSync(path.join(tmpdir(), 'fsutil-'))): string {
  for (const line of lines) {
    const [op, rel, kind, arg] = line.split(/\s+/).filter((f) => f !== '');
    if (op !== 'ADD' || rel === undefined || kind === undefined) throw new Error(`invalid change ${JSON.stringify(line)}`);
    const abs = path.join(root, rel);
    switch (kind) {
      case 'dir':
        mkdirSync(abs, 0o700);
        break;
      case 'symlink':
        if (arg === undefined) throw new Error(`invalid change ${JSON.stringify(line)}`);
        symlinkSync(arg, abs);
        break;
      case 'fifo': {
        const r = spawnSync('mkfifo', [abs], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mkfifo ${abs}: ${r.stderr || r.error?.message}`);
        break;
      }
      case 'file':
        if (arg?.startsWith('>')) linkSync(path.join(root, arg.slice(1)), abs);
        else writeFile(abs, arg ?? '');
        break;
      default:
        throw new Error(`unsupported change kind in ${JSON.stringify(line)}`);
    }
  }
  return root;
}

function writeFile(abs: string, data: string): void {
  const fd = openSync(abs, 'wx');
  try {
    chmodSync(abs, 0o644);
    if (data !== '') writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** chown -R (without following links), so another user can own and walk a tree root laid. */
export function chownTree(root: string, uid: number, gid: number): void {
  chownSync(root, uid, gid);
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const abs = path.join(root, name);
    if (lstatSync(abs).isSymbolicLink()) continue;
    chownSync(abs, uid, gid);
  }
}

/** A walk vector of test/fixtures/fsutil/vectors.json (see its "about"). */
export interface WalkVector {
  readonly file: string;
  readonly test: string;
  readonly note?: string;
  readonly tree: readonly string[];
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly follow?: readonly string[];
  readonly chmod?: Readonly<Record<string, string>>;
  readonly asUser?: 'nonroot';
  readonly callback?: 'skipDir';
  readonly walk?: readonly string[];
  readonly found?: readonly string[];
  readonly present?: readonly string[];
  readonly absent?: readonly string[];
  readonly error?: { readonly contains: string; readonly errno?: string; readonly pattern?: boolean };
}

/** A FollowLinks vector: the sorted result, or null for nil (the whole root). */
export interface FollowLinksVector {
  readonly file: string;
  readonly test: string;
  readonly note?: string;
  readonly tree: readonly string[];
  readonly paths: readonly string[];
  readonly result: readonly string[] | null;
}

export interface FsutilVectors {
  readonly repo: string;
  readonly commit: string;
  readonly walk: readonly WalkVector[];
  readonly followLinks: readonly FollowLinksVector[];
  readonly notPorted: readonly { file: string; test: string; reason: string }[];
}

export function loadFsutilVectors(): FsutilVectors {
  return JSON.parse(readFileSync(path.resolve('test/fixtures/fsutil/vectors.json'), 'utf8')) as FsutilVectors;
}

/** A vector's title: where it comes from, and what it asks. */
export function vectorTitle(v: WalkVector | FollowLinksVector, i: number): string {
  const opts = 'paths' in v ? `paths ${JSON.stringify(v.paths)}` : walkOptionsText(v);
  return `#${i} ${v.file} ${v.test}: ${opts}`;
}

function walkOptionsText(v: WalkVector): string {
  const parts = [
    v.include && `include ${JSON.stringify(v.include)}`,
    v.exclude && `exclude ${JSON.stringify(v.exclude)}`,
    v.follow && `follow ${JSON.stringify(v.follow)}`,
    v.chmod && `chmod ${JSON.stringify(v.chmod)}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no filter';
}

/**
 * What a filepath.WalkFunc that returns SkipDir for every entry is called with, given the whole
 * walk in order: SkipDir on a directory skips its subtree; on anything else, the rest of its parent.
 */
export function foundWithSkipDir(walk: readonly BufWalkEntry[]): string[] {
  const found: string[] = [];
  const skipped: string[] = [];
  for (const e of walk) {
    if (skipped.some((p) => e.path.startsWith(p))) continue;
    found.push(e.path);
    const dir = path.posix.dirname(e.path);
    skipped.push(e.isDir ? `${e.path}/` : dir === '.' ? '' : `${dir}/`);
  }
  return found;
}

/** The user the permission vectors run as (fsutil's TestWalkerPermissionDenied skips as root). */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

/** Lays a vector's tree, hands it to NOBODY if the vector runs as non-root, then applies its chmods. */
export function layVectorTree(v: WalkVector | FollowLinksVector): string {
  const root = layChangeStream(v.tree);
  if ('asUser' in v && v.asUser === 'nonroot') chownTree(root, NOBODY.uid, NOBODY.gid);
  const modes = 'chmod' in v ? (v.chmod ?? {}) : {};
  for (const [rel, mode] of Object.entries(modes)) chmodSync(path.join(root, rel), Number.parseInt(mode, 8));
  return root;
}

/** What a walker did with a vector: the whole walk, and the error that ended it if any. */
export interface VectorOutcome {
  readonly entries: readonly BufWalkEntry[];
  readonly error?: { readonly message: string; readonly code?: string; readonly pattern?: boolean };
  /** Paths a walk function returning SkipDir was called with, where the walker ran one (the Go oracle). */
  readonly found?: readonly string[];
}

/** Where `outcome` departs from what the vector asserts (empty: it passes). */
export function vectorProblems(v: WalkVector, outcome: VectorOutcome): string[] {
  const problems: string[] = [];
  const lines = outcome.entries.map(bufWalkLine);
  const sent = new Set(outcome.entries.map((e) => e.path));
  if (v.error) {
    const e = outcome.error;
    const want = `an error containing ${JSON.stringify(v.error.contains)}${v.error.errno ? ` (or ${v.error.errno})` : ''}${v.error.pattern ? ' (or a FilterPatternError)' : ''}`;
    const byErrno = v.error.errno !== undefined && (e?.code === v.error.errno || e?.message.includes(v.error.errno));
    if (!e) problems.push(`expected ${want}, got none`);
    else if (!(e.message.includes(v.error.contains) || byErrno || (v.error.pattern && e.pattern === true)))
      problems.push(`expected ${want}, got ${JSON.stringify(e.message)}`);
    return problems;
  }
  if (outcome.error) return [`unexpected error: ${outcome.error.message}`];
  if (v.walk && JSON.stringify(lines) !== JSON.stringify(v.walk))
    problems.push(`walk: expected ${JSON.stringify(v.walk)}, got ${JSON.stringify(lines)}`);
  if (v.found) {
    const found = outcome.found ?? foundWithSkipDir(outcome.entries);
    if (JSON.stringify(found) !== JSON.stringify(v.found))
      problems.push(`found: expected ${JSON.stringify(v.found)}, got ${JSON.stringify(found)}`);
  }
  for (const p of v.present ?? []) if (!sent.has(p)) problems.push(`${p} is not sent (walk ${JSON.stringify(lines)})`);
  for (const p of v.absent ?? []) if (sent.has(p)) problems.push(`${p} is sent (walk ${JSON.stringify(lines)})`);
  return problems;
}
