/**
 * Packs a build context into a tar stream the way `docker build` does: the entries are
 * filter.ts's walk (the same one that answers BuildKit over the session) with the
 * `.dockerignore` patterns as excludes and, as the CLI's TrimBuildFilesFromExcludes adds them,
 * exceptions that keep the Dockerfile (and, for the classic builder, `.dockerignore`); a
 * Dockerfile outside the context is added under a generated name; symlinks kept as symlinks,
 * hard links as links, modes and times kept, owner root. Streamed with back-pressure: memory
 * stays flat whatever the size of the context. Also makes the rack's gzip source tarball, with
 * files replaced.
 *
 * Two readers take the tar, and they differ (so the caller names which):
 * - `classic`: the classic builder, and the rack building the source tarball. Whole-second
 *   mtimes and only the context's `.dockerignore`, as the docker CLI's archive for it
 *   (cli/command/image/build.go) and the Convox CLI's Tarball (pkg/common/tar.go); the engine
 *   removes the Dockerfile and `.dockerignore` again when `.dockerignore` lists them (moby
 *   builder/remotecontext/detect.go, removeDockerfile).
 * - `buildkit`: BuildKit given the tar as its context. Sub-second mtimes (PAX records) and
 *   `<Dockerfile>.dockerignore` first, as over the session. BuildKit applies no `.dockerignore`
 *   to an uploaded tar and removes nothing from it (moby/buildkit frontend/dockerui config.go,
 *   MainContext), so whatever the tar carries only for the engine reaches `COPY .`: those files
 *   are the prepared context's `extras`, and a caller with extras must not upload it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header, Pack } from 'tar-stream';
import { ActionError } from '../errors.js';
import { readIgnorePatterns } from './dockerignore.js';
import { diskReader, filteredWalk, unreadable, type ContextEntry } from './filter.js';
import { PatternMatcher } from './patterns.js';

/** Who reads the tar: the classic builder (and the rack), or BuildKit. See the module comment. */
export type TarReader = 'classic' | 'buildkit';

export interface PrepareOptions {
  /** Absolute path of the context directory. */
  readonly contextDir: string;
  /** Absolute path of the Dockerfile; it may be outside the context. */
  readonly dockerfile: string;
  readonly reader: TarReader;
  /** Context-relative `/` path → bytes to send instead of the file (which need not exist). Always sent. */
  readonly replace?: ReadonlyMap<string, Buffer>;
}

export interface PackOptions extends PrepareOptions {
  /** Gzip the tar (the rack's source tarball); the Engine's build context is plain tar. */
  readonly gzip?: boolean;
  readonly signal?: AbortSignal;
}

/** What the tar will hold, decided before a byte is packed. */
export interface PreparedContext {
  /** The context directory, symlinks resolved. */
  readonly contextDir: string;
  /** Path of the Dockerfile inside the tar: the build's `dockerfile` parameter. */
  readonly dockerfileName: string;
  /**
   * Files the tar carries only so the engine finds them, which a build's `COPY .` must not
   * get: build files `.dockerignore` excludes, and a generated name for a Dockerfile outside
   * the context. The classic builder removes them itself; BuildKit does not.
   */
  readonly extras: readonly string[];
  /** The `.dockerignore` patterns in force for this reader. */
  readonly patterns: readonly string[];
  readonly special: SpecialFiles;
  readonly reader: TarReader;
}

export interface PackStats {
  /** Entries sent that are not directories. */
  readonly files: number;
  /** Bytes of the stream (after gzip, when asked for). */
  readonly bytes: number;
  /** Entries left out by .dockerignore; an excluded directory that is not walked counts once. */
  readonly excluded: number;
}

export interface PackedContext {
  /** The tar bytes, produced as they are read. Errors (an unreadable file) arrive as an ActionError. */
  readonly stream: NodeJS.ReadableStream;
  /** Path of the Dockerfile inside the tar: the build's `dockerfile` parameter. */
  readonly dockerfileName: string;
  /** Settles when the last byte has passed; rejects with the packing error. */
  readonly done: Promise<PackStats>;
}

/**
 * Reads the ignore patterns and finds the Dockerfile; throws ActionError for a missing context
 * or Dockerfile, or a bad `.dockerignore` pattern (file:line).
 */
