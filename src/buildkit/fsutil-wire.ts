/**
 * Follows: tonistiigi/fsutil types/wire.proto, types/stat.proto, stat.go, stat_unix.go.
 *
 * tonistiigi/fsutil's wire messages (types/wire.proto `Packet`, types/stat.proto `Stat`) and its
 * stat rules (stat.go `mkstat`, stat_unix.go `setUnixOpt`, Go's os.FileMode), encoded by hand
 * into a caller's buffer: a listing is one message per context entry, so no object or Buffer
 * per message. Fields go out in field order with zero values left out, as Go's encoder writes
 * them (test/fixtures/fsutil-wire holds golden bytes from fsutil's own types).
 */
import type { BigIntStats } from 'node:fs';
import type { ContextEntry } from '../context/filter.js';
import { varintSize, varintSizeBig, writeVarint, writeVarintBig } from './protobuf.js';

/** Packet.type (wire.proto PacketType). */
export const PacketType = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const;

// Go's os.FileMode bits (io/fs/fs.go).
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_NAMED_PIPE = 2 ** 25;
const MODE_SETUID = 2 ** 23;
const MODE_SETGID = 2 ** 22;
const MODE_CHAR_DEVICE = 2 ** 21;
const MODE_STICKY = 2 ** 20;

// Unix st_mode bits.
const S_IFMT = 0o170000;
const S_IFBLK = 0o060000;
const S_IFCHR = 0o020000;
const S_IFDIR = 0o040000;
const S_IFIFO = 0o010000;
const S_IFLNK = 0o120000;

/**
 * Go's os.FileMode of an lstat, as fsutil puts it in Stat.mode: permission bits, type bits and
 * setuid/setgid/sticky in Go's positions. The socket bit is cleared (mkstat: tar cannot hold
 * it), so a socket goes out as an empty regular file.
 */
export function goFileMode(stats: BigIntStats): number {
  const mode = Number(stats.mode);
  let m = mode & 0o777;
  const type = mode & S_IFMT;
  if (type === S_IFBLK) m += MODE_DEVICE;
  else if (type === S_IFCHR) m += MODE_DEVICE + MODE_CHAR_DEVICE;
  else if (type === S_IFDIR) m += MODE_DIR;
  else if (type === S_IFIFO) m += MODE_NAMED_PIPE;
  else if (type === S_IFLNK) m += MODE_SYMLINK;
  if (mode & 0o4000) m += MODE_SETUID;
  if (mode & 0o2000) m += MODE_SETGID;
  if (mode & 0o1000) m += MODE_STICKY;
  return m;
}

// os.ModeType: every type bit (ModeSocket 1<<24 and ModeIrregular 1<<19 included).
const MODE_TYPE = MODE_DIR + MODE_SYMLINK + MODE_NAMED_PIPE + 2 ** 24 + MODE_DEVICE + MODE_CHAR_DEVICE + 2 ** 19;

/** Whether the receiver may ask for the entry's bytes (send.go fileCanRequestData: no type bits). */
export function canRequestData(mode: number): boolean {
  // `&` works on 32-bit integers; ModeDir (1<<31) comes out negative, still non-zero.
  return (mode & MODE_TYPE) === 0;
}

