/**
 * The safety net after a splice: the edited text, loaded again, must equal the original value
 * except at the paths we meant to change, which must now hold exactly the new strings.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ValuePath } from './services.js';
import { formatPath } from './uses.js';

/** A path we meant to change and the value it must read back as. */
export interface IntendedChange {
  readonly path: ValuePath;
  readonly after: string;
}

const MAX_DIFFERENCES = 20;
const MAX_DEPTH = 500;

/** Paths (leaves or whole subtrees) where two loaded values differ, at most a handful. */
export function differences(a: unknown, b: unknown, path: ValuePath = [], out: ValuePath[] = []): ValuePath[] {
  if (out.length >= MAX_DIFFERENCES || a === b) return out;
  // Past this depth, compare whole (isDeepStrictEqual copes with shared and cyclic values).
  if (path.length > MAX_DEPTH) {
    if (!isDeepStrictEqual(a, b)) out.push(path);
    return out;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!Object.hasOwn(a, key) || !Object.hasOwn(b, key)) out.push([...path, key]);
      else differences(a[key], b[key], [...path, key], out);
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => differences(item, b[i], [...path, i], out));
    return out;
  }
  if (!isDeepStrictEqual(a, b)) out.push(path);
  return out;
}

/**
 * Why the edit is wrong, or undefined when `after` is `before` with exactly the intended
 * changes. Each intended path must read back as its new string; nothing else may differ.
 */
export function verifyEdit(before: unknown, after: unknown, intended: readonly IntendedChange[]): string | undefined {
  const wanted = new Map(intended.map((c) => [formatPath(c.path), c]));
  for (const change of intended) {
    const got = valueAt(after, change.path);
    if (got !== change.after) {
      return `${formatPath(change.path)} would read back as ${JSON.stringify(got)} instead of ${JSON.stringify(change.after)}`;
    }
  }
  const unexpected = differences(before, after).filter((p) => !wanted.has(formatPath(p)));
  if (unexpected.length > 0) return `the edit would also change ${unexpected.map(formatPath).join(', ')}`;
  return undefined;
}

/** The value at `path`, or undefined when any step is missing. */
export function valueAt(value: unknown, path: ValuePath): unknown {
  let at: unknown = value;
  for (const part of path) {
    if (typeof part === 'number' ? !Array.isArray(at) : !isPlainObject(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string | number, unknown>)[part];
  }
  return at;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
