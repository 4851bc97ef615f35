/**
 * The build session's DiffCopy handler, called as BuildKit calls it (a DiffCopy stream per local
 * directory, REQ packets for the files it wants, then FIN), on a fake gRPC call that records
 * the frames it is given. The real engine reads the same handler in test/e2e/buildkit and test/e2e/context.
 */
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSync, prepareContextListing, type FileSync } from '../../../src/buildkit/filesync.js';
import type { ServerCall } from '../../../src/buildkit/grpc-server.js';
import { ProtoWriter, readFields } from '../../../src/buildkit/protobuf.js';
import { makeTree, removeTree } from '../support/tree.js';

interface Packet {
  type: number;
  id: number;
  data: Buffer;
  stat?: { path: string; mode: number; size: number; mtime: number; link: string };
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
      else if (f.field === 2 && f.wire === 2) {
        const s = { path: '', mode: 0, size: 0, mtime: 0, link: '' };
        for (const g of readFields(f.value)) {
          if (g.field === 1 && g.wire === 2) s.path = g.value.toString();
          else if (g.field === 2 && g.wire === 0) s.mode = g.value;
          else if (g.field === 5 && g.wire === 0) s.size = g.value;
          else if (g.field === 6 && g.wire === 0) s.mtime = g.value;
          else if (g.field === 7 && g.wire === 2) s.link = g.value.toString();
        }
        p.stat = s;
      }
    }
    out.push(p);
    at += 5 + length;
  }
  return out;
}

