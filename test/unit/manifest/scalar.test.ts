import { describe, expect, test } from 'vitest';
import { plainProblem, renderScalar } from '../../../src/manifest/scalar.js';
import type { ScalarNode } from '../../../src/manifest/yaml-tree.js';

const node = (style: ScalarNode['style'], inFlow = false): ScalarNode => ({
  kind: 'scalar',
  start: 0,
  end: 1,
  style,
  value: 'x',
  inFlow,
});

describe('renderScalar keeps the quoting style and escapes what it must', () => {
  test.each([
    ['plain', 'acme/shop:1', 'acme/shop:1'],
    ['single', 'acme/shop:1', 'acme/shop:1'],
    ['single', "it's", "it''s"],
    ['double', 'acme/shop:1', 'acme/shop:1'],
    ['double', 'a"b\\c', 'a\\"b\\\\c'],
    ['double', 'tab\there\nnl', 'tab\\there\\nnl'],
    ['double', 'bell\u0007 nel\u0085 ls\u2028', 'bell\\x07 nel\\x85 ls\\u2028'],
    ['double', 'café ☕', 'café ☕'],
  ] as const)('%s %j', (style, value, text) => {
    expect(renderScalar(value, node(style))).toBe(text);
  });

  test('block scalars and line breaks in single quotes are refused', () => {
    expect((renderScalar('a', node('literal')) as Error).message).toBe(
      'it is a literal block scalar; write the image on one line, e.g. "image: repo:tag"',
    );
    expect(renderScalar('a\nb', node('single'))).toBeInstanceOf(Error);
  });
});

describe('plainProblem', () => {
  test.each([
    ['acme/shop:1', false, undefined],
    ['localhost:5000/acme/shop:1', true, undefined],
    ['-dash', false, undefined],
    ['', false, 'it is empty'],
    ['*star', false, 'it starts with an indicator'],
    ['- x', false, 'it starts with an indicator'],
    ['a: b', false, 'it contains ": " or " #"'],
    ['a #b', false, 'it contains ": " or " #"'],
    ['${A}/x', true, 'it contains , [ ] { } inside a flow mapping'],
    ['${A}/x', false, undefined],
    ['trailing ', false, 'it ends with a space'],
    ['colon:', false, 'it ends with ":"'],
  ])('%j (flow %s)', (value, inFlow, why) => {
    const problem = plainProblem(value, inFlow);
    expect(problem?.message).toBe(why && `"${value}" cannot be written unquoted: ${why}; quote the image in the manifest`);
  });
});
