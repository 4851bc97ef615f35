/**
 * Follows: tonistiigi/fsutil filter.go, followlinks.go, fs.go, hardlinks.go.
 *
 * What a build context is: tonistiigi/fsutil's filter (filter.go `NewFilterFS` and `Walk`, over
 * fs.go's walk and followlinks.go's `FollowLinks`, at 6d9dc2ebad626eb645fb587f14225b3aa96ec010),
 * the rules the docker CLI answers BuildKit's context requests with. One walk decides the
 * context for both transports: the session's file sync and the tar upload.
 *
 * - Include patterns select; everything under a matched directory is included. Follow paths
 *   (BuildKit's COPY/ADD sources) are resolved through symlinks and added to the includes; a
 *   follow path that resolves to the root (`.`, a link to `.`) means no include filter at all.
 * - Exclude patterns (the `.dockerignore`) drop what they match; a `!` pattern re-includes.
 * - A directory no pattern can match below is skipped unread; a directory that is walked only
 *   because a pattern might match below it is sent only once something inside it is.
 * - A directory that cannot be read is an error, unless the filters leave it out anyway.
 * - Order: parents before children, names in byte order (Go's os.ReadDir).
 */
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { ActionError } from '../errors.js';
import { cleanPath, type MatchInfo, PatternMatcher, withoutTrailingGlob } from './patterns.js';
import { goMatch, hasGlob } from './glob.js';

export interface FilterOptions {
  readonly includePatterns?: readonly string[];
  readonly excludePatterns?: readonly string[];
  readonly followPaths?: readonly string[];
}

export type EntryKind = 'file' | 'dir' | 'symlink' | 'pipe' | 'socket' | 'device' | 'chardevice';

/** One entry to send, with what fsutil's Stat carries. */
export interface ContextEntry {
  /** Relative to the root, `/`-separated (fsutil's Stat.Path). */
  readonly path: string;
  readonly abs: string;
  readonly kind: EntryKind;
  readonly stats: BigIntStats;
  /** A symlink's target, or for the second and later paths of a hard link the first one sent; else ''. */
  readonly linkname: string;
}

/** A directory entry as readdir's type bits give it, without a stat. */
export interface DirItem {
  readonly name: string;
  readonly isDir: boolean;
}

/** What the walk reads. Paths are root-relative, `/`-separated, '' for the root. Errors are the OS's. */
export interface TreeReader {
  readonly root: string;
  /** The directory's entries, names in byte order. */
  readDir(rel: string): readonly DirItem[];
  lstat(rel: string): BigIntStats;
  readlink(rel: string): string;
}

/** Reads the disk under `root` (an absolute, resolved directory). */
export function diskReader(root: string): TreeReader {
  const abs = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  return {
    root,
    readDir: (rel) =>
      sortByBytes(readdirSync(abs(rel), { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() }))),
    lstat: (rel) => lstatSync(abs(rel), { bigint: true }),
    readlink: (rel) => readlinkSync(abs(rel)),
  };
}

/**
 * fsutil's FollowLinks: each path, and each symlink met on the way to it (a wildcard in its last
 * part matching symlinks too), resolved into the paths to include. Undefined when one of them is
 * the root: then nothing is filtered by includes.
 */
export function followLinks(reader: TreeReader, paths: readonly string[]): string[] | undefined {
  const resolved = new Set<string>();
  for (const p of paths) resolve(reader, p, resolved);
  return dedupePaths([...resolved].sort(compareBytes));
}

function resolve(reader: TreeReader, input: string, resolved: Set<string>): void {
  let rest = cleanPath(`./${input}`);
  let current = '.';
  for (;;) {
    const slash = rest.indexOf('/');
    const part = slash < 0 ? rest : rest.slice(0, slash);
    current = current === '.' ? part : cleanPath(`${current}/${part}`);
    const targets = linkTargets(reader, current, true);
    rest = slash < 0 ? '' : rest.slice(slash + 1);
    if ((rest === '' || targets) && resolved.has(current)) return;
    if (targets) {
      resolved.add(current);
      for (const t of targets) resolve(reader, rest === '' ? t : `${t}/${rest}`, resolved);
      return;
    }
    if (rest === '') {
      resolved.add(current);
      return;
    }
  }
}

