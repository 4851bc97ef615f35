/**
 * Follows: protocolbuffers/protobuf docs "Encoding" (varints, wire types, zigzag-free int64).
 *
 * A minimal protobuf wire-format reader and writer. BuildKit speaks protobuf in two places we
 * touch (the `moby.buildkit.trace` progress messages and the session's Auth service); both use
 * a handful of scalar and nested fields, so a hand-written codec keeps `.proto` files and
 * protobufjs out of the bundle.
 */

/** Wire types of the protobuf encoding; groups (3, 4) are obsolete and rejected. */
export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field as it appears on the wire. Varints are numbers (exact up to 2^53). */
export type WireField =
  | { readonly field: number; readonly wire: 0; readonly value: number }
  | { readonly field: number; readonly wire: 1 | 2 | 5; readonly value: Buffer };

/** Thrown when bytes are not a well-formed protobuf message. */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

/** Reads a base-128 varint at `pos`; returns the value and the position after it. */
export function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = buf[pos + i];
    if (byte === undefined) throw new ProtobufError(`truncated varint at byte ${pos}`);
    if (i === 9 && byte > 1) throw new ProtobufError(`varint too long at byte ${pos}`);
    result += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) {
      // A negative int64 is sent as its 64-bit two's complement, ten bytes long; floats
      // cannot hold that exactly, so take it apart again with BigInt.
      return [i === 9 ? signedFromTenBytes(buf, pos) : result, pos + i + 1];
    }
  }
  throw new ProtobufError(`varint too long at byte ${pos}`);
}

function signedFromTenBytes(buf: Uint8Array, pos: number): number {
  let v = 0n;
  for (let i = 9; i >= 0; i--) v = (v << 7n) | BigInt((buf[pos + i] ?? 0) & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

/** Iterates over the fields of one message, in wire order. Unknown fields are the caller's to skip. */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${pos}`);
    pos = afterKey;
    if (wire === WireType.varint) {
      const [value, next] = readVarint(bytes, pos);
      pos = next;
      yield { field, wire, value };
      continue;
    }
    let length: number;
    if (wire === WireType.bytes) [length, pos] = readVarint(bytes, pos);
    else if (wire === WireType.fixed64) length = 8;
    else if (wire === WireType.fixed32) length = 4;
    else throw new ProtobufError(`unsupported wire type ${wire} for field ${field} at byte ${afterKey}`);
    if (length < 0 || pos + length > bytes.length) {
      throw new ProtobufError(`field ${field} runs past the end of the message (${length} bytes at ${pos})`);
    }
    yield { field, wire, value: bytes.subarray(pos, pos + length) };
    pos += length;
  }
}

/** The UTF-8 text of a length-delimited field, or '' for a field of another wire type. */
export function fieldText(f: WireField): string {
  return f.wire === WireType.bytes ? f.value.toString('utf8') : '';
}

/** The bytes of a length-delimited field, or an empty buffer for a field of another wire type. */
export function fieldBytes(f: WireField): Buffer {
  return f.wire === WireType.bytes ? f.value : Buffer.alloc(0);
}

/** The number of a varint field (int32/int64/bool/enum), or 0 for a field of another wire type. */
export function fieldNumber(f: WireField): number {
  return f.wire === WireType.varint ? f.value : 0;
}

/**
 * Builds one message. Fields are written in call order; nested messages via `message()`.
 * Bytes go straight into one growing buffer: the session's file listing encodes a message per
 * context entry, and a Buffer per varint was most of its cost.
 */
export class ProtoWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  /** A varint field (int32, int64, uint64, bool, enum). Negative numbers use ten bytes, as protobuf does. */
  varint(field: number, value: number | boolean): this {
    const n = typeof value === 'boolean' ? Number(value) : value;
    if (!Number.isInteger(n)) throw new ProtobufError(`varint must be an integer, got ${n}`);
    this.raw(field * 8 + WireType.varint);
    this.raw(n);
    return this;
  }

  /** A length-delimited UTF-8 string field. */
  string(field: number, value: string): this {
    const n = Buffer.byteLength(value, 'utf8');
    this.raw(field * 8 + WireType.bytes);
    this.raw(n);
    this.reserve(n);
    this.len += this.buf.write(value, this.len, 'utf8');
    return this;
  }

  /** A length-delimited bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.raw(field * 8 + WireType.bytes);
    this.raw(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  /** A nested message field. */
  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  /** The encoded message. */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  private raw(value: number): void {
    this.reserve(10);
    this.len = writeVarint(this.buf, this.len, value);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }
}

/** Bytes a non-negative varint takes. */
export function varintSize(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/**
 * Writes `value` as a varint at `at` (10 bytes must be free; negative values take ten, as 64-bit
 * two's complement); returns the position after it.
 */
export function writeVarint(out: Buffer, at: number, value: number): number {
  if (value < 0) {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      out[at++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    out[at++] = Number(v);
    return at;
  }
  // Exact for every integer a double holds: % and / by 128 never round there.
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

/** Bytes a 64-bit varint takes (negative values as their two's complement: ten). */
export function varintSizeBig(value: bigint): number {
  if (value >= 0n && value < 0x20000000000000n) return varintSize(Number(value));
  const [hi] = halves(value);
  // Each byte holds 7 bits: 32 of `lo` and the rest of `hi`.
  let n = 5;
  for (let h = hi >>> 3; h > 0; h >>>= 7) n++;
  return n;
}

/** Writes a 64-bit varint (int64 fields: mtimes in nanoseconds are past 2^53); returns the position after it. */
export function writeVarintBig(out: Buffer, at: number, value: bigint): number {
  if (value >= 0n && value < 0x20000000000000n) return writeVarint(out, at, Number(value));
  let [hi, lo] = halves(value);
  // Seven bits at a time from the 64-bit value held as two unsigned 32-bit halves.
  while (hi !== 0 || lo >= 0x80) {
    out[at++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[at++] = lo;
  return at;
}

/** The unsigned 32-bit halves of a 64-bit two's complement value. */
function halves(value: bigint): [hi: number, lo: number] {
  const u = BigInt.asUintN(64, value);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}
