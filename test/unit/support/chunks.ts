/** Test helpers: feed bytes to a stream reader in chosen pieces. */

export async function* chunks(parts: readonly (string | Buffer)[]): AsyncGenerator<Buffer | string> {
  for (const p of parts) yield p;
}

/** Splits `buf` at the given offsets (any order, duplicates and out-of-range values allowed). */
export function cut(buf: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  return out;
}
