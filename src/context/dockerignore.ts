/**
 * Follows: moby/patternmatcher ignorefile/ignorefile.go; moby/buildkit frontend/dockerui (which file).
 *
 * Reading `.dockerignore` as Docker does: moby/patternmatcher's `ignorefile.ReadAll` for the
 * text, and BuildKit's Dockerfile frontend for which file counts (`<Dockerfile>.dockerignore`
 * next to the Dockerfile wins over the context's `.dockerignore`). The classic builder's reader
 * (the docker CLI's ReadDockerignore in cli/command/image/build.go, and the Convox CLI's source
 * tarball in pkg/common/tar.go) reads only the context's `.dockerignore`. The patterns are
 * applied by filter.ts, with patterns.ts's matcher.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ActionError } from '../errors.js';
import { cleanPath, PatternError, PatternMatcher } from './patterns.js';

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
 * The ignore patterns for a build: with a Dockerfile, `<Dockerfile>.dockerignore` next to it
 * wins (BuildKit), else `.dockerignore` at the context root; without one (`undefined`: the
 * classic builder's reader), only the root's. `source` is the file read, if any.
 * Throws ActionError (file and line) for a pattern Docker would reject.
 */
export async function readIgnorePatterns(
  contextDir: string,
  dockerfile: string | undefined,
): Promise<{ patterns: string[]; source: string | undefined }> {
  const candidates = [path.join(contextDir, '.dockerignore')];
  if (dockerfile !== undefined) candidates.unshift(`${dockerfile}.dockerignore`);
  for (const source of candidates) {
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
    // BuildKit reads the file through the session and an empty one arrives as no data at all,
    // so an empty `<Dockerfile>.dockerignore` leaves the context's `.dockerignore` in force.
    if (text === '' && source !== path.join(contextDir, '.dockerignore')) continue;
    const parsed = parseIgnoreFile(text);
    const patterns = parsed.map((p) => p.pattern);
    try {
      new PatternMatcher(patterns);
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      const line = parsed[e.index]?.line;
      throw new ActionError(
        `${displayPath(source)}${line ? `:${line}` : ''}: invalid .dockerignore pattern ${JSON.stringify(e.pattern)}: ${e.reason}`,
        { file: displayPath(source), line, phase: 'build' },
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
