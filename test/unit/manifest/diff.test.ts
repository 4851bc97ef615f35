import { expect, test } from 'vitest';
import { unifiedDiff } from '../../../src/manifest/index.js';

test('equal bytes give no diff', () => {
  expect(unifiedDiff('convox.yml', Buffer.from('a\n'), Buffer.from('a\n'))).toBe('');
});

test('a git-style diff with a/ and b/ names and three lines of context', () => {
  const before = Buffer.from('1\n2\n3\n4\nimage: acme/shop:1\n6\n7\n8\n9\n');
  const after = Buffer.from('1\n2\n3\n4\nimage: acme/shop:2\n6\n7\n8\n9\n');
  expect(unifiedDiff('deploy/convox.yml', before, after)).toBe(
    '--- a/deploy/convox.yml\n+++ b/deploy/convox.yml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-image: acme/shop:1\n+image: acme/shop:2\n 6\n 7\n 8\n',
  );
});

test('CRLF files diff as lines, without a carriage return on each', () => {
  const diff = unifiedDiff('convox.yml', Buffer.from('a: 1\r\nb: 2\r\n'), Buffer.from('a: 1\r\nb: 3\r\n'));
  expect(diff).toBe('--- a/convox.yml\n+++ b/convox.yml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n');
});

test('lone-CR files diff as lines too, with the hunk at the line YAML counts', () => {
  const cr = (t: string): Buffer => Buffer.from(t.replace(/\n/g, '\r'));
  const diff = unifiedDiff('c.yml', cr('a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n'), cr('a: 1\nb: 2\nc: 3\nd: 4\ne: 6\n'));
  expect(diff).toBe('--- a/c.yml\n+++ b/c.yml\n@@ -2,4 +2,4 @@\n b: 2\n c: 3\n d: 4\n-e: 5\n+e: 6\n');
});

test('a BOM is not shown and a missing final newline is marked', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const diff = unifiedDiff('c.yml', Buffer.concat([bom, Buffer.from('x: 1')]), Buffer.concat([bom, Buffer.from('x: 2')]));
  expect(diff).toBe(
    '--- a/c.yml\n+++ b/c.yml\n@@ -1,1 +1,1 @@\n-x: 1\n\\ No newline at end of file\n+x: 2\n\\ No newline at end of file\n',
  );
});

test('Windows-style paths get forward slashes in the header', () => {
  expect(unifiedDiff('deploy\\convox.yml', Buffer.from('a\n'), Buffer.from('b\n')).split('\n').slice(0, 2)).toEqual([
    '--- a/deploy/convox.yml',
    '+++ b/deploy/convox.yml',
  ]);
});
