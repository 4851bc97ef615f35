/**
 * The manifest as bytes and as text, and the mapping between the two. js-yaml reports offsets in
 * UTF-16 code units of the string it parsed; edits must land on bytes, so every offset crosses
 * this file on its way out.
 */
import { ActionError } from '../errors.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A decoded manifest: `text` excludes the BOM, which `bomLength` remembers. */
export interface ManifestSource {
  readonly file: string;
  readonly bytes: Buffer;
  readonly bomLength: number;
  readonly text: string;
  /** Offsets in `text` where each line starts: after `\n`, `\r\n` or a lone `\r`, YAML's three line breaks. */
  readonly lineStarts: readonly number[];
}

/** A 1-based line and column (columns count characters as a person sees them, not bytes). */
export interface Position {
  readonly line: number;
  readonly column: number;
}

const LINE_BREAK = /\r\n|\r|\n/g;

/** Decodes strict UTF-8 (an optional BOM is set aside); throws ActionError on invalid bytes. */
export function decodeManifest(file: string, bytes: Buffer): ManifestSource {
  const bomLength = bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(bomLength));
  } catch {
    throw new ActionError(
      `${file} is not valid UTF-8 text (first bad byte at offset ${firstInvalidUtf8(bytes)})`,
      { file, phase: 'manifest' },
      'save the manifest as UTF-8',
    );
  }
  const lineStarts = [0];
  for (const match of text.matchAll(LINE_BREAK)) lineStarts.push(match.index + match[0].length);
  return { file, bytes, bomLength, text, lineStarts };
}

/**
 * The text with every lone `\r` written as `\n`. YAML 1.2 counts a lone CR as a line break (and
 * folds every break in a scalar to `\n`), but the `yaml` package does not see one; the
 * replacement has the same length, so every offset still points into the original text.
 */
export function yamlLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}

/** The line and column of a text offset. */
export function positionOf(src: ManifestSource, offset: number): Position {
  let lo = 0;
  let hi = src.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((src.lineStarts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  const start = src.lineStarts[lo] ?? 0;
  // Count code points so an emoji earlier on the line counts once, as editors show it.
  return { line: lo + 1, column: [...src.text.slice(start, offset)].length + 1 };
}

/** The text of a 1-based line, without its line break. */
export function lineText(src: ManifestSource, line: number): string {
  const start = src.lineStarts[line - 1] ?? src.text.length;
  const next = src.lineStarts[line];
  return src.text.slice(start, next === undefined ? undefined : next).replace(/(?:\r\n|\r|\n)$/, '');
}

/** The byte offset in `bytes` of a text offset. */
export function byteOffsetOf(src: ManifestSource, offset: number): number {
  return src.bomLength + Buffer.byteLength(src.text.slice(0, offset), 'utf8');
}

/** One replacement of the text between two offsets. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Applies edits to the original bytes: everything outside the edited spans is copied byte for
 * byte, so line endings, BOM, and unusual encodings of the rest survive untouched.
 */
export function spliceBytes(src: ManifestSource, edits: readonly TextEdit[]): Buffer {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let at = 0;
  for (const edit of sorted) {
    const from = byteOffsetOf(src, edit.start);
    if (from < at) throw new Error(`overlapping edits at offset ${edit.start}`);
    parts.push(src.bytes.subarray(at, from), Buffer.from(edit.text, 'utf8'));
    at = byteOffsetOf(src, edit.end);
  }
  parts.push(src.bytes.subarray(at));
  return Buffer.concat(parts);
}

function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  // Streaming decode accepts a prefix that stops inside a character, so the shortest prefix that
  // throws ends exactly at the first bad byte.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  // The throwing prefix ends where the error was noticed; step back to where that character began.
  for (let start = lo; start > Math.max(0, lo - 4); start--) {
    if (decodes(bytes.subarray(0, start))) return start;
  }
  return lo;
}

function decodes(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
