/**
 * The build session's DiffCopy handler, called as BuildKit calls it (a DiffCopy stream per local
 * directory with its metadata, REQ packets for the files it wants, then FIN), on a fake gRPC
 * call that records the frames it is given. What the walk selects is held against fsutil itself
 * in test/unit/context (its tables and the Go oracle) and against the docker CLI's images in
 * test/e2e/context; here: the protocol around it.
 */
import { lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSync } from '../../../src/buildkit/filesync.js';
import type { ServerCall } from '../../../src/buildkit/grpc-server.js';
import { ProtoWriter, readFields } from '../../../src/buildkit/protobuf.js';
import { ContextPrefetch } from '../../../src/context/prefetch.js';
import { makeTree, removeTree } from '../support/tree.js';

interface Stat {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  mtime: bigint;
  link: string;
}
interface Packet {
  type: number;
  id: number;
  data: Buffer;
  stat?: Stat;
}

/** Reads a varint as a bigint (mtimes in nanoseconds are past 2^53). */
function bigVarint(buf: Buffer, at: number): bigint {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const b = buf[at++]!;
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
}

/** Splits gRPC frames and decodes fsutil packets. */
function packets(frames: readonly Buffer[]): Packet[] {
  const all = Buffer.concat(frames);
  const out: Packet[] = [];
  for (let at = 0; at < all.length;) {
    const length = all.readUInt32BE(at + 1);
    const p: Packet = { type: 0, id: 0, data: Buffer.alloc(0) };
    for (const f of readFields(all.subarray(at + 5, at + 5 + length))) {
      if (f.field === 1 && f.wire === 0) p.type = f.value;
      else if (f.field === 3 && f.wire === 0) p.id = f.value;
      else if (f.field === 4 && f.wire === 2) p.data = f.value;
      else if (f.field === 2 && f.wire === 2) p.stat = decodeStat(f.value);
    }
    out.push(p);
    at += 5 + length;
  }
  return out;
}

