/**
 * Test helper: run src/context/filter.ts on a directory the way the fsutil vectors and the oracle
 * tests need it (the whole walk, or the error that ended it). Also imported by the snippet that
 * runs a vector as another user, so it must stay importable on its own.
 */
import { realpathSync } from 'node:fs';
import { diskReader, filteredWalk, followLinks, type ContextEntry, type FilterOptions } from '../../../src/context/filter.js';
import { PatternError } from '../../../src/context/patterns.js';
import { encodeStatPacket } from '../../../src/buildkit/fsutil-wire.js';
import type { BufWalkEntry, VectorOutcome } from './fsutil-tree.js';

export function bufEntry(e: ContextEntry): BufWalkEntry {
  return { path: e.path, isDir: e.kind === 'dir', isSymlink: e.kind === 'symlink', linkname: e.linkname };
}

/** Every entry filteredWalk yields for `root`, and the error that stopped it, if any. */
export function walkAll(root: string, options: FilterOptions): { entries: ContextEntry[]; error?: unknown } {
  const entries: ContextEntry[] = [];
  try {
    for (const e of filteredWalk(diskReader(realpathSync(root)), options)) entries.push(e);
    return { entries };
  } catch (error) {
    return { entries, error };
  }
}

/** walkAll as a vector outcome (plain data, so it can cross a process boundary as JSON). */
export function walkOutcome(root: string, options: FilterOptions): VectorOutcome {
  const { entries, error } = walkAll(root, options);
  return {
    entries: entries.map(bufEntry),
    ...(error !== undefined ? { error: errorOutcome(error) } : {}),
  };
}

function errorOutcome(error: unknown): NonNullable<VectorOutcome['error']> {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
    pattern: error instanceof PatternError,
  };
}

/** followLinks(root, paths), or the error it threw. */
export function followLinksOutcome(root: string, paths: readonly string[]): { paths: string[] | undefined } | { error: string } {
  try {
    return { paths: followLinks(diskReader(realpathSync(root)), paths) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** One fsutil types.Stat, field for field (xattrs aside: Node cannot read them). */
export interface FsStat {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly modTime: bigint;
  readonly linkname: string;
  readonly devmajor: bigint;
  readonly devminor: bigint;
}

/**
 * Decodes a Packet{type: STAT, stat} as fsutil's types/wire.proto lays it out, with a reader of
 * its own (not src/buildkit/protobuf.ts), so the test checks the bytes and not our reading of them.
 */
export function decodeStatPacket(bytes: Uint8Array): FsStat {
  const packet = fields(bytes);
  if ((packet.get(1)?.[0] ?? 0n) !== 0n) throw new Error(`packet type ${String(packet.get(1)?.[0])}, not STAT`);
  const raw = packet.get(2)?.[0];
  if (!(raw instanceof Uint8Array)) throw new Error('packet without a stat');
  const st = fields(raw);
  const num = (n: number): bigint => BigInt.asIntN(64, (st.get(n)?.[0] as bigint | undefined) ?? 0n);
  const text = (n: number): string => Buffer.from((st.get(n)?.[0] as Uint8Array | undefined) ?? []).toString('utf8');
  return {
    path: text(1),
    mode: Number(num(2)),
    uid: Number(num(3)),
    gid: Number(num(4)),
    size: num(5),
    modTime: num(6),
    linkname: text(7),
    devmajor: num(8),
    devminor: num(9),
  };
}

function fields(buf: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++];
      if (b === undefined) throw new Error('truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const [n, wire] = [Number(key >> 3n), Number(key & 7n)];
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(at, at + len);
      at += len;
    } else throw new Error(`wire type ${wire} in a Stat`);
    out.set(n, [...(out.get(n) ?? []), value]);
  }
  return out;
}

/** What filteredWalk sends for `root`: each entry through the stat encoder, decoded. */
export function sentStats(root: string, options: FilterOptions): { stats: FsStat[]; error?: unknown } {
  const { entries, error } = walkAll(root, options);
  return { stats: entries.map((e) => decodeStatPacket(encodeStatPacket(e, false))), error };
}
