/**
 * Serves the build context to BuildKit over the build session, as the docker CLI does, instead
 * of uploading one tar: the engine then reads the files it needs straight into its cache and
 * skips storing and unpacking an upload (`copy /context /`), the slowest part of a tar build.
 *
 * BuildKit calls `moby.filesync.v1.FileSync/DiffCopy` once per local source ("context",
 * "dockerfile"), naming it in the `dir-name` metadata with optional `include-patterns` and
 * `exclude-patterns`. The stream speaks fsutil's packets (fsutil/types/wire.proto):
 * we send a STAT for every entry (parents first, names in byte order) and an empty STAT at the
 * end; BuildKit sends REQ for the files whose bytes it wants; we answer DATA chunks and an
 * empty DATA per file; its FIN is answered with FIN. Messages are hand-encoded (protobuf.ts).
 *
 * Unlike the CLI, which walks the context when BuildKit asks for it, the run starts the listing
 * of the whole context early (prepareContextListing): it is walked in small slices while the run
 * waits for the rack and the engine, and is ready, encoded, when BuildKit asks.
 */
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { IgnoreMatcher, readIgnorePatterns } from '../context/dockerignore.js';
import { frameHeader, type ServerCall, type StreamHandler } from './grpc-server.js';
import { ProtobufError, ProtoWriter, readVarint, varintSize, WireType, writeVarint } from './protobuf.js';
import { unreadable, walkContext, type WalkEntry } from '../context/walk.js';

export const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';

const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;
const CHUNK = 32 * 1024;
/** Bytes of packets per HTTP/2 write, for the listing and for the files' data. */
const BATCH = 64 * 1024;
/** A batch is flushed once it reaches BATCH; room for one more chunk and its headers. */
const BATCH_CAPACITY = BATCH + CHUNK + 64;
/** Encoded listing held ahead of BuildKit's request, at most; the walk waits beyond it. */
const LISTING_AHEAD = 8 * 1024 * 1024;
/** The longest the walk runs before letting the event loop answer BuildKit's other calls. */
const SLICE_MS = 2;

// Go's os.FileMode type bits, which fsutil puts in Stat.mode next to the permission bits.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export interface FileSyncDirs {
  /** Absolute directories by BuildKit's name for them: `context`, `dockerfile`. */
  readonly [name: string]: string;
}

export interface FileSync {
  /** The DiffCopy handler. */
  readonly handle: StreamHandler;
  /** Stops a listing still being prepared that BuildKit never asked for. */
  close(): void;
}

/**
 * Starts walking and encoding the whole context's listing now (see Listing), for a
 * session's fileSync to send the moment BuildKit asks for the context. The docker CLI walks only
 * when asked; this walks while the run waits for other things (the rack, the engine's replies).
 */
export function prepareContextListing(root: string, dockerfile: string): Listing {
  return new Listing(root, () => selectEntries(root, dockerfile, [], []));
}

/**
 * Serves `dirs` over DiffCopy. The first request for the whole context is answered from
 * `listing` (of `dirs.context`, started earlier), else from a listing started now; every other
 * request is walked when it comes.
 */
export function fileSync(dirs: FileSyncDirs, dockerfile: string, listing?: Listing): FileSync {
  const root = dirs.context;
  let prepared = listing?.root === root ? listing : root === undefined ? undefined : prepareContextListing(root, dockerfile);
  return {
    handle: (call) => {
      const name = meta(call, 'dir-name')[0] ?? '';
      const dir = dirs[name];
      if (!dir) {
        call.fail(new Error(`no local directory named '${name}' in this session`));
        return;
      }
      // `followpaths` (BuildKit 0.8's way to ask for single files such as the Dockerfile) select like includes.
      const includes = [...meta(call, 'include-patterns'), ...meta(call, 'followpaths')];
      let listing: Listing;
      if (name === 'context' && includes.length === 0 && prepared) {
        // The whole context, as prepared; a second request for it walks again.
        listing = prepared;
        prepared = undefined;
      } else {
        // For the context, BuildKit's exclude-patterns are the .dockerignore it read through us;
        // ours are the same rules, plus the `<Dockerfile>.dockerignore` that replaces the root
        // file (which BuildKit 0.8 does not know), so ours alone decide. Other directories take BuildKit's.
        const context = name === 'context';
        listing = new Listing(dir, () =>
          selectEntries(dir, context ? dockerfile : undefined, includes, context ? [] : meta(call, 'exclude-patterns')),
        );
      }
      diffCopy(call, listing).catch((e: unknown) => call.fail(e));
    },
    close: () => {
      prepared?.close();
      prepared = undefined;
    },
  };
}

