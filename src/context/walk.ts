/**
 * Walks a build context the way BuildKit's file walker (tonistiigi/fsutil filter.go) does:
 * sorted, symlinks not followed, excluded directories skipped unread unless a `!` pattern may
 * re-include something inside, and such a directory emitted only once something in it is.
 * Also reads what the walk found (`readEntry`).
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { ActionError } from '../errors.js';
import type { IgnoreMatcher, MatchInfo } from './dockerignore.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface WalkEntry {
  /** Context-relative, `/`-separated. */
  readonly path: string;
  readonly abs: string;
  readonly kind: EntryKind;
}

export interface WalkOptions {
  readonly matcher: IgnoreMatcher;
  /** Paths sent even when excluded (the Dockerfile, `.dockerignore`); their directories too. */
  readonly alwaysInclude?: ReadonlySet<string>;
  /** Told about each excluded entry that is not walked (an excluded directory counts once). */
  readonly onExcluded?: (path: string) => void;
  readonly signal?: AbortSignal;
}

interface PendingDir {
  readonly entry: WalkEntry;
  emitted: boolean;
}

/**
 * Yields every entry to send, parents before children, in byte order of names. Synchronous:
 * listing directories is cheap next to a thread-pool round trip per directory and a promise per
 * entry: 5,000 kept files of a 50k tree walk in ~15 ms this way against ~45 ms through
 * fs.promises and nested async generators.
 */
export function* walkContext(root: string, options: WalkOptions): Generator<WalkEntry> {
  const forcedDirs = new Set<string>();
  for (const p of options.alwaysInclude ?? []) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) forcedDirs.add(parts.slice(0, i).join('/'));
  }
  yield* walkDir(root, '', undefined, [], { ...options, forcedDirs });
}

function* walkDir(
  abs: string,
  rel: string,
  parentInfo: MatchInfo | undefined,
  pending: readonly PendingDir[],
  options: WalkOptions & { forcedDirs: ReadonlySet<string> },
): Generator<WalkEntry> {
  options.signal?.throwIfAborted();
  for (const dirent of readSorted(abs, rel)) {
    const entry: WalkEntry = {
      path: rel ? `${rel}/${dirent.name}` : dirent.name,
      // Concatenation, not path.join: abs is already normal, and join was a third of the walk.
      abs: abs.endsWith('/') ? abs + dirent.name : `${abs}/${dirent.name}`,
      kind: kindOf(dirent),
    };
    const { excluded, info } = options.matcher.match(entry.path, parentInfo);
    const forced = entry.kind === 'dir' ? options.forcedDirs.has(entry.path) : options.alwaysInclude?.has(entry.path) === true;
    if (excluded && entry.kind === 'dir') {
      if (forced || options.matcher.mayReinclude(entry.path)) {
        yield* walkDir(entry.abs, entry.path, info, [...pending, { entry, emitted: false }], options);
      } else {
        options.onExcluded?.(entry.path);
      }
      continue;
    }
    if (excluded && !forced) {
      options.onExcluded?.(entry.path);
      continue;
    }
    for (const p of pending) {
      if (!p.emitted) yield p.entry;
      p.emitted = true;
    }
    yield entry;
    if (entry.kind === 'dir') yield* walkDir(entry.abs, entry.path, info, [], options);
  }
}

function readSorted(abs: string, rel: string): Dirent[] {
  try {
    const entries = readdirSync(abs, { withFileTypes: true });
    // Go's filepath.Walk order: names compared as UTF-8 bytes (not UTF-16 units, as sort() would);
    // for ASCII names, the usual case, the two orders are the same and no bytes need making.
    if (entries.every((d) => /^[\x00-\x7f]*$/.test(d.name)))
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return entries
      .map((d) => ({ d, key: Buffer.from(d.name) }))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .map((x) => x.d);
  } catch (e) {
    const where = rel || '.';
    throw new ActionError(
      `cannot list the build context directory '${where}': ${(e as Error).message}`,
      { phase: 'build' },
      `make '${where}' readable by the runner user, or exclude it in .dockerignore`,
      { cause: e },
    );
  }
}

function kindOf(d: Dirent): EntryKind {
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFile()) return 'file';
  return 'other';
}

/** Files up to this size are read whole; larger ones are streamed from an open descriptor. */
export const SMALL_FILE = 64 * 1024;

/** A walked entry with what the tar needs. A non-empty file has `data` or, when large, `fd`. */
export interface ReadEntry {
  readonly entry: WalkEntry;
  readonly stats: Stats;
  readonly linkname?: string;
  readonly data?: Buffer;
  /** Open for a large file; the caller streams `stats.size` bytes from it and closes it. */
  readonly fd?: number;
}

/**
 * Stats (and reads or opens) one entry. Undefined when it vanished since it was listed, or is a
 * socket, fifo or device (a fifo would block the read). Throws ActionError naming an unreadable path.
 *
 * Synchronous on purpose: a context is mostly small files, and each fs.promises call costs a
 * thread-pool round trip. Measured here on 2,000 small files: 30 ms synchronous, 160–300 ms with
 * fs.promises (even 32 in parallel). Blocking stays short: at most SMALL_FILE bytes per call.
 */
export function readEntry(e: WalkEntry): ReadEntry | undefined {
  if (e.kind === 'other') return undefined;
  let fd: number | undefined;
  try {
    if (e.kind !== 'file') {
      const stats = lstatSync(e.abs);
      return e.kind === 'symlink' ? { entry: e, stats, linkname: readlinkSync(e.abs) } : { entry: e, stats };
    }
    fd = openSync(e.abs, 'r');
    const stats = fstatSync(fd);
    if (stats.size > SMALL_FILE) {
      const open = fd;
      fd = undefined;
      return { entry: e, stats, fd: open };
    }
    const data = Buffer.allocUnsafe(stats.size);
    // A file that shrank since fstat is sent as read: its header is written after this.
    const got = stats.size > 0 ? readSync(fd, data, 0, stats.size, 0) : 0;
    return { entry: e, stats, data: data.subarray(0, got) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(e.path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