/** fsutil's readSymlink: where the symlink at `p` (or those its wildcard name matches) points, rooted; undefined if none. */
function linkTargets(reader: TreeReader, p: string, allowWildcard: boolean): string[] | undefined {
  const slash = p.lastIndexOf('/');
  const dir = slash < 0 ? '' : p.slice(0, slash);
  const base = p.slice(slash + 1);
  if (allowWildcard && hasGlob(base)) {
    const items = orUndefinedIfMissing(() => reader.readDir(dir));
    let out: string[] | undefined;
    for (const item of items ?? []) {
      if (!goMatch(base, item.name)) continue;
      const found = linkTargets(reader, dir ? `${dir}/${item.name}` : item.name, false);
      if (found) out = [...(out ?? []), ...found];
    }
    return out;
  }
  if (p === '.' || p === '/') return undefined;
  const stats = orUndefinedIfMissing(() => reader.lstat(p));
  if (!stats?.isSymbolicLink()) return undefined;
  const link = cleanPath(reader.readlink(p));
  return [link.startsWith('/') ? link : cleanPath(`/${dir}/${link}`)];
}

function orUndefinedIfMissing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (isNotExist(e)) return undefined;
    throw e;
  }
}

/** fsutil's dedupePaths (it expects sorted input): drops paths under one kept before; undefined if one is the root. */
function dedupePaths(paths: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let last = '';
  for (const p of paths) {
    if (p === '.') return undefined;
    if (p.startsWith(`${last}/`)) continue;
    out.push(p);
    last = p;
  }
  return out;
}

interface VisitedDir {
  readonly item: DirItem;
  readonly path: string;
  readonly pathWithSep: string;
  includeInfo?: MatchInfo;
  excludeInfo?: MatchInfo;
  sent: boolean;
}

/** A compiled filter: what `walk` needs from the options. */
class Filter {
  readonly include: PatternMatcher | undefined;
  readonly exclude: PatternMatcher | undefined;

  constructor(reader: TreeReader, options: FilterOptions) {
    let includes: string[] | undefined = options.includePatterns ? [...options.includePatterns] : undefined;
    if (options.followPaths && options.followPaths.length > 0) {
      const targets = followLinks(reader, options.followPaths);
      if (targets) includes = dedupePaths([...(includes ?? []), ...targets]);
    }
    this.include = includes && includes.length > 0 ? new PatternMatcher(includes) : undefined;
    const excludes = options.excludePatterns ?? [];
    this.exclude = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  }
}

/** Told what the walk leaves out, for the log's figures. */
export interface WalkHooks {
  /** An entry the exclude patterns drop (a directory skipped unread counts once). */
  readonly excluded?: (path: string) => void;
}

const SKIP = Symbol('skip');
type Step = typeof SKIP | undefined;

/**
 * Every entry of the context under `reader.root` that `options` select, as fsutil's filtered
 * walk yields them. Throws ActionError for a directory or entry that cannot be read and is not
 * filtered out, and PatternError for a pattern patternmatcher refuses.
 */
export function* filteredWalk(reader: TreeReader, options: FilterOptions, hooks: WalkHooks = {}): Generator<ContextEntry> {
  const filter = new Filter(reader, options);
  const walk = new Walk(reader, filter, hooks);
  let items: readonly DirItem[];
  try {
    items = reader.readDir('');
  } catch (e) {
    // fsutil's walk never reports the root itself, not even its read error.
    if (isNotExist(e) || isPermission(e)) return;
    throw unreadable('.', e);
  }
  for (const item of items) {
    if ((yield* walk.visit(item.name, item)) === SKIP) break;
  }
}

/** One walk's state: the directories above the current entry, and the inodes of hard links seen. */
class Walk {
  private readonly parents: VisitedDir[] = [];
  private readonly inodes = new Map<bigint, string>();

  constructor(
    private readonly reader: TreeReader,
    private readonly filter: Filter,
    private readonly hooks: WalkHooks,
  ) {}

