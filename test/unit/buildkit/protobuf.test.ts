import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtobufError, ProtoWriter, readFields, readVarint, varintSize, writeVarint } from '../../../src/buildkit/protobuf.js';

/** `n` as writeVarint encodes it, alone. */
function encodeVarint(n: number): Buffer {
  const out = Buffer.alloc(10);
  return out.subarray(0, writeVarint(out, 0, n));
}

describe('varints', () => {
  it.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [2 ** 31, '8080808008'],
    [1_795_385_801, 'c9d38dd806'],
    [-1, 'ffffffffffffffffff01'],
    [-2, 'feffffffffffffffff01'],
  ])('%d ⇄ %s', (n, hex) => {
    expect(encodeVarint(n).toString('hex')).toBe(hex);
    expect(readVarint(Buffer.from(hex, 'hex'), 0)).toEqual([n, hex.length / 2]);
  });

  it('round-trips every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(readVarint(encodeVarint(n), 0)[0]).toBe(n);
      }),
    );
  });

  it.each([
    ['truncated', '80', /truncated varint at byte 0/],
    ['eleven bytes', 'ffffffffffffffffffff01', /varint too long/],
  ])('rejects a %s varint', (_name, hex, message) => {
    expect(() => readVarint(Buffer.from(hex, 'hex'), 0)).toThrow(message);
  });
});

describe('readFields', () => {
  it('reads every wire type and keeps field order', () => {
    const msg = Buffer.concat([
      new ProtoWriter().string(1, 'héllo').varint(4, true).finish(),
      Buffer.from('1d01020304', 'hex'), // field 3, fixed32
      Buffer.from('110102030405060708', 'hex'), // field 2, fixed64
      new ProtoWriter().varint(15, 150).message(16, new ProtoWriter().string(1, 'inner')).finish(),
    ]);
    const fields = [...readFields(msg)].map((f) => [
      f.field,
      f.wire,
      Buffer.isBuffer(f.value) ? f.value.toString('hex') : f.value,
    ]);
    expect(fields).toEqual([
      [1, 2, Buffer.from('héllo').toString('hex')],
      [4, 0, 1],
      [3, 5, '01020304'],
      [2, 1, '0102030405060708'],
      [15, 0, 150],
      [16, 2, new ProtoWriter().string(1, 'inner').finish().toString('hex')],
    ]);
  });

  it.each([
    ['a length past the end', '0a05616263', /field 1 runs past the end/],
    ['a group (wire type 3)', '0b', /unsupported wire type 3 for field 1/],
    ['field number 0', '0001', /field number 0/],
    ['a cut fixed64', '110102', /field 2 runs past the end/],
  ])('rejects %s', (_name, hex, message) => {
    expect(() => [...readFields(Buffer.from(hex, 'hex'))]).toThrow(ProtobufError);
    expect(() => [...readFields(Buffer.from(hex, 'hex'))]).toThrow(message);
  });

  it('reads a view into a larger buffer without looking outside it', () => {
    const whole = Buffer.concat([Buffer.from('ffff', 'hex'), new ProtoWriter().varint(2, 7).finish(), Buffer.from('ff', 'hex')]);
    const view = whole.subarray(2, 4);
    expect([...readFields(view)]).toEqual([{ field: 2, wire: 0, value: 7 }]);
  });
});

describe('varintSize', () => {
  it.each([0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 31, 2 ** 35, Number.MAX_SAFE_INTEGER])(
    '%d takes as many bytes as encodeVarint writes',
    (n) => {
      expect(varintSize(n)).toBe(encodeVarint(n).length);
    },
  );
});
