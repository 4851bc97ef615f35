/**
 * Packs a build context into a tar stream the way `docker build` does: `.dockerignore` applied
 * exactly (see dockerignore.ts, walk.ts), the Dockerfile and `.dockerignore` always sent, a
 * Dockerfile outside the context added under a generated name, symlinks kept as symlinks,
 * modes and times kept, owner root. Streamed with back-pressure: memory stays flat whatever
 * the size of the context. Also makes the rack's gzip source tarball, with files replaced.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { closeSync, createReadStream, lstatSync } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header, Pack } from 'tar-stream';
import { ActionError } from '../errors.js';
import { IgnoreMatcher, readIgnorePatterns } from './dockerignore.js';
import { readEntry, unreadable, walkContext } from './walk.js';
import type { ReadEntry, WalkEntry } from './walk.js';

export interface PackOptions {
  /** Absolute path of the context directory. */
  readonly contextDir: string;
  /** Absolute path of the Dockerfile; it may be outside the context. */
  readonly dockerfile: string;
  /** Gzip the tar (the rack's source tarball); the Engine's build context is plain tar. */
  readonly gzip?: boolean;
  /** Context-relative `/` path → bytes to send instead of the file (which need not exist). Always sent. */
  readonly replace?: ReadonlyMap<string, Buffer>;
  readonly signal?: AbortSignal;
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
 * Starts packing. Resolves once the ignore patterns are read and the Dockerfile found; throws
 * ActionError for a missing context or Dockerfile, or a bad `.dockerignore` pattern (file:line).
 */
export async function packContext(opts: PackOptions): Promise<PackedContext> {
  const contextDir = await resolveExisting(opts.contextDir, 'build context directory');
  const dockerfileAbs = await resolveExisting(opts.dockerfile, 'Dockerfile');
  const { patterns } = await readIgnorePatterns(contextDir, opts.dockerfile);
  const plan = await planSpecialFiles(contextDir, dockerfileAbs, opts.replace ?? new Map());
  const matcher = new IgnoreMatcher(patterns);

  const pack = tar.pack();
  let excluded = 0;
  const onAbort = () => pack.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('packing aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const entries = walkContext(contextDir, {
    matcher,
    alwaysInclude: plan.alwaysInclude,
    onExcluded: () => excluded++,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const produced = produce(pack, entries, plan, opts.signal).catch((e: unknown) => {
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
  return { stream: out.stream, dockerfileName: plan.dockerfileName, done };
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
  readonly alwaysInclude: ReadonlySet<string>;
  /** Bytes that replace (or add) entries, by context-relative path. */
  readonly replace: Map<string, { data: Buffer; mode?: number }>;
}

/** The CLI's rules for the Dockerfile and `.dockerignore` (build.go, AddDockerfileToBuildContext). */
async function planSpecialFiles(
  contextDir: string,
  dockerfileAbs: string,
  replace: ReadonlyMap<string, Buffer>,
): Promise<SpecialFiles> {
  const out = new Map<string, { data: Buffer; mode?: number }>();
  for (const [p, data] of replace) out.set(checkedRelative(p), { data });
  const ignoreAbs = path.join(contextDir, '.dockerignore');
  const ignoreExists = await lstat(ignoreAbs).then(
    (s) => s.isFile(),
    () => false,
  );
  const rel = path.relative(contextDir, dockerfileAbs);
  const inside = rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
  const include = new Set(out.keys());
  if (ignoreExists) include.add('.dockerignore');
  if (inside) {
    const name = rel.split(path.sep).join('/');
    include.add(name);
    return { dockerfileName: name, alwaysInclude: include, replace: out };
  }
  // Outside the context: sent under a random name, which .dockerignore then lists so the
  // classic builder removes it again, as the CLI does.
  const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
  out.set(name, { data: await readFile(dockerfileAbs), mode: 0o600 });
  const ignore = out.get('.dockerignore')?.data ?? (ignoreExists ? await readFile(ignoreAbs) : Buffer.from('.dockerignore'));
  out.set('.dockerignore', { data: Buffer.concat([ignore, Buffer.from(`\n${name}\n`)]) });
  include.add(name).add('.dockerignore');
  return { dockerfileName: name, alwaysInclude: include, replace: out };
}

async function produce(pack: Pack, entries: Iterable<WalkEntry>, plan: SpecialFiles, signal?: AbortSignal): Promise<number> {
  let files = 0;
  const pending = new Map(plan.replace);
  for (const e of entries) {
    signal?.throwIfAborted();
    const replacement = pending.get(e.path);
    pending.delete(e.path);
    const r = replacement ? statOnly(e) : readEntry(e);
    if (!r) continue;
    if (e.kind !== 'dir') files++;
    await addEntry(pack, r, replacement);
  }
  for (const [name, r] of pending) {
    await write(pack, { ...header(name, undefined, r.mode ?? 0o644), size: r.data.length }, r.data);
    files++;
  }
  pack.finalize();
  return files;
}

function statOnly(e: WalkEntry): ReadEntry {
  try {
    return { entry: e, stats: lstatSync(e.abs) };
  } catch (err) {
    throw unreadable(e.path, err);
  }
}

async function addEntry(pack: Pack, r: ReadEntry, replacement?: { data: Buffer; mode?: number }): Promise<void> {
  const { entry: e, stats } = r;
  if (replacement) {
    if (e.kind === 'dir') throw new Error(`packContext: cannot replace the directory '${e.path}' with a file`);
    // A symlink or special file of that name is replaced by a regular file with these bytes.
    return write(
      pack,
      { ...header(e.path, stats, replacement.mode ?? (stats.isFile() ? undefined : 0o644)), size: replacement.data.length },
      replacement.data,
    );
  }
  if (e.kind === 'dir') return write(pack, { ...header(e.path, stats), type: 'directory' });
  if (e.kind === 'symlink') return write(pack, { ...header(e.path, stats), type: 'symlink', linkname: r.linkname ?? '' });
  if (r.fd === undefined) return write(pack, { ...header(e.path, stats), size: r.data?.length ?? 0 }, r.data);
  try {
    await write(pack, { ...header(e.path, stats), size: stats.size }, r.fd);
  } catch (err) {
    throw unreadable(e.path, err);
  }
}

function header(name: string, st?: Stats, mode?: number): Headers {
  return {
    name,
    mode: mode ?? (st ? st.mode & 0o7777 : 0o644),
    mtime: st?.mtime ?? new Date(),
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    type: 'file',
  };
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
