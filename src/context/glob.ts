/**
 * Follows: golang/go src/path/filepath/match.go.
 *
 * Go's `path/filepath.Match` on Unix (src/path/filepath/match.go), which fsutil's FollowLinks
 * uses to find the symlinks a wildcard COPY source names: `*` is any run of non-`/`
 * characters, `?` one non-`/` character, `[...]` a class (`^` negates, `a-z` ranges), `\`
 * escapes. A malformed pattern matches nothing (Go returns ErrBadPattern, which fsutil ignores).
 */

/** fsutil's containsWildcards on Unix: an unescaped `*`, `?` or `[`. */
export function hasGlob(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Whether `name` matches the whole of `pattern` (false for a malformed pattern, as fsutil takes it). */
export function goMatch(pattern: string, name: string): boolean {
  return goMatchResult(pattern, name).matched;
}

/** filepath.Match's two answers: whether it matched, and whether it reported ErrBadPattern. */
export function goMatchResult(pattern: string, name: string): { matched: boolean; badPattern: boolean } {
  try {
    return { matched: matchFrom([...pattern], 0, [...name], 0), badPattern: false };
  } catch (e) {
    if (e instanceof BadPattern) return { matched: false, badPattern: true };
    throw e;
  }
}

class BadPattern extends Error {}

function matchFrom(p: string[], pi: number, s: string[], si: number): boolean {
  while (pi < p.length) {
    const ch = p[pi]!;
    if (ch === '*') {
      // A run of stars is one star; it matches any run of non-separators, shortest first.
      while (p[pi] === '*') pi++;
      if (pi === p.length) return !s.slice(si).includes('/');
      for (let k = si; k <= s.length; k++) {
        if (matchFrom(p, pi, s, k)) return true;
        if (s[k] === '/') break;
      }
      // Go still checks the rest of the pattern for syntax errors.
      checkSyntax(p, pi);
      return false;
    }
    if (si >= s.length) {
      checkSyntax(p, pi);
      return false;
    }
    const c = s[si]!;
    if (ch === '?') {
      if (c === '/') return mismatch(p, pi);
      pi++;
      si++;
    } else if (ch === '[') {
      const [ok, next] = matchClass(p, pi, c);
      if (!ok) {
        checkSyntax(p, next);
        return false;
      }
      pi = next;
      si++;
    } else if (ch === '\\') {
      if (pi + 1 >= p.length) throw new BadPattern();
      if (p[pi + 1] !== c) return mismatch(p, pi);
      pi += 2;
      si++;
    } else {
      if (ch !== c) return mismatch(p, pi);
      pi++;
      si++;
    }
  }
  return si === s.length;
}

/** A mismatch at `pi`: false, once the rest of the pattern is known to be well formed (Go checks it). */
function mismatch(p: string[], pi: number): false {
  checkSyntax(p, pi);
  return false;
}

/** Matches `c` against the class starting at `p[at] === '['`; returns whether it matched and the index after `]`. */
function matchClass(p: string[], at: number, c: string): [boolean, number] {
  let i = at + 1;
  const negated = p[i] === '^';
  if (negated) i++;
  let matched = false;
  let ranges = 0;
  for (;;) {
    if (p[i] === ']' && ranges > 0) {
      i++;
      break;
    }
    const [lo, afterLo] = classChar(p, i);
    let hi = lo;
    i = afterLo;
    if (p[i] === '-') {
      [hi, i] = classChar(p, i + 1);
    }
    const cp = c.codePointAt(0)!;
    if (lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!) matched = true;
    ranges++;
  }
  return [matched !== negated, i];
}

/** Go's getEsc: one class character (maybe escaped); a class may not end the pattern. */
function classChar(p: string[], i: number): [string, number] {
  let at = i;
  const ch = p[at];
  if (ch === undefined || ch === '-' || ch === ']') throw new BadPattern();
  if (ch === '\\') at++;
  const c = p[at];
  if (c === undefined || at + 1 >= p.length) throw new BadPattern();
  return [c, at + 1];
}

/** Go's Match reports ErrBadPattern for a malformed rest of the pattern even after a mismatch. */
function checkSyntax(p: string[], from: number): void {
  for (let i = from; i < p.length; i++) {
    if (p[i] === '\\') {
      if (i + 1 >= p.length) throw new BadPattern();
      i++;
    } else if (p[i] === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      let ranges = 0;
      for (;;) {
        if (p[j] === ']' && ranges > 0) break;
        j = classChar(p, j)[1];
        if (p[j] === '-') {
          j = classChar(p, j + 1)[1];
        }
        ranges++;
      }
      i = j;
    }
  }
}
