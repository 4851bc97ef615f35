import { describe, expect, test } from 'vitest';
import { byteOffsetOf, decodeManifest, lineText, positionOf, spliceBytes } from '../../../src/manifest/source.js';

describe('decodeManifest and offsets', () => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# é☕🐳\r\nimage: x\r\n', 'utf8')]);
  const src = decodeManifest('convox.yml', bytes);

  test('the BOM is set aside and the text starts after it', () => {
    expect(src.bomLength).toBe(3);
    expect(src.text.startsWith('# é')).toBe(true);
  });

  test('byte offsets count the BOM and multibyte characters', () => {
    const at = src.text.indexOf('image');
    // '# ' (2) + é (2) + ☕ (3) + 🐳 (4) + CRLF (2) after a 3-byte BOM
    expect(byteOffsetOf(src, at)).toBe(3 + 2 + 2 + 3 + 4 + 2);
    expect(bytes.subarray(byteOffsetOf(src, at), byteOffsetOf(src, at) + 5).toString()).toBe('image');
  });

  test('positions are 1-based lines and columns in characters a person sees', () => {
    expect(positionOf(src, src.text.indexOf('image'))).toEqual({ line: 2, column: 1 });
    expect(positionOf(src, src.text.indexOf('🐳'))).toEqual({ line: 1, column: 5 });
    expect(positionOf(src, src.text.indexOf('x'))).toEqual({ line: 2, column: 8 });
    expect(lineText(src, 1)).toBe('# é☕🐳');
  });

  test('a splice replaces exactly the span and copies every other byte', () => {
    const at = src.text.indexOf('x');
    const out = spliceBytes(src, [{ start: at, end: at + 1, text: 'ü:2' }]);
    expect(out.toString('hex')).toBe(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# é☕🐳\r\nimage: ü:2\r\n')]).toString('hex'),
    );
  });

  test('edits are applied in order of position whatever order they come in', () => {
    const plain = decodeManifest('f', Buffer.from('a b c'));
    expect(
      spliceBytes(plain, [
        { start: 4, end: 5, text: 'C' },
        { start: 0, end: 1, text: 'AA' },
      ]).toString(),
    ).toBe('AA b C');
  });

  test('invalid UTF-8 names the first bad byte', () => {
    expect(() => decodeManifest('convox.yml', Buffer.from([0x61, 0x62, 0xc3, 0x28]))).toThrow(
      'convox.yml is not valid UTF-8 text (first bad byte at offset 2)',
    );
    expect(() => decodeManifest('convox.yml', Buffer.from([0x61, 0xff]))).toThrow('first bad byte at offset 1');
  });
});
