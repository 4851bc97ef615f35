/**
 * moby/patternmatcher's matcher: its TestMatches table (the Linux rows) and cases of our own;
 * the `.dockerignore` reader is in dockerignore.test.ts, the walk that applies the patterns in
 * the fsutil vectors and the oracle test.
 */
import { describe, expect, it } from 'vitest';
import { cleanPath, PatternError, PatternMatcher } from '../../../src/context/patterns.js';

describe('cleanPath (Go path.Clean)', () => {
  it.each([
    ['', '.'],
    ['.', '.'],
    ['a/', 'a'],
    ['/a/../..', '/'],
    ['a/../..', '..'],
    ['../a/./b/', '../a/b'],
    ['//a', '/a'],
  ])('%j → %j', (p, clean) => expect(cleanPath(p)).toBe(clean));
});

// One pattern against one path, every parent tried (MatchesOrParentMatches): moby
// patternmatcher's TestMatches table (the Linux rows), plus cases of our own.
describe('a single pattern', () => {
  it.each([
    ['**', 'file', true],
    ['**', 'dir/file', true],
    ['**/', 'dir/file', true],
    ['**/**', 'dir/file', true],
    ['dir/**', 'dir/file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['dir/**', 'dir', false],
    ['**/dir', 'dir', true],
    ['**/dir', 'dir/file', true],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**/dir2/**', 'dir/dir2/dir3/file', true],
    ['**file', 'file', true],
    ['**file', 'dir/file', true],
    ['**/file', 'dir/file', true],
    ['**file', 'dir/dir/file', true],
    ['**/file*', 'dir/dir/file.txt', true],
    ['**/file*txt', 'dir/dir/file.txt', true],
    ['**/file*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt2', 'dir/dir/file.txt', false],
    ['**/*.txt', 'file.txt', true],
    ['**/**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/file.txt', true],
    ['a**/*.txt', 'a/dir/file.txt', true],
    ['a**/*.txt', 'a/dir/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a/*.txt', 'a/file.txt', true],
    ['a/*.txt**', 'a/file.txt', true],
    ['a[b-d]e', 'ae', false],
    ['a[b-d]e', 'ace', true],
    ['a[b-d]e', 'aae', false],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcdef', false],
    ['abc.def', 'abc.def', true],
    ['abc.def', 'abc/def', false],
    ['abc?def', 'abc/def', false],
    ['abc?def', 'abcxdef', true],
    ['abc/def', 'abc/def', true],
    ['**/foo/bar', 'foo/bar', true],
    ['**/foo/bar', 'dir/foo/bar', true],
    ['**/foo/bar', 'dir/dir2/foo/bar', true],
    ['abc/**', 'abc', false],
    ['abc/**', 'abc/def', true],
    ['abc/**', 'abc/def/ghi', true],
    ['**/.foo', '.foo', true],
    ['**/.foo', 'bar.foo', false],
    ['a(b)c/def', 'a(b)c/def', true],
    ['a(b)c/def', 'a(b)c/xyz', false],
    ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
    ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    ['\\#literal', '#literal', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['\\d', 'd', true],
    ['a]b', 'a]b', true],
    ['*.go', 'x/y.go', false],
    ['*', 'x/y', true],
    ['naïve?', 'naïve☃', true],
    ['?', '😀', true],
    ['abc.def', 'abcZdef', false],
    ['abc?def', 'abcdef', false],
    ['a\\\\', 'a\\', true],
    ['**/file*.txt*', 'dir/dir/file.txt', true],
  ])('%j vs %j → %s', (pattern, path, excluded) => {
    expect(new PatternMatcher([pattern]).match(path).matched).toBe(excluded);
  });
});

describe('pattern lists (later patterns win, ! re-includes)', () => {
  it.each([
    [['*.go', '!fileutils.go'], 'fileutils.go', false],
    [['!fileutils.go', '*.go'], 'fileutils.go', true],
    [['docs', '!docs/README.md'], 'docs/README.md', false],
    [['docs/', '!docs/README.md'], 'docs/README.md', false],
    [['docs/*', '!docs/README.md'], 'docs/README.md', false],
    [['docs', '!docs/README.md'], 'docs/other.md', true],
    [['**/cache'], 'a/b/cache/x', true], // moby 19.03's one-parent-only Matches says false
    [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
    [['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md', false],
    [['node_modules', '!node_modules/keep'], 'node_modules/keep/x.js', false],
    [['**', '!util/docker/web'], 'util/docker/web/foo', false],
    [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
    [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  ])('%j: %j excluded → %s', (patterns, path, excluded) => {
    expect(new PatternMatcher(patterns).match(path).matched).toBe(excluded);
  });

  it('gives children the same answer through the parent information as by trying every parent', () => {
    const m = new PatternMatcher(['**/cache', '!lib/deep/cache/keep', 'docs', '!docs/*.md']);
    const walk = (path: string): boolean => {
      const parts = path.split('/');
      let info: readonly boolean[] | undefined;
      let matched = false;
      for (let i = 1; i <= parts.length; i++) ({ matched, info } = m.match(parts.slice(0, i).join('/'), info));
      return matched;
    };
    for (const p of [
      'lib/deep/cache/keep',
      'lib/deep/cache/drop',
      'docs/a.md',
      'docs/a.txt',
      'docs/sub/a.md',
      'x/cache',
      'src/a.ts',
    ]) {
      expect([p, walk(p)]).toEqual([p, m.match(p).matched]);
    }
  });
});

describe('which excluded directories must still be walked', () => {
  it.each([
    [['node_modules'], 'node_modules', false],
    [['node_modules', '!node_modules/keep'], 'node_modules', true],
    [['node_modules', '!node_modules/keep'], 'node_modules/other', false],
    [['node_modules', '!node_modules/keep/**'], 'node_modules/keep', true],
    [['node_modules', '!node_modules/keep/*'], 'node_modules', true],
    [['node_modules', '!**/keep'], 'node_modules', true], // a wildcard exception: BuildKit walks everything
    [['node_modules', '!src/*.[ch]'], 'node_modules', true],
  ])('%j: walk %j → %s', (patterns, dir, walk) => {
    expect(new PatternMatcher(patterns).mayMatchBelow(dir, true)).toBe(walk);
  });
});

describe('patterns Docker rejects', () => {
  it.each([
    ['!', /"!" must be followed by a pattern/],
    ['[', /empty, unclosed or malformed/],
    ['a[', /empty, unclosed or malformed/],
    ['[]a]', /empty, unclosed or malformed/],
    ['[^]', /empty, unclosed or malformed/],
    ['[a-]', /range .* is malformed/],
    ['[z-a]', /range .* is malformed/],
    ['foo\\', /lone "\\"/],
  ])('%j', (pattern, reason) => {
    expect(() => new PatternMatcher(['ok', pattern])).toThrow(PatternError);
    expect(() => new PatternMatcher(['ok', pattern])).toThrow(reason);
    try {
      new PatternMatcher(['ok', pattern]);
    } catch (e) {
      expect((e as PatternError).index).toBe(1);
    }
  });

  it.each(['[a-c]', '[\\]]', '[[]', 'a\\[b', '[!x]'])('accepts %j', (pattern) => {
    expect(() => new PatternMatcher([pattern])).not.toThrow();
  });
});

// moby/patternmatcher's TestMatch table (matchTests, patternmatcher_test.go at
// 5a6d8429a19bb6948a372ff19e86fe83599a04b7): the package-level Matches(s, [pattern]); a row
// with ErrBadPattern is a pattern New refuses. [pattern, path, matches, bad pattern].
const MATCH_TESTS: ReadonlyArray<readonly [string, string, boolean, boolean]> = [
  ['abc', 'abc', true, false],
  ['*', 'abc', true, false],
  ['*c', 'abc', true, false],
  ['a*', 'a', true, false],
  ['a*', 'abc', true, false],
  ['a*', 'ab/c', true, false],
  ['a*/b', 'abc/b', true, false],
  ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false],
  ['ab[b-d]', 'abc', true, false],
  ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false],
  ['ab[^b-d]', 'abc', false, false],
  ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false],
  ['a\\*b', 'ab', false, false],
  ['a?b', 'a☺b', true, false],
  ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false],
  ['a[^a][^a][^a]b', 'a☺b', false, false],
  ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false],
  ['a?b', 'a/b', false, false],
  ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false],
  ['[\\-]', '-', true, false],
  ['[x\\-]', 'x', true, false],
  ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false],
  ['[\\-x]', 'x', true, false],
  ['[\\-x]', '-', true, false],
  ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['\\', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'a', false, true],
  ['a[', 'ab', false, true],
  ['*x', 'xxx', true, false],
];

describe("patternmatcher's TestMatch (54 rows)", () => {
  it.each(MATCH_TESTS)('%j vs %j → %s (bad pattern: %s)', (pattern, path, matches, bad) => {
    if (bad) expect(() => new PatternMatcher([pattern])).toThrow(PatternError);
    else expect(new PatternMatcher([pattern]).match(path).matched).toBe(matches);
  });
});
