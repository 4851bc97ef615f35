/**
 * Reads the context ahead of BuildKit's request for it. The docker CLI walks the context when
 * BuildKit asks; most of that time is directory reads and lstat calls. The action starts the
 * same walk (with the `.dockerignore` BuildKit will send as exclude patterns) when the run
 * starts, in slices while it waits for the rack and the engine, and keeps what it read. When
 * BuildKit asks, whatever its include, exclude and follow paths, the walk is run again over the
 * kept reads: what it did not read ahead (a directory the prediction skipped, say) is read then.
 * The answer is exactly what a walk of the disk gives; only the time moves.
 */
import { readFileSync, realpathSync, type BigIntStats } from 'node:fs';
import { readIgnorePatterns } from './dockerignore.js';
import { diskReader, filteredWalk, type ContextEntry, type DirItem, type FilterOptions, type TreeReader } from './filter.js';

/** The longest the walk ahead runs before letting the event loop answer other calls. */
const SLICE_MS = 2;
/** Entries kept at most (about 200 bytes each); past this the walk ahead stops. */
const MAX_KEPT = 250_000;
/** Files up to this size are read ahead (one DATA packet each)... */
const SMALL_FILE = 32 * 1024;
/** ...up to this many bytes in all. */
const MAX_READ_AHEAD = 16 * 1024 * 1024;

/** What a request for the context is answered with. */
export interface PrefetchedWalk {
  readonly entries: Iterable<ContextEntry>;
  /**
   * The bytes of a listed file as read ahead with its stat, if they were (small files, once the
   * walk ahead finished); each is handed out once. Only for the request the walk ahead answered.
   */
  readonly readAhead?: (abs: string, size: bigint) => Buffer | undefined;
}

/** A TreeReader that keeps every successful read; later reads of the same path are answered from memory. */
class KeepingReader implements TreeReader {
  private readonly dirs = new Map<string, readonly DirItem[]>();
  private readonly stats = new Map<string, BigIntStats>();
  private readonly links = new Map<string, string>();

  constructor(private readonly disk: TreeReader) {}

  get root(): string {
    return this.disk.root;
  }

  get size(): number {
    return this.stats.size + this.dirs.size;
  }

  readDir(rel: string): readonly DirItem[] {
    return remember(this.dirs, rel, () => this.disk.readDir(rel));
  }

  lstat(rel: string): BigIntStats {
    return remember(this.stats, rel, () => this.disk.lstat(rel));
  }

  readlink(rel: string): string {
    return remember(this.links, rel, () => this.disk.readlink(rel));
  }
}

function remember<T>(kept: Map<string, T>, key: string, read: () => T): T {
  const hit = kept.get(key);
  if (hit !== undefined) return hit;
  const value = read();
  kept.set(key, value);
  return value;
}

/** A context being read ahead; `reader()` hands over what was read, to answer BuildKit's request. */
export class ContextPrefetch {
  /** The context directory, resolved. */
  readonly root: string;
  private readonly kept: KeepingReader | undefined;
  private stopped = false;
  private taken = false;
  /** The walk ahead's options and, once it has run to its end, what it yielded. */
  private predicted: FilterOptions | undefined;
  private walked: ContextEntry[] | undefined;
  /** Small files' bytes, read after the walk ahead while the run waits (a fresh runner's BuildKit asks for all). */
  private readonly contents = new Map<string, Buffer>();

  constructor(contextDir: string, dockerfile: string) {
    let root = contextDir;
    try {
      root = realpathSync(contextDir);
    } catch {
      // The build reports a missing context; nothing to read ahead.
      this.root = root;
      this.kept = undefined;
      return;
    }
    this.root = root;
    this.kept = new KeepingReader(diskReader(root));
    void this.run(contextDir, dockerfile).catch(() => {
      // A read that fails ahead fails again when BuildKit asks, and is reported then.
    });
  }