function meta(call: ServerCall, key: string): string[] {
  const value = call.metadata[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

async function diffCopy(call: ServerCall, listing: Listing): Promise<void> {
  const sender = new FileSender(call, listing.files);
  call.onMessage((packet: Buffer) => {
    const { type, id } = decodePacket(packet);
    if (type === REQ) sender.request(id);
    else if (type === FIN) {
      sender
        .drained()
        .then(() => call.send(new ProtoWriter().varint(1, FIN).finish()))
        .then(
          () => call.end(),
          (e: unknown) => call.fail(e),
        );
    }
  });
  for await (const frames of listing.frames()) await call.sendFramed(frames);
}

/**
 * The entries to list: the walk with `.dockerignore` (for the context: ours, which also knows
 * `<Dockerfile>.dockerignore`) and BuildKit's exclude patterns applied, then its includes.
 */
async function selectEntries(
  root: string,
  dockerfile: string | undefined,
  includes: string[],
  excludes: string[],
): Promise<Iterable<WalkEntry>> {
  // BuildKit asks for single files by name (the Dockerfile, `.dockerignore`): stat just those
  // instead of walking a context that may hold tens of thousands of files.
  if (includes.length > 0 && includes.every((p) => !/[*?[\\]/.test(p))) return namedEntries(root, includes);
  const ignore = dockerfile ? (await readIgnorePatterns(root, dockerfile)).patterns : [];
  const walked = walkContext(root, { matcher: new IgnoreMatcher([...ignore, ...excludes]) });
  if (includes.length === 0) return walked;
  // Include patterns select files; their parent directories come along.
  const all = [...walked];
  const wanted = new IgnoreMatcher(includes);
  const files = new Set(all.filter((e) => e.kind !== 'dir' && wanted.match(e.path).excluded));
  const parents = new Set(
    [...files].flatMap((e) =>
      e.path
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  return all.filter((e) => (e.kind === 'dir' ? parents.has(e.path) : files.has(e)));
}

/** The named files (those that exist) and their parent directories, parents first, in byte order. */
function namedEntries(root: string, names: readonly string[]): WalkEntry[] {
  const paths = new Set<string>();
  for (const name of names) {
    const clean = path.posix.normalize(name).replace(/^\/+/, '');
    if (clean.startsWith('..')) continue;
    const parts = clean.split('/');
    if (!existsSync(path.join(root, clean))) continue;
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  return [...paths]
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((p) => {
      const abs = path.join(root, p);
      const stats = lstatSync(abs);
      const kind = stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'file';
      return { path: p, abs, kind };
    });
}

/**
 * One DiffCopy listing of a directory: the STAT packets of `entries` (sockets, fifos and devices
 * left out, as the CLI does), encoded into ~64 KB batches as the walk goes and handed to whoever
 * iterates `frames()`; then the empty STAT that ends it. The walk starts at once and yields to
 * the event loop every couple of milliseconds, so a listing prepared early costs the run only
 * time it would spend waiting; with nobody reading, it pauses once LISTING_AHEAD bytes wait.
 * A walk error is thrown to the reader (and nowhere else: a listing nobody reads fails nothing).
 */
export class Listing {
  /** The listed files' absolute paths, by packet id (the entry's index in the listing). */
  readonly files = new Map<number, string>();
  private readonly ready: Buffer[] = [];
  private readyBytes = 0;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private cancelled = false;
  private wakeReader: (() => void) | undefined;
  private wakeWalk: (() => void) | undefined;

  constructor(
    /** The directory listed. */
    readonly root: string,
    entries: () => Iterable<WalkEntry> | Promise<Iterable<WalkEntry>>,
  ) {
    setImmediate(() => {
      this.walk(entries).then(
        () => this.settle(),
        (error: unknown) => this.settle({ error }),
      );
    });
  }

  /** The encoded batches in order; throws what failed the walk. */
  async *frames(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = this.ready.shift();
      if (next) {
        this.readyBytes -= next.length;
        this.wake('walk');
        yield next;
        continue;
      }
      if (this.finished) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }

  /** Stops the walk if it is still going (the build is over, or took another way). */
  close(): void {
    this.cancelled = true;
    this.wake('walk');
  }

  private async walk(entries: () => Iterable<WalkEntry> | Promise<Iterable<WalkEntry>>): Promise<void> {
    const batch = new FrameBatch((frames) => this.hand(frames));
    let id = 0;
    let slice = Date.now();
    for (const entry of await entries()) {
      // A reader must never take a cut-short listing for the whole context.
      if (this.cancelled) throw new Error('the context listing was stopped: the build is over');
      if (entry.kind === 'other') continue;
      let stats: Stats;
      try {
        stats = lstatSync(entry.abs);
      } catch (e) {
        // Gone since the directory was read: listed as the tar path does, not at all.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw unreadable(entry.path, e);
      }
      if (entry.kind === 'file') this.files.set(id, entry.abs);
      batch.stat(entry, stats);
      id++;
      if (batch.full) await batch.flush();
      if ((id & 127) === 0 && Date.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
    // An empty STAT ends the listing.
    batch.message(new ProtoWriter().varint(1, STAT).finish());
    await batch.flush();
  }

  /** Queues a batch for the reader; waits while too much is queued. */
  private async hand(frames: Buffer): Promise<void> {
    this.ready.push(frames);
    this.readyBytes += frames.length;
    this.wake('reader');
    while (this.readyBytes > LISTING_AHEAD && !this.cancelled) await new Promise<void>((resolve) => (this.wakeWalk = resolve));
  }

  private settle(failure?: { error: unknown }): void {
    this.finished = true;
    this.failure = failure;
    this.wake('reader');
  }

  private wake(who: 'reader' | 'walk'): void {
    const fn = who === 'reader' ? this.wakeReader : this.wakeWalk;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakeWalk = undefined;
    fn?.();
  }
}

/**
 * Answers BuildKit's REQs in order. On a fresh runner BuildKit asks for every file of the
 * context, thousands of small ones, and the daemon needs the machine's CPU at the same time to
 * write and hash them: each file's DATA packets are encoded straight into a FrameBatch (no Buffer
 * or promise per packet). A large file is read a chunk at a time and each full batch waits for
 * the stream to take it, so memory stays bounded.
 */
class FileSender {
  private readonly pending: number[] = [];
  private running: Promise<void> | undefined;
  private readonly out: FrameBatch;
  /** One read buffer for every file: its bytes are copied into the batch. */
  private readonly scratch = Buffer.allocUnsafe(CHUNK);

  constructor(
    private readonly call: ServerCall,
    private readonly files: ReadonlyMap<number, string>,
  ) {
    this.out = new FrameBatch((frames) => call.sendFramed(frames));
  }

  request(id: number): void {
    this.pending.push(id);
    this.running ??= this.pump().finally(() => (this.running = undefined));
    this.running.catch((e: unknown) => this.call.fail(e));
  }

  /** Resolves once every file asked for so far has been sent; rejects if sending failed. */
  async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pump(): Promise<void> {
    for (;;) {
      const id = this.pending.shift();
      if (id === undefined) {
        await this.out.flush();
        if (this.pending.length === 0) return;
        continue;
      }
      const file = this.files.get(id);
      const fd = file === undefined ? undefined : openSync(file, 'r');
      try {
        for (let n = fd === undefined ? 0 : this.read(fd); n > 0; n = this.read(fd!)) {
          this.out.data(id, this.scratch.subarray(0, n));
          if (this.out.full) await this.out.flush();
        }
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      // An empty DATA packet ends the file.
      this.out.data(id, undefined);
      if (this.out.full) await this.out.flush();
    }
  }

  private read(fd: number): number {
    return readSync(fd, this.scratch, 0, CHUNK, null);
  }
}

/** gRPC messages gathered in one buffer and handed to `sink` ~64 KB at a time (one HTTP/2 write each). */
class FrameBatch {
  private buf = Buffer.allocUnsafe(BATCH_CAPACITY);
  private size = 0;

  constructor(private readonly sink: (frames: Buffer) => Promise<void>) {}

  /** Holds BATCH bytes or more: time to flush. */
  get full(): boolean {
    return this.size >= BATCH;
  }

  /** Appends an encoded message. */
  message(m: Buffer): void {
    this.reserve(5 + m.length);
    frameHeader(this.buf, this.size, m.length);
    this.size += 5 + m.copy(this.buf, this.size + 5);
  }

  /**
   * Appends fsutil Packet{type: STAT (0, so not written), stat: Stat}, encoded in place. Stat:
   * path, Go file mode, uid/gid 0 (as the docker CLI resets them; zero, so not written), size,
   * mtime in nanoseconds, link target.
   */
  stat(entry: WalkEntry, stats: Stats): void {
    const pathBytes = Buffer.byteLength(entry.path);
    const mode = (entry.kind === 'dir' ? MODE_DIR : entry.kind === 'symlink' ? MODE_SYMLINK : 0) + (stats.mode & 0o7777);
    const size = entry.kind === 'file' ? stats.size : 0;
    const mtime = Math.floor(stats.mtimeMs) * 1_000_000;
    const link = entry.kind === 'symlink' ? readlinkSync(entry.abs) : '';
    const linkBytes = Buffer.byteLength(link);
    const inner =
      1 +
      varintSize(pathBytes) +
      pathBytes +
      1 +
      varintSize(mode) +
      (size > 0 ? 1 + varintSize(size) : 0) +
      1 +
      varintSize(mtime) +
      (linkBytes > 0 ? 1 + varintSize(linkBytes) + linkBytes : 0);
    const body = 1 + varintSize(inner) + inner;
    this.reserve(5 + body);
    const b = this.buf;
    frameHeader(b, this.size, body);
    let at = this.size + 5;
    b[at++] = 0x12; // field 2 (stat), bytes
    at = writeVarint(b, at, inner);
    b[at++] = 0x0a; // Stat field 1 (path), bytes
    at = writeVarint(b, at, pathBytes);
    at += b.write(entry.path, at);
    b[at++] = 0x10; // field 2 (mode), varint
    at = writeVarint(b, at, mode);
    if (size > 0) {
      b[at++] = 0x28; // field 5 (size), varint
      at = writeVarint(b, at, size);
    }
    b[at++] = 0x30; // field 6 (modTime), varint
    at = writeVarint(b, at, mtime);
    if (linkBytes > 0) {
      b[at++] = 0x3a; // field 7 (linkname), bytes
      at = writeVarint(b, at, linkBytes);
      at += b.write(link, at);
    }
    this.size = at;
  }

  /** Appends fsutil Packet{type: DATA, id, data}, encoded in place; no data ends the file. */
  data(id: number, data: Buffer | undefined): void {
    const n = data?.length ?? 0;
    const body = 2 + 1 + varintSize(id) + (n > 0 ? 1 + varintSize(n) + n : 0);
    this.reserve(5 + body);
    const b = this.buf;
    frameHeader(b, this.size, body);
    let at = this.size + 5;
    b[at++] = 0x08; // field 1 (type), varint
    b[at++] = DATA;
    b[at++] = 0x18; // field 3 (id), varint
    at = writeVarint(b, at, id);
    if (data && n > 0) {
      b[at++] = 0x22; // field 4 (data), bytes
      at = writeVarint(b, at, n);
      at += data.copy(b, at);
    }
    this.size = at;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const out = this.buf.subarray(0, this.size);
    // The sink holds on to what it was given until it is written: the next batch is a new buffer.
    this.buf = Buffer.allocUnsafe(BATCH_CAPACITY);
    this.size = 0;
    await this.sink(out);
  }

  private reserve(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(this.size + n + BATCH_CAPACITY);
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }
}

/** fsutil Packet's type (1) and id (3), the fields BuildKit's REQ and FIN carry; others are skipped. */
function decodePacket(buf: Buffer): { type: number; id: number } {
  let type = 0;
  let id = 0;
  // A plain loop rather than readFields' generator: thousands of REQs arrive on a fresh runner.
  for (let pos = 0; pos < buf.length;) {
    const [key, afterKey] = readVarint(buf, pos);
    // A varint field's value, or a length-delimited field's length.
    const [value, next] = readVarint(buf, afterKey);
    if (key === 8) type = value;
    else if (key === 24) id = value;
    if (key % 8 === WireType.varint) pos = next;
    else if (key % 8 === WireType.bytes && next + value <= buf.length) pos = next + value;
    else
      throw new ProtobufError(
        `a file sync packet with field ${Math.floor(key / 8)} of wire type ${key % 8} at byte ${pos}, or cut short`,
      );
  }
  return { type, id };
}