function decodeStat(buf: Buffer): Stat {
  const s: Stat = { path: '', mode: 0, uid: 0, gid: 0, size: 0n, mtime: 0n, link: '' };
  let at = 0;
  for (const g of readFields(buf)) {
    if (g.field === 1 && g.wire === 2) s.path = g.value.toString();
    else if (g.field === 2 && g.wire === 0) s.mode = g.value;
    else if (g.field === 3 && g.wire === 0) s.uid = g.value;
    else if (g.field === 4 && g.wire === 0) s.gid = g.value;
    else if (g.field === 7 && g.wire === 2) s.link = g.value.toString();
  }
  // Sizes and mtimes exactly, from the raw bytes: find fields 5 and 6 by their keys.
  while (at < buf.length) {
    const key = buf[at++]!;
    if (key === 0x28 || key === 0x30) {
      const v = bigVarint(buf, at);
      if (key === 0x28) s.size = v;
      else s.mtime = v;
    }
    if ((key & 7) === 0) while (buf[at++]! >= 0x80);
    else if ((key & 7) === 2) {
      let len = 0;
      let shift = 0;
      for (;;) {
        const b = buf[at++]!;
        len |= (b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
      at += len;
    }
  }
  return s;
}

type Metadata = ReadonlyArray<readonly [string, string]>;

/** A DiffCopy call as BuildKit makes it: metadata as separate header values; `say` sends packets. */
function call(metadata: Metadata) {
  const frames: Buffer[] = [];
  let listener: ((m: Buffer) => void) | undefined;
  let settle!: (outcome: { ok: true } | { ok: false; error: unknown }) => void;
  const outcome = new Promise<{ ok: true } | { ok: false; error: unknown }>((r) => (settle = r));
  const c: ServerCall = {
    metadata: Object.fromEntries(metadata.map(([k, v]) => [k, v])),
    values: (key) => metadata.filter(([k]) => k === key).map(([, v]) => v),
    onMessage: (fn) => (listener = fn),
    send: async (...messages) => {
      for (const m of messages) {
        const f = Buffer.alloc(5 + m.length);
        f.writeUInt32BE(m.length, 1);
        m.copy(f, 5);
        frames.push(f);
      }
    },
    sendFramed: async (f) => {
      frames.push(Buffer.from(f));
    },
    end: () => settle({ ok: true }),
    fail: (error) => settle({ ok: false, error }),
  };
  return {
    c,
    frames,
    outcome,
    say: (type: number, id = 0) => listener?.(new ProtoWriter().varint(1, type).varint(3, id).finish()),
    /** Resolves once the listing's closing empty STAT has been sent. */
    listed: async () => {
      while (!packets(frames).some((p) => p.type === 0 && !p.stat)) await new Promise((r) => setTimeout(r, 2));
      return packets(frames)
        .filter((p) => p.stat)
        .map((p) => p.stat!);
    },
  };
}

const REQ = 1;
const DATA = 2;
const FIN = 3;
const ERR = 4;

let root: string | undefined;
afterEach(() => {
  if (root) removeTree(root);
  root = undefined;
});

describe('fileSync: the listing BuildKit asked for', () => {
  it("applies BuildKit's exclude patterns; parents first in byte order; Go's mode bits; exact sizes and nanosecond mtimes; owner reset", async () => {
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      'src/b.txt',
      ['src/a.txt', 'alpha'],
      'src/x.tmp',
      'x.tmp',
      'logs/1.log',
      'link -> src/a.txt',
      'empty/',
    ]);
    const bk = call([
      ['dir-name', 'context'],
      ['exclude-patterns', 'logs'],
      ['exclude-patterns', '*.tmp'],
    ]);
    fileSync({ context: root })(bk.c);
    const listed = await bk.listed();
    // `*.tmp` is anchored at the root, as Docker reads it: src/x.tmp stays.
    expect(listed.map((s) => s.path)).toEqual(['Dockerfile', 'empty', 'link', 'src', 'src/a.txt', 'src/b.txt', 'src/x.tmp']);
    const byPath = Object.fromEntries(listed.map((s) => [s.path, s]));
    const st = lstatSync(path.join(root, 'src/a.txt'), { bigint: true });
    expect(byPath['src/a.txt']).toEqual({
      path: 'src/a.txt',
      mode: Number(st.mode) & 0o777,
      uid: 0,
      gid: 0,
      size: 5n,
      mtime: st.mtimeNs,
      link: '',
    });
    // Go's os.ModeDir and os.ModeSymlink beside the permission bits; a symlink's size is its target's length.
    expect(byPath.src!.mode).toBe(2 ** 31 + (lstatSync(path.join(root, 'src')).mode & 0o777));
    expect(byPath.link).toMatchObject({ mode: 2 ** 27 + 0o777, link: 'src/a.txt', size: 9n });
  });

  it('sends everything under a directory named by a follow path (COPY sub /sub), and its parents', async () => {
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      'app/sub/a.txt',
      'app/sub/deep/b.txt',
      'app/sub/empty/',
      'app/other',
      'top',
    ]);
    const bk = call([
      ['dir-name', 'context'],
      ['followpaths', 'app/sub'],
    ]);
    fileSync({ context: root })(bk.c);
    expect((await bk.listed()).map((s) => s.path)).toEqual([
      'app',
      'app/sub',
      'app/sub/a.txt',
      'app/sub/deep',
      'app/sub/deep/b.txt',
      'app/sub/empty',
    ]);
  });

  it('takes each metadata value as sent (a comma is part of a name), and decodes values marked <key>-encoded', async () => {
    root = makeTree(['a,b.txt', 'naïve.txt', 'other.txt']);
    const plain = call([
      ['dir-name', 'context'],
      ['followpaths', 'a,b.txt'],
    ]);
    fileSync({ context: root })(plain.c);
    expect((await plain.listed()).map((s) => s.path)).toEqual(['a,b.txt']);
    // BuildKit query-escapes every value of a key that has a non-ASCII one (filesync.go encodeStringForHeader).
    const encoded = call([
      ['dir-name', 'context'],
      ['followpaths', encodeURIComponent('naïve.txt')],
      ['followpaths', 'other.txt'],
      ['followpaths-encoded', '1'],
    ]);
    fileSync({ context: root })(encoded.c);
    expect((await encoded.listed()).map((s) => s.path)).toEqual(['naïve.txt', 'other.txt']);
  });

  it('keeps the owner of entries outside the context (the docker CLI resets only the context)', async () => {
    root = makeTree([['app.Dockerfile', 'FROM scratch\n']]);
    const st = lstatSync(path.join(root, 'app.Dockerfile'));
    const bk = call([
      ['dir-name', 'dockerfile'],
      ['followpaths', 'app.Dockerfile'],
      ['followpaths', 'app.Dockerfile.dockerignore'],
    ]);
    fileSync({ dockerfile: root })(bk.c);
    expect(await bk.listed()).toMatchObject([{ path: 'app.Dockerfile', uid: st.uid, gid: st.gid }]);
  });
});