export async function prepareContext(opts: PrepareOptions): Promise<PreparedContext> {
  const contextDir = await resolveExisting(opts.contextDir, 'build context directory');
  const dockerfileAbs = await resolveExisting(opts.dockerfile, 'Dockerfile');
  const { patterns } = await readIgnorePatterns(contextDir, opts.reader === 'buildkit' ? opts.dockerfile : undefined);
  const special = await planSpecialFiles(contextDir, dockerfileAbs, opts.replace ?? new Map(), opts.reader);
  const matcher = patterns.length > 0 ? new PatternMatcher(patterns) : undefined;
  const extras = [...special.alwaysInclude].filter(
    (p) => special.generated.has(p) || (!special.replaced.has(p) && matcher?.match(p).matched === true),
  );
  return { contextDir, dockerfileName: special.dockerfileName, extras: extras.sort(), patterns, special, reader: opts.reader };
}

/**
 * Starts packing (preparing first, unless given what prepareContext returned for the same
 * options). Resolves once packing has started; the stream's errors arrive through `done`.
 */
export async function packContext(opts: PackOptions, prepared?: PreparedContext): Promise<PackedContext> {
  const { contextDir, patterns, special } = prepared ?? (await prepareContext(opts));

  const pack = tar.pack();
  let excluded = 0;
  const onAbort = () => pack.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('packing aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const entries = filteredWalk(
    diskReader(contextDir),
    { excludePatterns: keepBuildFiles(patterns, special.alwaysInclude) },
    { excluded: () => excluded++ },
  );
  const produced = produce(pack, entries, special, opts.reader === 'buildkit', opts.signal).catch((e: unknown) => {
    pack.destroy(e instanceof Error ? e : new Error(String(e)));
    throw e;
  });
  const out = output(pack, opts.gzip === true);
  // Both settle; the producer's error (naming the file) is the one worth reporting.
  const done = Promise.allSettled([produced, out.piped]).then(([p, s]) => {
    opts.signal?.removeEventListener('abort', onAbort);
    if (p.status === 'rejected') throw p.reason;
    if (s.status === 'rejected') throw s.reason;
    return { files: p.value, bytes: out.bytes(), excluded };
  });
  // Nobody may be listening yet when packing fails; the caller still sees the rejection.
  done.catch(() => {});
  return { stream: out.stream, dockerfileName: special.dockerfileName, done };
}

/** The pack as a Node stream (what dockerode pipes into the request), gzipped on request, counted. */
function output(pack: Pack, gzip: boolean): { stream: Transform; piped: Promise<void>; bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  // Readable.from measured faster here than piping the streamx pack into Node streams directly.
  const source = Readable.from(pack, { objectMode: false });
  const piped = gzip ? pipeline(source, createGzip(), stream) : pipeline(source, stream);
  return { stream, piped, bytes: () => bytes };
}

type Headers = Partial<Header> & Pick<Header, 'name'>;
type Sink = ReturnType<Pack['entry']>;

interface SpecialFiles {
  readonly dockerfileName: string;
  /** Paths sent whatever `.dockerignore` says. */
  readonly alwaysInclude: ReadonlySet<string>;
  /** Bytes that replace (or add) entries, by context-relative path. */
  readonly replace: Map<string, { data: Buffer; mode?: number }>;
  /** Paths whose bytes the caller gave (replace): theirs to send, not extras. */
  readonly replaced: ReadonlySet<string>;
  /** Paths made up for the engine (an outside Dockerfile's name, a rewritten `.dockerignore`). */
  readonly generated: ReadonlySet<string>;
}

