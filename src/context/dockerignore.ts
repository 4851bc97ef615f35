/**
 * `.dockerignore` exactly as Docker reads and applies it: moby/patternmatcher (`ignorefile.ReadAll`,
 * `New`, `MatchesUsingParentResults`) and BuildKit's walker (tonistiigi/fsutil `filter.go`).
 *
 * Not @balena/dockerignore: it ports moby 19.03's `Matches`, which checks one parent directory
 * only, so `**\/cache` does not exclude `a/b/cache/x` (docker/buildx#850); it has no
 * parent-result matching either, which the walk needs to skip excluded trees cheaply.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ActionError } from '../errors.js';

/** Which patterns matched a directory; handed to its children (patternmatcher's MatchInfo). */
export type MatchInfo = readonly boolean[];

interface Pattern {
  readonly text: string;
  readonly exclusion: boolean;
  readonly test: (file: string) => boolean;
}

/** A pattern Docker would refuse, with its 0-based index in the list. */
export class IgnorePatternError extends Error {
  constructor(
    readonly index: number,
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid .dockerignore pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** Compiled patterns; later patterns win, `!` re-includes. Paths are context-relative, `/`-separated. */
export class IgnoreMatcher {
  private readonly patterns: readonly Pattern[];
  /** BuildKit skips an excluded directory's subtree only when no `!` pattern has a wildcard. */
  private readonly onlyPrefixExceptions: boolean;

  /** Throws IgnorePatternError for `!` alone or a malformed `[...]` class, as Docker does. */
  constructor(patterns: readonly string[]) {
    const compiled: Pattern[] = [];
    patterns.forEach((raw, index) => {
      let p = raw.trim();
      if (p === '') return;
      p = cleanPath(p);
      const exclusion = p.startsWith('!');
      if (exclusion) {
        if (p.length === 1) throw new IgnorePatternError(index, raw, 'a "!" must be followed by a pattern');
        p = p.slice(1);
      }
      const problem = classProblem(p);
      if (problem) throw new IgnorePatternError(index, raw, problem);
      compiled.push({ text: p, exclusion, test: compile(p) });
    });
    this.patterns = compiled;
    this.onlyPrefixExceptions = !compiled.some((p) => p.exclusion && /[*[\]?^\\]/.test(withoutTrailingGlob(p.text)));
  }

  /**
   * Whether `file` is excluded, given its parent directory's MatchInfo (omit it at the top
   * level, or when unknown: then every parent directory is tried, as `MatchesOrParentMatches`).
   */
  match(file: string, parent?: MatchInfo): { excluded: boolean; info: MatchInfo } {
    let matched = false;
    const info = this.patterns.map(() => false);
    this.patterns.forEach((p, i) => {
      let m = parent?.[i] ?? false;
      if (!m) {
        if (p.exclusion !== matched) return;
        m = p.test(file) || (parent === undefined && parentDirs(file).some((d) => p.test(d)));
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    });
    return { excluded: matched, info };
  }

  /**
   * Whether an excluded directory must still be walked because a `!` pattern may re-include
   * something below it. Otherwise its whole subtree is skipped unread.
   */
  mayReinclude(dir: string): boolean {
    if (!this.onlyPrefixExceptions) return true;
    const dirSlash = `${dir}/`;
    return this.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p.text)}/`.startsWith(dirSlash));
  }
}

/**
 * The patterns of an ignore file's text (ignorefile.ReadAll): BOM stripped, lines starting
 * with `#` skipped, whitespace trimmed, paths cleaned, a leading `/` removed.
 */
export function parseIgnoreFile(text: string): { pattern: string; line: number }[] {
  const out: { pattern: string; line: number }[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((rawLine, i) => {
      if (rawLine.startsWith('#')) return;
      let p = rawLine.trim();
      if (p === '') return;
      const invert = p.startsWith('!');
      if (invert) p = p.slice(1).trim();
      if (p.length > 0) {
        p = cleanPath(p);
        if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
      }
      out.push({ pattern: invert ? `!${p}` : p, line: i + 1 });
    });
  return out;
}

/**
 * The ignore patterns for a build: `<Dockerfile>.dockerignore` next to the Dockerfile wins
 * (BuildKit), else `.dockerignore` at the context root. `source` is the file read, if any.
 * Throws ActionError (file and line) for a pattern Docker would reject.
 */
export async function readIgnorePatterns(
  contextDir: string,
  dockerfile: string,
): Promise<{ patterns: string[]; source: string | undefined }> {
  for (const source of [`${dockerfile}.dockerignore`, path.join(contextDir, '.dockerignore')]) {
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ActionError(
        `cannot read ${source}: ${(e as Error).message}`,
        { file: displayPath(source), phase: 'build' },
        'make the file readable by the runner user',
      );
    }
    const parsed = parseIgnoreFile(text);
    const patterns = parsed.map((p) => p.pattern);
    try {
      new IgnoreMatcher(patterns);
    } catch (e) {
      if (!(e instanceof IgnorePatternError)) throw e;
      const line = parsed[e.index]?.line;
      throw new ActionError(
        `${displayPath(source)}${line ? `:${line}` : ''}: ${e.message}`,
        { file: displayPath(source), ...(line ? { line } : {}), phase: 'build' },
        'fix the pattern: "[" must be closed by "]" with a valid range inside, "\\" must escape a character, "!" needs a pattern after it',
      );
    }
    return { patterns, source };
  }
  return { patterns: [], source: undefined };
}

function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
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

function withoutTrailingGlob(p: string): string {
  return p.replace(/\/\*\*$/, '').replace(/\/\*$/, '');
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