describe('fileSync: file data', () => {
  it('sends the bytes of each file BuildKit asks for by id, ends each with an empty DATA, and answers FIN with FIN', async () => {
    const big = Buffer.alloc(100_000, 'x');
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      ['a', 'alpha'],
      ['big', big],
      ['c', ''],
    ]);
    const bk = call([['dir-name', 'context']]);
    fileSync({ context: root })(bk.c);
    const ids = Object.fromEntries((await bk.listed()).map((s, i) => [s.path, i]));
    bk.say(REQ, ids.big);
    bk.say(REQ, ids.a);
    bk.say(REQ, ids.c);
    bk.say(FIN);
    expect(await bk.outcome).toEqual({ ok: true });
    const sent = packets(bk.frames).filter((p) => p.type === DATA);
    const bytesOf = (id: number) => Buffer.concat(sent.filter((p) => p.id === id).map((p) => p.data));
    expect(bytesOf(ids.big!).equals(big)).toBe(true);
    expect(bytesOf(ids.a!).toString()).toBe('alpha');
    expect(bytesOf(ids.c!).length).toBe(0);
    // Files in the order asked, each ended by one empty DATA; then FIN.
    expect(sent.filter((p) => p.data.length === 0).map((p) => p.id)).toEqual([ids.big, ids.a, ids.c]);
    expect(packets(bk.frames).at(-1)).toMatchObject({ type: FIN });
  });

  it('answers the REQs of one read in one write, which holds no more memory than it carries (a fresh runner asks for thousands)', async () => {
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `file ${i}`] as const),
    ]);
    const bk = call([['dir-name', 'context']]);
    fileSync({ context: root })(bk.c);
    const listed = await bk.listed();
    const writes: Buffer[] = [];
    const record = bk.c.sendFramed;
    bk.c.sendFramed = (f) => {
      writes.push(f);
      return record(f);
    };
    // BuildKit's receiver has many requests in flight: they arrive together, in one chunk.
    listed.forEach((s, i) => s.path.startsWith('f') && bk.say(REQ, i));
    bk.say(FIN);
    expect(await bk.outcome).toEqual({ ok: true });
    const ends = packets(bk.frames).filter((p) => p.type === DATA && p.data.length === 0);
    expect(ends).toHaveLength(300);
    // All 300 answers in one write (then FIN's), not one write per file...
    expect(writes).toHaveLength(1);
    // ...and that write is not a view on a fresh 128 KB batch buffer.
    expect(writes[0]!.buffer.byteLength).toBeLessThan(16 * 1024);
  });

  it('refuses a request for an id that is not a file of the listing, or is asked twice (fsutil: invalid file id)', async () => {
    root = makeTree(['d/f']);
    const bk = call([['dir-name', 'context']]);
    fileSync({ context: root })(bk.c);
    await bk.listed();
    bk.say(REQ, 0); // the directory d
    const outcome = await bk.outcome;
    expect(String((outcome as { error: unknown }).error)).toMatch(/invalid file id 0/);
  });

  it('fails, naming the file, when a file it listed cannot be read (never an empty file in the image)', async () => {
    root = makeTree([['gone', 'data']]);
    const errors: unknown[] = [];
    const bk = call([['dir-name', 'context']]);
    fileSync({ context: root }, { onError: (e) => errors.push(e) })(bk.c);
    await bk.listed();
    removeTree(path.join(root, 'gone'));
    bk.say(REQ, 0);
    const outcome = await bk.outcome;
    expect(outcome.ok).toBe(false);
    expect(String(errors[0])).toMatch(/cannot read 'gone' in the build context/);
  });
});