/** The CLI's rules for the Dockerfile and `.dockerignore` (build.go, AddDockerfileToBuildContext). */
async function planSpecialFiles(
  contextDir: string,
  dockerfileAbs: string,
  replace: ReadonlyMap<string, Buffer>,
  reader: TarReader,
): Promise<SpecialFiles> {
  const out = new Map<string, { data: Buffer; mode?: number }>();
  for (const [p, data] of replace) out.set(checkedRelative(p), { data });
  const replaced = new Set(out.keys());
  const ignoreAbs = path.join(contextDir, '.dockerignore');
  const ignoreExists = await lstat(ignoreAbs).then(
    (s) => s.isFile(),
    () => false,
  );
  const rel = path.relative(contextDir, dockerfileAbs);
  const inside = rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
  const include = new Set(out.keys());
  // Only the classic builder reads `.dockerignore` out of the tar (to remove the build files).
  if (ignoreExists && reader === 'classic') include.add('.dockerignore');
  if (inside) {
    const name = rel.split(path.sep).join('/');
    include.add(name);
    return { dockerfileName: name, alwaysInclude: include, replace: out, replaced, generated: new Set() };
  }
  // Outside the context: sent under a random name, which .dockerignore then lists so the
  // classic builder removes it again, as the CLI does.
  const name = `${GENERATED_PREFIX}${randomBytes(10).toString('hex')}`;
  out.set(name, { data: await readFile(dockerfileAbs), mode: 0o600 });
  include.add(name);
  const generated = new Set([name]);
  if (reader === 'classic') {
    const ignore = out.get('.dockerignore')?.data ?? (ignoreExists ? await readFile(ignoreAbs) : Buffer.from('.dockerignore'));
    out.set('.dockerignore', { data: Buffer.concat([ignore, Buffer.from(`\n${name}\n`)]) });
    include.add('.dockerignore');
    generated.add('.dockerignore');
  }
  return { dockerfileName: name, alwaysInclude: include, replace: out, replaced, generated };
}

/** The name a Dockerfile from outside the context gets in the tar, before its random part (the CLI's). */
export const GENERATED_PREFIX = '.dockerfile.';

async function produce(
  pack: Pack,
  entries: Iterable<ContextEntry>,
  plan: SpecialFiles,
  nanoseconds: boolean,
  signal?: AbortSignal,
): Promise<number> {
  let files = 0;
  let written = 0;
  const pending = new Map(plan.replace);
  for (const e of entries) {
    signal?.throwIfAborted();
    const replacement = pending.get(e.path);
    pending.delete(e.path);
    if (e.kind === 'socket') continue; // tar has no sockets (the CLI's archive skips them too)
    if (e.kind !== 'dir') files++;
    // BuildKit tells an uploaded tar from a lone Dockerfile by reading its first header out of
    // the first 1024 bytes (dockerfile builder's isArchive): a PAX record before the first
    // header would push it past them, so the first entry keeps whole seconds.
    const ns = nanoseconds && written++ > 0;
    if (replacement) await addReplacement(pack, e, replacement, ns);
    else await addEntry(pack, e, ns);
  }
  for (const [name, r] of pending) {
    await write(pack, { ...header(name, undefined, false, r.mode ?? 0o644), size: r.data.length }, r.data);
    files++;
  }
  pack.finalize();
  return files;
}

function addReplacement(pack: Pack, e: ContextEntry, replacement: { data: Buffer; mode?: number }, ns: boolean): Promise<void> {
  if (e.kind === 'dir') throw new Error(`packContext: cannot replace the directory '${e.path}' with a file`);
  // A symlink or special file of that name is replaced by a regular file with these bytes.
  const mode = replacement.mode ?? (e.kind === 'file' ? undefined : 0o644);
  return write(pack, { ...header(e.path, e, ns, mode), size: replacement.data.length }, replacement.data);
}

const SPECIAL = { pipe: 'fifo', device: 'block-device', chardevice: 'character-device' } as const;

async function addEntry(pack: Pack, e: ContextEntry, ns: boolean): Promise<void> {
  const h = header(e.path, e, ns);
  if (e.kind === 'dir') return write(pack, { ...h, type: 'directory' });
  if (e.kind === 'symlink') return write(pack, { ...h, type: 'symlink', linkname: e.linkname });
  // A second path of a hard link (filter.ts names the first one sent): a link entry, as the CLI's tar writes it.
  if (e.linkname !== '') return write(pack, { ...h, type: 'link', linkname: e.linkname });
  if (e.kind !== 'file') {
    const rdev = e.stats.rdev;
    const dev = { devmajor: Number((rdev >> 8n) & 0xfffn), devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n)) };
    return write(pack, { ...h, type: SPECIAL[e.kind as keyof typeof SPECIAL], ...dev });
  }
  const body = readContextFile(e);
  if (body === undefined) return;
  if (Buffer.isBuffer(body)) return write(pack, { ...h, size: body.length }, body);
  try {
    await write(pack, { ...h, size: body.size }, body.fd);
  } catch (err) {
    throw unreadable(e.path, err);
  }
}