/** The Stat fields of one entry, as fsutil's mkstat fills them. */
export interface StatFields {
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
 * An entry's Stat. `resetOwner`: uid and gid 0, as the docker CLI maps the context directory
 * (`resetUIDAndGID`); other directories keep the owner. Xattrs are not read: Node has no API for them.
 */
export function statFields(entry: ContextEntry, resetOwner: boolean): StatFields {
  const s = entry.stats;
  const mode = Number(s.mode);
  // setUnixOpt tests the type bits with '&', so symlinks and sockets take rdev (0) too.
  const device = entry.kind !== 'dir' && ((mode & S_IFBLK) !== 0 || (mode & S_IFCHR) !== 0);
  return {
    path: entry.path,
    mode: goFileMode(s),
    uid: resetOwner ? 0 : Number(s.uid),
    gid: resetOwner ? 0 : Number(s.gid),
    size: entry.kind === 'dir' ? 0n : s.size,
    modTime: s.mtimeNs,
    linkname: entry.linkname,
    devmajor: device ? (s.rdev >> 8n) & 0xfffn : 0n,
    devminor: device ? (s.rdev & 0xffn) | ((s.rdev >> 12n) & 0xfff00n) : 0n,
  };
}

/** Bytes of the Stat message (without its field key and length). */
function statSize(f: StatFields): number {
  const pathBytes = Buffer.byteLength(f.path);
  const linkBytes = Buffer.byteLength(f.linkname);
  return (
    (pathBytes > 0 ? 1 + varintSize(pathBytes) + pathBytes : 0) +
    (f.mode !== 0 ? 1 + varintSize(f.mode) : 0) +
    (f.uid !== 0 ? 1 + varintSize(f.uid) : 0) +
    (f.gid !== 0 ? 1 + varintSize(f.gid) : 0) +
    (f.size !== 0n ? 1 + varintSizeBig(f.size) : 0) +
    (f.modTime !== 0n ? 1 + varintSizeBig(f.modTime) : 0) +
    (linkBytes > 0 ? 1 + varintSize(linkBytes) + linkBytes : 0) +
    (f.devmajor !== 0n ? 1 + varintSizeBig(f.devmajor) : 0) +
    (f.devminor !== 0n ? 1 + varintSizeBig(f.devminor) : 0)
  );
}

/** Bytes of Packet{type: STAT, stat: f}. */
export function statPacketSize(f: StatFields): number {
  const inner = statSize(f);
  return 1 + varintSize(inner) + inner;
}

/** Writes Packet{type: STAT (0, so not written), stat} at `at`; returns the position after it. */
export function writeStatPacket(b: Buffer, at: number, f: StatFields): number {
  b[at++] = 0x12; // Packet field 2 (stat), bytes
  at = writeVarint(b, at, statSize(f));
  if (f.path !== '') {
    b[at++] = 0x0a; // Stat field 1 (path), bytes
    at = writeVarint(b, at, Buffer.byteLength(f.path));
    at += b.write(f.path, at);
  }
  if (f.mode !== 0) {
    b[at++] = 0x10; // field 2 (mode), varint
    at = writeVarint(b, at, f.mode);
  }
  if (f.uid !== 0) {
    b[at++] = 0x18; // field 3 (uid)
    at = writeVarint(b, at, f.uid);
  }
  if (f.gid !== 0) {
    b[at++] = 0x20; // field 4 (gid)
    at = writeVarint(b, at, f.gid);
  }
  if (f.size !== 0n) {
    b[at++] = 0x28; // field 5 (size)
    at = writeVarintBig(b, at, f.size);
  }
  if (f.modTime !== 0n) {
    b[at++] = 0x30; // field 6 (modTime)
    at = writeVarintBig(b, at, f.modTime);
  }
  if (f.linkname !== '') {
    b[at++] = 0x3a; // field 7 (linkname), bytes
    at = writeVarint(b, at, Buffer.byteLength(f.linkname));
    at += b.write(f.linkname, at);
  }
  if (f.devmajor !== 0n) {
    b[at++] = 0x40; // field 8 (devmajor)
    at = writeVarintBig(b, at, f.devmajor);
  }
  if (f.devminor !== 0n) {
    b[at++] = 0x48; // field 9 (devminor)
    at = writeVarintBig(b, at, f.devminor);
  }
  return at;
}

/** Bytes of Packet{type: DATA, ID: id, data} carrying `n` bytes of data. */
export function dataPacketSize(id: number, n: number): number {
  return 2 + (id !== 0 ? 1 + varintSize(id) : 0) + (n > 0 ? 1 + varintSize(n) + n : 0);
}

/** Writes Packet{type: DATA, ID: id, data} at `at`; no data (an empty packet) ends the file. */
export function writeDataPacket(b: Buffer, at: number, id: number, data: Buffer | undefined): number {
  b[at++] = 0x08; // field 1 (type), varint
  b[at++] = PacketType.DATA;
  if (id !== 0) {
    b[at++] = 0x18; // field 3 (ID), varint
    at = writeVarint(b, at, id);
  }
  if (data && data.length > 0) {
    b[at++] = 0x22; // field 4 (data), bytes
    at = writeVarint(b, at, data.length);
    at += data.copy(b, at);
  }
  return at;
}

/** Packet{type} with no other field (the empty STAT that ends a listing is zero bytes). */
export function typeOnlyPacket(type: number): Buffer {
  return type === 0 ? Buffer.alloc(0) : Buffer.from([0x08, type]);
}

/** Packet{type: ERR, data: message}: how fsutil's sender reports a failed walk. */
export function errorPacket(message: string): Buffer {
  const text = Buffer.from(message);
  const out = Buffer.allocUnsafe(2 + 1 + varintSize(text.length) + text.length);
  out[0] = 0x08;
  out[1] = PacketType.ERR;
  out[2] = 0x22;
  const at = writeVarint(out, 3, text.length);
  text.copy(out, at);
  return out;
}

/** One whole STAT packet (tests, and callers without a batch). */
export function encodeStatPacket(entry: ContextEntry, resetOwner: boolean): Buffer {
  const f = statFields(entry, resetOwner);
  const out = Buffer.allocUnsafe(statPacketSize(f));
  writeStatPacket(out, 0, f);
  return out;
}