describe('fileSync: the context read ahead', () => {
  it('answers from what was read ahead, whatever BuildKit then asks for', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ['.dockerignore', 'tmp\n'], 'a', 'b/c', 'b/d', 'tmp/x']);
    const prefetch = new ContextPrefetch(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 100));
    // Written after the read ahead: not seen (the read ahead took the listing), as a walk earlier would not.
    writeFileSync(path.join(root, 'late'), 'after');
    const bk = call([
      ['dir-name', 'context'],
      ['exclude-patterns', 'tmp'],
      ['followpaths', 'b'],
    ]);
    fileSync({ context: root }, { prefetch })(bk.c);
    expect((await bk.listed()).map((s) => s.path)).toEqual(['b', 'b/c', 'b/d']);
    // A second request (another stage) reads the disk again.
    const again = call([
      ['dir-name', 'context'],
      ['exclude-patterns', 'tmp'],
    ]);
    fileSync({ context: root }, { prefetch })(again.c);
    expect((await again.listed()).map((s) => s.path)).toContain('late');
  });

  it('answers the predicted request (the whole context, the .dockerignore as excludes) with the walk ahead itself', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ['.dockerignore', 'tmp\n'], 'a', 'b/c', 'tmp/x']);
    const prefetch = new ContextPrefetch(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 100));
    removeTree(path.join(root, 'b'));
    const bk = call([
      ['dir-name', 'context'],
      ['exclude-patterns', 'tmp'],
    ]);
    fileSync({ context: root }, { prefetch })(bk.c);
    // Walked before b/ was removed: the listing is the one taken ahead, not a new walk.
    expect((await bk.listed()).map((s) => s.path)).toEqual(['.dockerignore', 'Dockerfile', 'a', 'b', 'b/c']);
  });

  it("still answers the predicted request with the walk ahead after BuildKit's load of the .dockerignore, which comes first", async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ['.dockerignore', 'tmp\n'], 'a', 'b/c', 'tmp/x']);
    const prefetch = new ContextPrefetch(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 100));
    removeTree(path.join(root, 'b'));
    // The requests as Debian's dockerd 20.10 makes them for `COPY . /ctx` (seen in the bench).
    const ignoreLoad = call([
      ['dir-name', 'context'],
      ['followpaths', '.dockerignore'],
    ]);
    fileSync({ context: root }, { prefetch })(ignoreLoad.c);
    expect((await ignoreLoad.listed()).map((s) => s.path)).toEqual(['.dockerignore']);
    const bk = call([
      ['dir-name', 'context'],
      ['exclude-patterns', 'tmp'],
    ]);
    fileSync({ context: root }, { prefetch })(bk.c);
    // Walked before b/ was removed: the listing is the one taken ahead, not a new walk.
    expect((await bk.listed()).map((s) => s.path)).toEqual(['.dockerignore', 'Dockerfile', 'a', 'b', 'b/c']);
  });

  it('sends the small files read ahead with their stat from memory, larger ones from the disk; a later request reads the disk', async () => {
    const big = Buffer.alloc(40_000, 'b');
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      ['small', 'before'],
      ['big', big],
    ]);
    const prefetch = new ContextPrefetch(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 100));
    // The same sizes, other bytes: what is sent tells where it was read.
    writeFileSync(path.join(root, 'small'), 'after!');
    writeFileSync(path.join(root, 'big'), Buffer.alloc(40_000, 'B'));
    const fetchAll = async (): Promise<Record<string, string>> => {
      const bk = call([['dir-name', 'context']]);
      fileSync({ context: root! }, { prefetch })(bk.c);
      const ids = Object.fromEntries((await bk.listed()).map((s, i) => [s.path, i]));
      bk.say(REQ, ids.small);
      bk.say(REQ, ids.big);
      bk.say(FIN);
      expect(await bk.outcome).toEqual({ ok: true });
      const data = packets(bk.frames).filter((p) => p.type === DATA);
      const bytesOf = (id: number): string => Buffer.concat(data.filter((p) => p.id === id).map((p) => p.data)).toString();
      return { small: bytesOf(ids.small!), big: bytesOf(ids.big!).slice(0, 3) };
    };
    expect(await fetchAll()).toEqual({ small: 'before', big: 'BBB' });
    expect(await fetchAll()).toEqual({ small: 'after!', big: 'BBB' });
  });

  it('reads what the read ahead skipped (different exclude patterns than predicted) from the disk', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ['.dockerignore', 'tmp\n'], 'a', 'tmp/x']);
    const prefetch = new ContextPrefetch(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 100));
    const bk = call([['dir-name', 'context']]);
    fileSync({ context: root }, { prefetch })(bk.c);
    expect((await bk.listed()).map((s) => s.path)).toEqual(['.dockerignore', 'Dockerfile', 'a', 'tmp', 'tmp/x']);
  });

  it("lets the event loop answer BuildKit's other calls while it lists a large context", async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ...Array.from({ length: 8000 }, (_, i) => `d${i % 40}/f${i}`)]);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const bk = call([['dir-name', 'context']]);
    const turnsAtFrame: number[] = [];
    const record = bk.c.sendFramed;
    bk.c.sendFramed = (f) => {
      turnsAtFrame.push(turn);
      return record(f);
    };
    fileSync({ context: root })(bk.c);
    const listed = await bk.listed();
    ticking = false;
    expect(listed).toHaveLength(1 + 40 + 8000);
    // Several ~64 KB batches, and event-loop turns between the first and the last.
    expect(turnsAtFrame.length).toBeGreaterThan(3);
    expect(turnsAtFrame.at(-1)!).toBeGreaterThan(turnsAtFrame[0]!);
  }, 60_000);
});

describe('fileSync: failures', () => {
  it('sends an ERR packet with the reason and fails the call when the walk fails (fsutil send.go)', async () => {
    root = makeTree(['a']);
    const bk = call([
      ['dir-name', 'context'],
      ['exclude-patterns', '!'],
    ]);
    fileSync({ context: root })(bk.c);
    const outcome = await bk.outcome;
    expect(outcome.ok).toBe(false);
    const err = packets(bk.frames).find((p) => p.type === ERR);
    expect(err?.data.toString()).toMatch(/invalid pattern "!"/);
  });

  it('refuses a directory the session does not serve, as filesync.go does', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n']]);
    const bk = call([['dir-name', 'secrets']]);
    fileSync({ context: root })(bk.c);
    const outcome = await bk.outcome;
    expect(String((outcome as { error: unknown }).error)).toMatch(/no access allowed to dir "secrets"/);
  });
});