/** Files up to this size are read whole; larger ones are streamed from an open descriptor. */
export const SMALL_FILE = 64 * 1024;

/**
 * A file's bytes, or for a large one an open descriptor and the size to stream from it
 * (fstat's, so a file that changed since the walk is sent as it is now); undefined when it
 * vanished. Synchronous on purpose: a context is mostly small files, and each fs.promises
 * call costs a thread-pool round trip (measured here on 2,000 small files: 30 ms synchronous,
 * 160–300 ms with fs.promises, even 32 in parallel). Blocking stays short: at most SMALL_FILE bytes.
 */
export function readContextFile(e: ContextEntry): Buffer | { fd: number; size: number } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(e.abs, 'r');
    const size = fstatSync(fd).size;
    if (size > SMALL_FILE) {
      const open = fd;
      fd = undefined;
      return { fd: open, size };
    }
    const data = Buffer.allocUnsafe(size);
    // A file that shrank since fstat is sent as read: its header is written after this.
    const got = size > 0 ? readSync(fd, data, 0, size, 0) : 0;
    return data.subarray(0, got);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(e.path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A tar header: owner root, the entry's mode and mtime. With `nanoseconds` (BuildKit reads the
 * tar), an mtime with a fraction of a second also goes into a PAX record (BuildKit keeps it, as
 * it keeps the session's); without, whole seconds, as the CLI's archive writes them for the
 * classic builder.
 */
function header(name: string, e: ContextEntry | undefined, nanoseconds: boolean, mode?: number): Headers {
  const st = e?.stats;
  const h: Headers = {
    name,
    mode: mode ?? (st ? Number(st.mode) & 0o7777 : 0o644),
    mtime: st ? new Date(Number(st.mtimeNs / 1_000_000_000n) * 1000) : new Date(),
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    type: 'file',
  };
  const fraction = st ? st.mtimeNs % 1_000_000_000n : 0n;
  if (nanoseconds && st && fraction !== 0n) {
    const secs = st.mtimeNs / 1_000_000_000n;
    h.pax = { mtime: `${secs}.${fraction.toString().padStart(9, '0')}` };
  }
  return h;
}

/** The CLI's TrimBuildFilesFromExcludes: an exception for each file that must be sent but is excluded. */
function keepBuildFiles(patterns: readonly string[], always: ReadonlySet<string>): string[] {
  if (patterns.length === 0) return [];
  const matcher = new PatternMatcher(patterns);
  return [...patterns, ...[...always].filter((p) => matcher.match(p).matched).map((p) => `!${p}`)];
}

/** Writes one entry: no body, bytes, or a large file streamed with back-pressure (fd closed after). */
function write(pack: Pack, h: Headers, body?: Buffer | number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      return;
    }
    let sink: Sink;
    try {
      sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
    } catch (err) {
      closeSync(body); // the pack is gone (aborted): the read stream that would close it never starts
      throw err;
    }
    feed(body, h.size ?? 0, sink).catch((err: unknown) => {
      sink.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    });
  });
}

async function feed(fd: number, size: number, sink: Sink): Promise<void> {
  // Only the size announced in the header: a file growing while we read must not break the tar.
  const reader = createReadStream('', { fd, start: 0, end: size - 1, autoClose: true });
  for await (const chunk of reader) {
    if (!sink.write(chunk)) await drained(sink);
  }
  sink.end(undefined);
}

/** Resolves when the sink wants more, or is gone (its error then reaches the entry callback). */
function drained(sink: Sink): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

async function resolveExisting(p: string, what: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    throw new ActionError(
      `the ${what} '${p}' does not exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { phase: 'build' },
      what === 'Dockerfile'
        ? 'check the Dockerfile input: a path relative to the workspace'
        : 'check the context input: a directory relative to the workspace',
    );
  }
}

function checkedRelative(p: string): string {
  const clean = path.posix.normalize(p);
  if (clean !== p || p.startsWith('/') || p.startsWith('../') || p === '..' || p === '.' || p === '') {
    throw new Error(`packContext: replace key must be a clean context-relative path, got ${JSON.stringify(p)}`);
  }
  return p;
}
