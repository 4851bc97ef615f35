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
 */
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { IgnoreMatcher, readIgnorePatterns } from './dockerignore.js';
import { frameHeader, type ServerCall, type StreamHandler } from './grpc-server.js';
import { ProtobufError, ProtoWriter, readVarint, varintSize, WireType, writeVarint } from './protobuf.js';
import { walkContext, type WalkEntry } from './walk.js';

export const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';

const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;
const CHUNK = 32 * 1024;
/** Bytes of packets per HTTP/2 write, for the listing and for the files' data. */
const LISTING_BATCH = 64 * 1024;
/** A batch is flushed once it reaches LISTING_BATCH; room for one more chunk and its headers. */
const BATCH_CAPACITY = LISTING_BATCH + CHUNK + 64;

// Go's os.FileMode type bits, which fsutil puts in Stat.mode next to the permission bits.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export interface FileSyncDirs {
  /** Absolute directories by BuildKit's name for them: `context`, `dockerfile`. */
  readonly [name: string]: string;
}

interface Sent {
  readonly entry: WalkEntry;
  readonly stats: Stats;
}

/** The DiffCopy handler, serving `dirs`. */
export function fileSyncHandler(dirs: FileSyncDirs, dockerfile: string): StreamHandler {
  return (call) => {
    diffCopy(call, dirs, dockerfile).catch((e: unknown) => call.fail(e));
  };
}

function meta(call: ServerCall, key: string): string[] {
  const value = call.metadata[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

async function diffCopy(call: ServerCall, dirs: FileSyncDirs, dockerfile: string): Promise<void> {
  const name = meta(call, 'dir-name')[0] ?? '';
  const root = dirs[name];
  if (!root) throw new Error(`no local directory named '${name}' in this session`);
  // `followpaths` (BuildKit 0.8's way to ask for single files such as the Dockerfile) select like includes.
  const includes = [...meta(call, 'include-patterns'), ...meta(call, 'followpaths')];
  // For the context, BuildKit's exclude-patterns are the .dockerignore it read through us; ours
  // are the same rules, plus the `<Dockerfile>.dockerignore` that replaces the root file (which
  // BuildKit 0.8 does not know), so ours alone decide. Other directories take BuildKit's.
  const context = name === 'context';
  const entries = await selectEntries(root, context ? dockerfile : undefined, includes, context ? [] : meta(call, 'exclude-patterns'));
  const files = new Map<number, Sent>();
  const sender = new FileSender(call, files);
  call.onMessage((packet: Buffer) => {
    const { type, id } = decodePacket(packet);
    if (type === REQ) sender.request(id);
    else if (type === FIN) {
      sender
        .drained()
        .then(() => call.send(new ProtoWriter().varint(1, FIN).finish()))
        .then(() => call.end(), (e: unknown) => call.fail(e));
    }
  });
  // The listing goes out in ~64 KB writes of STAT packets, not one write per entry.
  const listing = new FrameBatch(call);
  for (const [id, sent] of entries.entries()) {
    if (sent.entry.kind === 'file') files.set(id, sent);
    listing.message(new ProtoWriter().message(2, statMessage(sent)).finish());
    if (listing.full) await listing.flush();
  }
  // An empty STAT ends the listing.
  listing.message(new ProtoWriter().varint(1, STAT).finish());
  await listing.flush();
}

/**
 * The entries to list: the context with its `.dockerignore` applied (ours, which also knows
 * `<Dockerfile>.dockerignore`), then BuildKit's own include/exclude patterns for this request.
 */
async function selectEntries(root: string, dockerfile: string | undefined, includes: string[], excludes: string[]): Promise<Sent[]> {
  // BuildKit asks for single files by name (the Dockerfile, `.dockerignore`): stat just those
  // instead of walking a context that may hold tens of thousands of files.
  if (includes.length > 0 && includes.every((p) => !/[*?[\\]/.test(p))) return namedEntries(root, includes);
  const ignore = dockerfile ? (await readIgnorePatterns(root, dockerfile)).patterns : [];
  const walked: WalkEntry[] = [];
  for await (const e of walkContext(root, { matcher: new IgnoreMatcher([...ignore, ...excludes]) })) if (e.kind !== 'other') walked.push(e);
  let chosen = walked;
  if (includes.length > 0) {
    // Include patterns select files; their parent directories come along.
    const wanted = new IgnoreMatcher(includes);
    const files = walked.filter((e) => e.kind !== 'dir' && wanted.match(e.path).excluded);
    const parents = new Set(files.flatMap((e) => e.path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    chosen = walked.filter((e) => (e.kind === 'dir' ? parents.has(e.path) : files.includes(e)));
  }
  return chosen.map((entry) => ({ entry, stats: lstatSync(entry.abs) }));
}

/** The named files (those that exist) and their parent directories, parents first, in byte order. */
function namedEntries(root: string, names: readonly string[]): Sent[] {
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
      return { entry: { path: p, abs, kind } as WalkEntry, stats };
    });
}

/** fsutil Stat: path, Go file mode, uid/gid 0 (as the docker CLI resets them), size, mtime, link. */
function statMessage({ entry, stats }: Sent): ProtoWriter {
  const typeBits = entry.kind === 'dir' ? MODE_DIR : entry.kind === 'symlink' ? MODE_SYMLINK : 0;
  const w = new ProtoWriter().string(1, entry.path).varint(2, typeBits + (stats.mode & 0o7777));
  if (entry.kind === 'file') w.varint(5, stats.size);
  w.varint(6, Math.floor(stats.mtimeMs) * 1_000_000);
  if (entry.kind === 'symlink') w.string(7, readlinkSync(entry.abs));
  return w;
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
    private readonly files: ReadonlyMap<number, Sent>,
  ) {
    this.out = new FrameBatch(call);
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
      const sent = this.files.get(id);
      const fd = sent ? openSync(sent.entry.abs, 'r') : undefined;
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

/** gRPC messages gathered in one buffer and sent ~64 KB at a time, one HTTP/2 write each. */
class FrameBatch {
  private buf = Buffer.allocUnsafe(BATCH_CAPACITY);
  private size = 0;

  constructor(private readonly call: ServerCall) {}

  /** Holds LISTING_BATCH bytes or more: time to flush. */
  get full(): boolean {
    return this.size >= LISTING_BATCH;
  }

  /** Appends an encoded message. */
  message(m: Buffer): void {
    this.reserve(5 + m.length);
    frameHeader(this.buf, this.size, m.length);
    this.size += 5 + m.copy(this.buf, this.size + 5);
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
    // The stream holds on to what it was given until it is written: the next batch is a new buffer.
    this.buf = Buffer.allocUnsafe(BATCH_CAPACITY);
    this.size = 0;
    await this.call.sendFramed(out);
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
  for (let pos = 0; pos < buf.length; ) {
    const [key, afterKey] = readVarint(buf, pos);
    // A varint field's value, or a length-delimited field's length.
    const [value, next] = readVarint(buf, afterKey);
    if (key === 8) type = value;
    else if (key === 24) id = value;
    if (key % 8 === WireType.varint) pos = next;
    else if (key % 8 === WireType.bytes && next + value <= buf.length) pos = next + value;
    else throw new ProtobufError(`a file sync packet with field ${Math.floor(key / 8)} of wire type ${key % 8} at byte ${pos}, or cut short`);
  }
  return { type, id };
}