/** A DiffCopy call as BuildKit makes it; `said` lets the test send packets. */
function call(metadata: Record<string, string>) {
  const frames: Buffer[] = [];
  let listener: ((m: Buffer) => void) | undefined;
  let settle!: (outcome: { ok: true } | { ok: false; error: unknown }) => void;
  const outcome = new Promise<{ ok: true } | { ok: false; error: unknown }>((r) => (settle = r));
  const c: ServerCall = {
    metadata,
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
const FIN = 3;

let root: string | undefined;
let sync: FileSync | undefined;
afterEach(() => {
  sync?.close();
  if (root) removeTree(root);
  root = sync = undefined;
});

describe('fileSync: the context listing', () => {
  it('lists what BuildKit should see, parents first in byte order, ignored files left out, and lists it again when asked again', async () => {
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      ['.dockerignore', 'logs\n*.tmp\n'],
      'src/b.txt',
      'src/a.txt',
      'src/x.tmp',
      'x.tmp',
      'logs/1.log',
      'bin/run',
      'link -> src/a.txt',
      'empty/',
      ['Z', ''],
    ]);
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    const first = call({ 'dir-name': 'context' });
    sync.handle(first.c);
    const listed = await first.listed();
    // `*.tmp` is anchored at the root, as Docker reads it: src/x.tmp stays.
    expect(listed.map((s) => s.path)).toEqual([
      '.dockerignore',
      'Dockerfile',
      'Z',
      'bin',
      'bin/run',
      'empty',
      'link',
      'src',
      'src/a.txt',
      'src/b.txt',
      'src/x.tmp',
    ]);
    const byPath = Object.fromEntries(listed.map((s) => [s.path, s]));
    const st = lstatSync(path.join(root, 'src/a.txt'));
    expect(byPath['src/a.txt']).toEqual({
      path: 'src/a.txt',
      mode: st.mode & 0o7777,
      size: st.size,
      mtime: Math.floor(st.mtimeMs) * 1_000_000,
      link: '',
    });
    // Go's os.ModeDir and os.ModeSymlink, beside the permission bits.
    expect(byPath.src!.mode).toBe(2 ** 31 + (lstatSync(path.join(root, 'src')).mode & 0o7777));
    expect(byPath.link).toMatchObject({ mode: 2 ** 27 + (lstatSync(path.join(root, 'link')).mode & 0o7777), link: 'src/a.txt' });
    expect(byPath.Z!.size).toBe(0);
    // A second request for the context (another stage, a retry) walks again.
    const second = call({ 'dir-name': 'context' });
    sync.handle(second.c);
    expect(await second.listed()).toEqual(listed);
  });

  it('sends the bytes of each file BuildKit asks for by id, ends each with an empty DATA, and answers FIN with FIN', async () => {
    const big = Buffer.alloc(100_000, 'x');
    root = makeTree([
      ['Dockerfile', 'FROM scratch\n'],
      ['a', 'alpha'],
      ['big', big],
      ['c', ''],
    ]);
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    const bk = call({ 'dir-name': 'context' });
    sync.handle(bk.c);
    const ids = Object.fromEntries((await bk.listed()).map((s, i) => [s.path, i]));
    bk.say(REQ, ids.big);
    bk.say(REQ, ids.a);
    bk.say(REQ, ids.c);
    bk.say(FIN);
    expect(await bk.outcome).toEqual({ ok: true });
    const sent = packets(bk.frames).filter((p) => p.type === 2);
    const bytesOf = (id: number) => Buffer.concat(sent.filter((p) => p.id === id).map((p) => p.data));
    expect(bytesOf(ids.big!).equals(big)).toBe(true);
    expect(bytesOf(ids.a!).toString()).toBe('alpha');
    expect(bytesOf(ids.c!).length).toBe(0);
    // Files in the order asked, each ended by one empty DATA; then FIN.
    expect(sent.filter((p) => p.data.length === 0).map((p) => p.id)).toEqual([ids.big, ids.a, ids.c]);
    expect(packets(bk.frames).at(-1)).toMatchObject({ type: FIN });
  });

  it('answers a request for named files (the Dockerfile) with just those and their parents', async () => {
    root = makeTree([['docker/app.Dockerfile', 'FROM scratch\n'], 'docker/other', 'src/a']);
    sync = fileSync({ context: root, dockerfile: path.join(root, 'docker') }, path.join(root, 'docker/app.Dockerfile'));
    const bk = call({ 'dir-name': 'dockerfile', followpaths: 'app.Dockerfile' });
    sync.handle(bk.c);
    expect((await bk.listed()).map((s) => s.path)).toEqual(['app.Dockerfile']);
    const ctx = call({ 'dir-name': 'context', 'include-patterns': 'docker/app.Dockerfile' });
    sync.handle(ctx.c);
    expect((await ctx.listed()).map((s) => s.path)).toEqual(['docker', 'docker/app.Dockerfile']);
  });

  it('takes the listing when the session opens, before BuildKit asks for it', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ...Array.from({ length: 200 }, (_, i) => `d${i % 10}/f${i}`)]);
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    // BuildKit asks for the context after reading the Dockerfile. Half a second is many times
    // what 200 files take to walk; what changes after that is not in the listing.
    await new Promise((r) => setTimeout(r, 500));
    rmSync(path.join(root, 'd0/f0'));
    writeFileSync(path.join(root, 'late'), 'too late');
    const bk = call({ 'dir-name': 'context' });
    sync.handle(bk.c);
    const listed = (await bk.listed()).map((s) => s.path);
    expect(listed).toContain('d0/f0');
    expect(listed).not.toContain('late');
    // Asked again, the context is walked again.
    const again = call({ 'dir-name': 'context' });
    sync.handle(again.c);
    const relisted = (await again.listed()).map((s) => s.path);
    expect(relisted).not.toContain('d0/f0');
    expect(relisted).toContain('late');
  });

  it('answers the context from a listing prepared before the session, and stops one nobody asked for', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], 'a', 'b/c']);
    const early = prepareContextListing(root, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(path.join(root, 'late'), 'after the listing');
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'), early);
    const bk = call({ 'dir-name': 'context' });
    sync.handle(bk.c);
    expect((await bk.listed()).map((s) => s.path)).toEqual(['Dockerfile', 'a', 'b', 'b/c']);
    // A listing stopped before it was read fails the request that reads it: never a cut-short listing.
    const big = makeTree([['Dockerfile', 'FROM scratch\n'], ...Array.from({ length: 3000 }, (_, i) => `d${i % 20}/f${i}`)]);
    try {
      const stopped = prepareContextListing(big, path.join(big, 'Dockerfile'));
      stopped.close();
      const late = fileSync({ context: big }, path.join(big, 'Dockerfile'), stopped);
      const asked = call({ 'dir-name': 'context' });
      late.handle(asked.c);
      const outcome = await asked.outcome;
      expect(outcome.ok).toBe(false);
      expect(String((outcome as { error: unknown }).error)).toMatch(/listing was stopped/);
    } finally {
      removeTree(big);
    }
  });

  it("lets the event loop answer BuildKit's other calls while it walks a large context", async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ...Array.from({ length: 8000 }, (_, i) => `d${i % 40}/f${i}`)]);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    setImmediate(tick);
    const bk = call({ 'dir-name': 'context' });
    const turnsAtFrame: number[] = [];
    const record = bk.c.sendFramed;
    bk.c.sendFramed = (f) => {
      turnsAtFrame.push(turn);
      return record(f);
    };
    sync.handle(bk.c);
    const listed = await bk.listed();
    ticking = false;
    expect(listed).toHaveLength(1 + 40 + 8000);
    // Several ~64 KB batches, and event-loop turns between the first and the last.
    expect(turnsAtFrame.length).toBeGreaterThan(3);
    expect(turnsAtFrame.at(-1)!).toBeGreaterThan(turnsAtFrame[0]!);
  });

  it('fails the DiffCopy call with the reason when the walk fails, and a listing nobody asked for fails nothing', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], ['.dockerignore', '!\n'], 'a']);
    const unasked = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    await new Promise((r) => setTimeout(r, 50));
    unasked.close();
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    const bk = call({ 'dir-name': 'context' });
    sync.handle(bk.c);
    const outcome = await bk.outcome;
    expect(outcome.ok).toBe(false);
    expect(String((outcome as { error: unknown }).error)).toMatch(/\.dockerignore/);
  });

  it('refuses a directory the session does not serve', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n']]);
    sync = fileSync({ context: root }, path.join(root, 'Dockerfile'));
    const bk = call({ 'dir-name': 'secrets' });
    sync.handle(bk.c);
    const outcome = await bk.outcome;
    expect(String((outcome as { error: unknown }).error)).toMatch(/no local directory named 'secrets'/);
  });
});