  /** filepath.WalkDir's walkDir with fsutil's filter as its function; SKIP from a file skips its siblings. */
  *visit(path: string, item: DirItem): Generator<ContextEntry, Step> {
    const first = yield* this.decide(path, item, undefined);
    if (first === SKIP) return item.isDir ? undefined : SKIP;
    if (!item.isDir) return undefined;
    let children: readonly DirItem[] = [];
    try {
      children = this.reader.readDir(path);
    } catch (e) {
      if ((yield* this.decide(path, item, e)) === SKIP) return undefined;
    }
    for (const child of children) {
      if ((yield* this.visit(`${path}/${child.name}`, child)) === SKIP) break;
    }
    return undefined;
  }

  /** filterFS.Walk's function for one entry (called again with the error when a directory cannot be read). */
  private *decide(path: string, item: DirItem, readError: unknown): Generator<ContextEntry, Step> {
    const { include, exclude } = this.filter;
    while (this.parents.length > 0 && !path.startsWith(this.parents[this.parents.length - 1]!.pathWithSep)) this.parents.pop();
    const parent = this.parents[this.parents.length - 1];
    const dir: VisitedDir | undefined = item.isDir ? { item, path, pathWithSep: `${path}/`, sent: false } : undefined;
    let skip = false;
    if (include) {
      const { matched, info } = include.match(path, parent?.includeInfo);
      if (dir) dir.includeInfo = info;
      if (!matched) {
        if (dir && !include.mayMatchBelow(path, false)) return SKIP;
        skip = true;
      }
    }
    if (exclude) {
      const { matched, info } = exclude.match(path, parent?.excludeInfo);
      if (dir) dir.excludeInfo = info;
      if (matched) {
        if (readError === undefined) this.hooks.excluded?.(path);
        if (dir && !exclude.mayMatchBelow(path, true)) return SKIP;
        skip = true;
      }
    }
    if (readError !== undefined) {
      if (skip && isPermission(readError)) return undefined;
      if (isNotExist(readError)) return SKIP;
      throw unreadable(path, readError);
    }
    if (dir) this.parents.push(dir);
    if (skip) return undefined;
    if (dir) dir.sent = true;
    const entry = this.entry(path);
    if (!entry) return SKIP;
    for (const p of this.parents) {
      if (p.sent) continue;
      p.sent = true;
      const sent = this.entry(p.path);
      if (sent) yield sent;
    }
    yield entry;
    return undefined;
  }

  /** The entry at `path` as fsutil's mkstat sees it; undefined when it vanished (the walk then skips, as fsutil's does). */
  private entry(path: string): ContextEntry | undefined {
    let stats: BigIntStats;
    let linkname = '';
    try {
      stats = this.reader.lstat(path);
      if (stats.isSymbolicLink()) linkname = this.reader.readlink(path);
    } catch (e) {
      if (isNotExist(e)) return undefined;
      throw unreadable(path, e);
    }
    const kind = kindOf(stats);
    if (!stats.isDirectory() && !stats.isSymbolicLink() && stats.nlink > 1n) {
      const first = this.inodes.get(stats.ino);
      if (first === undefined) this.inodes.set(stats.ino, path);
      else linkname = first;
    }
    return { path, abs: `${this.reader.root}/${path}`, kind, stats, linkname };
  }
}

function kindOf(s: BigIntStats): EntryKind {
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isFIFO()) return 'pipe';
  if (s.isSocket()) return 'socket';
  if (s.isBlockDevice()) return 'device';
  if (s.isCharacterDevice()) return 'chardevice';
  return 'file';
}

function isNotExist(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isPermission(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** Names compared as UTF-8 bytes, as Go compares strings. */
export function compareBytes(a: string, b: string): number {
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sortByBytes(items: DirItem[]): DirItem[] {
  // For ASCII names, the usual case, UTF-16 order is byte order and no bytes need making.
  if (items.every((d) => /^[\x00-\x7f]*$/.test(d.name)))
    return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return items
    .map((d) => ({ d, key: Buffer.from(d.name) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((x) => x.d);
}

/** The ActionError for a context entry that cannot be read. */
export function unreadable(relPath: string, err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ActionError(
    `cannot read '${relPath}' in the build context (${code})`,
    { phase: 'build' },
    `make '${relPath}' readable by the runner user, or add it to .dockerignore if the image does not need it`,
    { cause: err },
  );
}

export { withoutTrailingGlob };
