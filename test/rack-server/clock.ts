/** Time stamps, Go time formatting and the random ids the rack hands out. */
import { randomBytes, randomInt } from 'node:crypto';

let last = 0n;

/**
 * Nanoseconds since the epoch, strictly increasing within this process: "newest release by
 * creation time" must never tie, even for records created in the same millisecond.
 */
export function nowNs(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  last = wall > last ? wall : last + 1n;
  return last;
}

/** Go's `time.Time` JSON form (RFC 3339, nanoseconds with trailing zeros trimmed). */
export function goTime(ns: bigint | null): string {
  if (ns === null) return '0001-01-01T00:00:00Z';
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

/** RFC 3339 to the second, as log line prefixes show it. */
export function goTimeSeconds(ns: bigint): string {
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}Z`;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A Convox id: prefix letter plus 10 random uppercase letters (`B…` builds, `R…` releases). */
export function convoxId(prefix: string): string {
  let id = prefix;
  for (let i = 0; i < 10; i++) id += LETTERS[randomInt(LETTERS.length)];
  return id;
}

/** Lower-case hex of `n` characters. */
export function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);
}

/**
 * Parse a Go duration (`5s`, `2m0s`, `1h30m`, `500ms`) into milliseconds; undefined when invalid.
 */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : undefined;
}
