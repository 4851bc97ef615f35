import { describe, expect, it } from 'vitest';
import { parseIgnoreFile } from '../../../src/context/dockerignore.js';

describe('parseIgnoreFile (moby ignorefile.ReadAll)', () => {
  it.each([
    ['# a comment\nfoo', ['foo']],
    [' # leading space: a pattern, not a comment', ['# leading space: a pattern, not a comment']],
    ['\uFEFFfoo\nbar', ['foo', 'bar']],
    ['foo\r\nbar\r\n', ['foo', 'bar']],
    ['  foo  \n\n\t\n', ['foo']],
    ['/foo', ['foo']],
    ['./foo', ['foo']],
    ['foo/', ['foo']],
    ['/', ['/']],
    ['a/../b', ['b']],
    ['a//b/./c', ['a/b/c']],
    ['**/', ['**']],
    ['../outside', ['../outside']],
    ['!/foo', ['!foo']],
    ['! foo ', ['!foo']],
    ['!', ['!']],
  ])('%j → %j', (text, patterns) => {
    expect(parseIgnoreFile(text).map((p) => p.pattern)).toEqual(patterns);
  });

  it('keeps the line number of each pattern', () => {
    expect(parseIgnoreFile('# c\n\nfoo\n  \nbar')).toEqual([
      { pattern: 'foo', line: 3 },
      { pattern: 'bar', line: 5 },
    ]);
  });
});
