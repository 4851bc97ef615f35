/**
 * Follows: moby/patternmatcher patternmatcher.go.
 *
 * moby/patternmatcher (`New`, `MatchesUsingParentResults`, `Pattern.compile`) at
 * 5a6d8429a19bb6948a372ff19e86fe83599a04b7: the pattern language of `.dockerignore` and of the
 * include and exclude patterns BuildKit sends for a context (tonistiigi/fsutil filter.go uses it
 * for both). Paths and patterns are `/`-separated and relative to the context.
 */
/** Which patterns matched a directory; handed to its children (patternmatcher's MatchInfo). */
export type MatchInfo = readonly boolean[];

interface Pattern {
  readonly text: string;
  readonly exclusion: boolean;
  readonly test: (file: string) => boolean;
}

/** A pattern Docker would refuse, with its 0-based index in the list. */
export class PatternError extends Error {
  constructor(
    readonly index: number,
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** One pattern as compiled: its cleaned text (without the `!`) and whether it re-includes. */
export interface CompiledPattern {
  readonly text: string;
  readonly exclusion: boolean;
}

/** Compiled patterns; later patterns win, `!` inverts. Paths are relative, `/`-separated. */
export class PatternMatcher {
  private readonly compiled: readonly Pattern[];
  /** Whether any pattern is a `!` exception (patternmatcher's Exclusions). */
  readonly exclusions: boolean;

  /** Throws PatternError for `!` alone or a malformed `[...]` class, as patternmatcher.New does. */
  constructor(patterns: readonly string[]) {
    const compiled: Pattern[] = [];
    patterns.forEach((raw, index) => {
      let p = raw.trim();
      if (p === '') return;
      p = cleanPath(p);
      const exclusion = p.startsWith('!');
      if (exclusion) {
        if (p.length === 1) throw new PatternError(index, raw, 'a "!" must be followed by a pattern');
        p = p.slice(1);
      }
      const problem = classProblem(p);
      if (problem) throw new PatternError(index, raw, problem);
      compiled.push({ text: p, exclusion, test: compile(p) });
    });
    this.compiled = compiled;
    this.exclusions = compiled.some((p) => p.exclusion);
  }

  /** The patterns in order (patternmatcher's Patterns). */
  get patterns(): readonly CompiledPattern[] {
    return this.compiled;
  }

  /**
   * Whether some pattern of the given kind (`!` exceptions, or plain patterns) could match
   * below `dir`, judged as fsutil does when deciding to skip a directory: true when such a
   * pattern has a wildcard (other than a trailing `/*` or `/**`), or when its text, without
   * the trailing glob, lies inside `dir`.
   */
  mayMatchBelow(dir: string, exclusion: boolean): boolean {
    const kind = this.compiled.filter((p) => p.exclusion === exclusion);
    if (kind.some((p) => hasWildcard(withoutTrailingGlob(p.text)))) return true;
    const dirSlash = `${dir}/`;
    return kind.some((p) => `${withoutTrailingGlob(p.text)}/`.startsWith(dirSlash));
  }

  /**
   * Whether `file` matches (the last pattern to match it is not a `!` one), given its parent
   * directory's MatchInfo (omit it at the top level, or when unknown: then every parent
   * directory is tried, as `MatchesOrParentMatches`): `MatchesUsingParentResults`.
   */
  match(file: string, parent?: MatchInfo): { matched: boolean; info: MatchInfo } {
    let matched = false;
    const info = this.compiled.map(() => false);
    this.compiled.forEach((p, i) => {
      let m = parent?.[i] ?? false;
      if (!m) {
        if (p.exclusion !== matched) return;
        m = p.test(file) || (parent === undefined && parentDirs(file).some((d) => p.test(d)));
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    });
    return { matched, info };
  }
}

/** Go's path.Clean for `/`-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && rooted) continue;
    else out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

function parentDirs(file: string): string[] {
  const parts = file.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** fsutil's patternWithoutTrailingGlob: the text without one trailing `/**` or `/*`. */
export function withoutTrailingGlob(p: string): string {
  return p.replace(/\/\*\*$/, '').replace(/\/\*$/, '');
}

/** fsutil's patternChars on Unix: `*[]?^\\`. */
function hasWildcard(p: string): boolean {
  return /[*[\]?^\\]/.test(p);
}

/**
 * patternmatcher's Pattern.compile: exact, prefix (`dir/**`), suffix (`**\/name`) or a regexp
 * where `*` and `?` stop at `/` and `**` crosses directories.
 */
function compile(p: string): (file: string) => boolean {
  const chars = [...p];
  let re = '^';
  let kind: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  let inClass = false;
  // `iter` counts characters taken at the top of the loop, as Go's scanner loop does: `**` at
  // iteration 0 makes a suffix match.
  for (let i = 0, iter = 0; i < chars.length; i++, iter++) {
    const ch = chars[i] ?? '';
    if (ch === '*' && chars[i + 1] === '*') {
      i++;
      if (chars[i + 1] === '/') i++;
      if (i + 1 >= chars.length) {
        if (kind === 'exact') kind = 'prefix';
        else {
          re += '.*';
          kind = 'regexp';
        }
      } else {
        re += '(.*/)?';
        kind = 'regexp';
      }
      if (iter === 0) kind = 'suffix';
    } else if (ch === '*') {
      re += '[^/]*';
      kind = 'regexp';
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) re += `\\${ch}`;
    else if (ch === '\\') {
      // Go puts `\x` into its regexp; for a letter that would be a class like \d, while
      // filepath.Match (and anyone reading the pattern) takes it as the letter: we do too.
      const next = chars[i + 1];
      if (next !== undefined) {
        re += escapeForRegExp(next);
        i++;
        kind = 'regexp';
      }
    } else if (ch === '[' || ch === ']') {
      // A `]` outside a class is literal to Go's regexp but a syntax error to a JS `u` regexp.
      re += ch === ']' && !inClass ? '\\]' : ch;
      if (ch === '[' && !inClass) inClass = true;
      else if (ch === ']') inClass = false;
      kind = 'regexp';
    } else re += ch;
  }
  if (kind === 'exact') return (f) => f === p;
  if (kind === 'prefix') {
    const pre = p.slice(0, -2);
    return (f) => f.startsWith(pre);
  }
  if (kind === 'suffix') {
    const suffix = p.slice(2);
    return (f) => f.endsWith(suffix) || (suffix.startsWith('/') && f === suffix.slice(1));
  }
  const regexp = new RegExp(`${re}$`, 'u');
  return (f) => regexp.test(f);
}

function escapeForRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** Go's filepath.Match syntax check: every `[` closed, non-empty, ranges ordered; no trailing `\`. */
function classProblem(p: string): string | undefined {
  const chars = [...p];
  const esc = (i: number): [string | undefined, number] => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return [undefined, i];
    if (c === '\\') return chars[i + 1] === undefined ? [undefined, i] : [chars[i + 1], i + 2];
    return [c, i + 1];
  };
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      if (i + 1 >= chars.length) return 'it ends with a lone "\\"';
      i++;
    } else if (chars[i] === '[') {
      let j = i + 1;
      if (chars[j] === '^') j++;
      let ranges = 0;
      for (;;) {
        if (chars[j] === ']' && ranges > 0) break;
        const [lo, afterLo] = esc(j);
        if (lo === undefined) return `the character class at position ${i + 1} is empty, unclosed or malformed`;
        j = afterLo;
        if (chars[j] === '-') {
          const [hi, afterHi] = esc(j + 1);
          if (hi === undefined || (hi.codePointAt(0) ?? 0) < (lo.codePointAt(0) ?? 0))
            return `the range in the character class at position ${i + 1} is malformed`;
          j = afterHi;
        }
        ranges++;
      }
      i = j;
    }
  }
  return undefined;
}