  /**
   * The context as `options` select it. The first request for the context is answered from the
   * walk ahead: its very entries when BuildKit asks for what was predicted (the whole context,
   * the `.dockerignore` as excludes: `COPY .`) and the walk ahead has finished, else a walk over
   * what was read ahead (and the disk for the rest). BuildKit's load of the `.dockerignore`
   * itself, which comes first (follow paths naming only ignore files), is answered from the reads
   * ahead too but does not count as that request. Later requests (another stage) walk the disk
   * again, as the CLI does. Any request but the `.dockerignore` load stops the walk ahead.
   */
  walk(options: FilterOptions): PrefetchedWalk {
    const ignoreFileLoad = isIgnoreFileLoad(options);
    const fresh = !this.taken;
    if (ignoreFileLoad) return { entries: filteredWalk(fresh && this.kept ? this.kept : diskReader(this.root), options) };
    this.stop();
    this.taken = true;
    if (!fresh || !this.kept) return { entries: filteredWalk(diskReader(this.root), options) };
    const contents = this.contents;
    const readAhead = (abs: string, size: bigint): Buffer | undefined => {
      const bytes = contents.get(abs);
      contents.delete(abs);
      return bytes !== undefined && BigInt(bytes.length) === size ? bytes : undefined;
    };
    if (this.walked && this.predicted && sameOptions(options, this.predicted)) return { entries: this.walked, readAhead };
    return { entries: filteredWalk(this.kept, options), readAhead };
  }

  /** Stops the walk ahead (the build is over, or never asked). */
  stop(): void {
    this.stopped = true;
  }

  private async run(contextDir: string, dockerfile: string): Promise<void> {
    const kept = this.kept;
    if (!kept) return;
    const { patterns } = await readIgnorePatterns(contextDir, dockerfile);
    this.predicted = { excludePatterns: patterns };
    const entries: ContextEntry[] = [];
    let slice = Date.now();
    for (const entry of filteredWalk(kept, this.predicted)) {
      if (this.stopped || kept.size > MAX_KEPT) return;
      entries.push(entry);
      if ((entries.length & 127) === 0 && Date.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
    if (this.stopped) return;
    this.walked = entries;
    await this.readSmallFiles(entries);
  }

  /**
   * Reads the bytes of the small files the walk ahead listed, until BuildKit asks for the
   * context. Each is read right after its stat was taken, so bytes and stat agree as a walk at
   * request time would have them agree; a file that cannot be read now is read when asked.
   */
  private async readSmallFiles(entries: readonly ContextEntry[]): Promise<void> {
    let budget = MAX_READ_AHEAD;
    let slice = Date.now();
    for (let i = 0; i < entries.length && !this.stopped; i++) {
      const e = entries[i]!;
      const size = Number(e.stats.size);
      if (e.kind !== 'file' || size === 0 || size > SMALL_FILE || e.linkname !== '') continue;
      if (size > budget) return;
      try {
        const bytes = readFileSync(e.abs);
        if (bytes.length === size) {
          this.contents.set(e.abs, bytes);
          budget -= size;
        }
      } catch {
        // Read (and reported) when BuildKit asks for it.
      }
      if ((i & 63) === 0 && Date.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
  }
}

/**
 * Whether a request is BuildKit's load of the ignore file: follow paths that all name a
 * `.dockerignore` or `<Dockerfile>.dockerignore` and nothing else (frontend/dockerui, "load
 * .dockerignore"; the docker CLI answers it with a walk like any other).
 */
function isIgnoreFileLoad(o: FilterOptions): boolean {
  const follow = o.followPaths ?? [];
  return (o.includePatterns?.length ?? 0) === 0 && follow.length > 0 && follow.every((p) => p.endsWith('.dockerignore'));
}

/** Whether a request asks for exactly the predicted walk: no includes or follow paths, the same excludes. */
function sameOptions(a: FilterOptions, predicted: FilterOptions): boolean {
  const excludes = (o: FilterOptions): readonly string[] => o.excludePatterns ?? [];
  const ea = excludes(a);
  const ep = excludes(predicted);
  return (
    (a.includePatterns?.length ?? 0) === 0 &&
    a.followPaths === undefined &&
    ea.length === ep.length &&
    ea.every((p, i) => p === ep[i])
  );
}
