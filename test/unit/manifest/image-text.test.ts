import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import {
  interpolate,
  matchImage,
  rewriteImage,
  splitImageText,
  unsafeToRewrite,
  usesVariable,
  variableWithOperator,
} from '../../../src/manifest/image-text.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('splitImageText', () => {
  test.each([
    ['acme/shop', { repository: 'acme/shop' }],
    ['acme/shop:1.0', { repository: 'acme/shop', tag: '1.0' }],
    ['localhost:5000/acme/shop', { repository: 'localhost:5000/acme/shop' }],
    ['localhost:5000/acme/shop:1', { repository: 'localhost:5000/acme/shop', tag: '1' }],
    [`acme/shop@${DIGEST}`, { repository: 'acme/shop', digest: DIGEST }],
    [`acme/shop:1@${DIGEST}`, { repository: 'acme/shop', tag: '1', digest: DIGEST }],
    ['acme/shop:${IMAGE_VERSION}', { repository: 'acme/shop', tag: '${IMAGE_VERSION}' }],
    ['${REGISTRY}/shop:1', { repository: '${REGISTRY}/shop', tag: '1' }],
    ['[::1]:5000/shop:2', { repository: '[::1]:5000/shop', tag: '2' }],
  ])('%s', (text, parts) => {
    expect(splitImageText(text)).toEqual(parts);
  });
});

describe('splitImageText leaves the insides of ${…} alone', () => {
  test.each([
    ['acme/shop:${TAG:-latest}', { repository: 'acme/shop', tag: '${TAG:-latest}' }],
    ['acme/shop:${TAG-latest}', { repository: 'acme/shop', tag: '${TAG-latest}' }],
    ['acme/shop:${TAG:?set TAG}', { repository: 'acme/shop', tag: '${TAG:?set TAG}' }],
    ['acme/shop:${TAG:?set TAG: see docs/ci.md}', { repository: 'acme/shop', tag: '${TAG:?set TAG: see docs/ci.md}' }],
    ['acme/shop:${TAG:-${FALLBACK:-1}}', { repository: 'acme/shop', tag: '${TAG:-${FALLBACK:-1}}' }],
    ['acme/shop:v${MAJOR:-1}.${MINOR:-0}', { repository: 'acme/shop', tag: 'v${MAJOR:-1}.${MINOR:-0}' }],
    ['acme/shop:${TAG:-a@b}', { repository: 'acme/shop', tag: '${TAG:-a@b}' }],
    [`acme/shop:\${TAG:-1}@${DIGEST}`, { repository: 'acme/shop', tag: '${TAG:-1}', digest: DIGEST }],
    ['acme/shop@${DIGEST:-sha256:abc}', { repository: 'acme/shop', digest: '${DIGEST:-sha256:abc}' }],
    ['acme/shop:${TAG:-}', { repository: 'acme/shop', tag: '${TAG:-}' }],
    ['${REGISTRY:-docker.io}/acme/shop:${TAG:-1}', { repository: '${REGISTRY:-docker.io}/acme/shop', tag: '${TAG:-1}' }],
    [
      '${REGISTRY:-127.0.0.1:5000}/acme/shop:${TAG:-1}',
      { repository: '${REGISTRY:-127.0.0.1:5000}/acme/shop', tag: '${TAG:-1}' },
    ],
    ['${REGISTRY:-127.0.0.1:5000}/acme/shop', { repository: '${REGISTRY:-127.0.0.1:5000}/acme/shop' }],
    ['${REGISTRY:-localhost:5000}/shop:2', { repository: '${REGISTRY:-localhost:5000}/shop', tag: '2' }],
    ['${IMAGE:-acme/shop:1}', { repository: '${IMAGE:-acme/shop:1}' }],
    // An unterminated ${ is plain text, split as Docker would.
    ['acme/shop:${TAG', { repository: 'acme/shop', tag: '${TAG' }],
    ['acme/shop:${TAG:-1', { repository: 'acme/shop:${TAG', tag: '-1' }],
    ['${REGISTRY:5000/shop:1', { repository: '${REGISTRY:5000/shop', tag: '1' }],
    ['acme/shop:${A:-{}', { repository: 'acme/shop:${A', tag: '-{}' }],
    // A stray } does not open anything; braces without $ are not expressions.
    ['acme/shop:}1', { repository: 'acme/shop', tag: '}1' }],
    ['acme/{a:b}', { repository: 'acme/{a', tag: 'b}' }],
  ])('%s', (text, parts) => {
    expect(splitImageText(text)).toEqual(parts);
  });

  test('stays linear on hostile input', () => {
    const open = '${a:'.repeat(50_000);
    const nested = `${open}x${'}'.repeat(50_000)}`;
    const started = Date.now();
    const unterminated = splitImageText(`acme/shop:${open}`);
    const balanced = splitImageText(`acme/shop:${nested}`);
    expect(Date.now() - started).toBeLessThan(2000);
    // Unterminated: every ':' counts, so the tag is what follows the last one.
    expect([unterminated.repository.length, unterminated.tag]).toEqual(['acme/shop:'.length + open.length - 1, '']);
    // Balanced: one expression, so the tag is all of it.
    expect([balanced.repository, balanced.tag === nested]).toEqual(['acme/shop', true]);
  });
});

describe('matchImage against the pushed acme/shop', () => {
  const pushed = parseReference('acme/shop');
  test.each([
    ['acme/shop:1', 'same'],
    ['docker.io/acme/shop', 'same'],
    ['index.docker.io/acme/shop:2', 'same'],
    [`acme/shop@${DIGEST}`, 'same'],
    ['acme/shop:${IMAGE_VERSION}', 'same'],
    ['acme/shopper:1', 'other'],
    ['acme/sho', 'other'],
    ['ghcr.io/acme/shop', 'other'],
    ['localhost:5000/acme/shop', 'other'],
    ['${REGISTRY}/acme/shop:1', 'variable'],
    ['$REGISTRY/acme/shop:1', 'variable'],
    ['acme/shop:${TAG:-latest}', 'same'],
    ['acme/shop:${TAG-latest}', 'same'],
    ['acme/shop:${TAG:?set TAG}', 'same'],
    ['docker.io/acme/shop:${TAG:-1}', 'same'],
    [`acme/shop:\${TAG:-1}@${DIGEST}`, 'same'],
    ['acme/shopper:${TAG:-1}', 'other'],
    ['${REGISTRY:-docker.io}/acme/shop:${TAG:-1}', 'variable'],
    ['${REGISTRY:-127.0.0.1:5000}/acme/shop:${TAG:-1}', 'variable'],
    ['Acme/Shop:1', 'invalid'],
    ['', 'invalid'],
  ])('%s is %s', (text, kind) => {
    expect(matchImage(text, pushed).kind).toBe(kind);
  });

  test('library images match however they are spelled', () => {
    const nginx = parseReference('nginx');
    expect(
      ['nginx:1', 'library/nginx', 'docker.io/library/nginx:2', 'docker.io/nginx'].map((t) => matchImage(t, nginx).kind),
    ).toEqual(['same', 'same', 'same', 'same']);
  });

  test('a registry port is part of the repository', () => {
    const local = parseReference('localhost:5000/acme/shop');
    expect(matchImage('localhost:5000/acme/shop:1', local).kind).toBe('same');
    expect(matchImage('localhost:5001/acme/shop:1', local).kind).toBe('other');
    expect(matchImage('localhost/acme/shop:1', local).kind).toBe('other');
  });
});

describe('rewriteImage keeps the repository as spelled', () => {
  test.each([
    ['index.docker.io/acme/shop:1', '2', undefined, 'index.docker.io/acme/shop:2'],
    [`acme/shop:1@${DIGEST}`, '2', undefined, 'acme/shop:2'],
    ['acme/shop', '2', DIGEST, `acme/shop:2@${DIGEST}`],
    ['acme/shop:${IMAGE_VERSION}', '2', undefined, 'acme/shop:2'],
    ['localhost:5000/shop', 'v1', undefined, 'localhost:5000/shop:v1'],
    ['acme/shop:${TAG:-latest}', '2', undefined, 'acme/shop:2'],
    ['acme/shop:${TAG-latest}', '2', undefined, 'acme/shop:2'],
    ['acme/shop:${TAG:?set TAG}', '2', DIGEST, `acme/shop:2@${DIGEST}`],
    [`acme/shop:\${TAG:-1}@${DIGEST}`, '2', undefined, 'acme/shop:2'],
    ['${REGISTRY:-docker.io}/acme/shop:${TAG:-1}', '2', undefined, '${REGISTRY:-docker.io}/acme/shop:2'],
    ['${REGISTRY:-127.0.0.1:5000}/acme/shop:${TAG:-1}', '2', undefined, '${REGISTRY:-127.0.0.1:5000}/acme/shop:2'],
    ['${REGISTRY:-127.0.0.1:5000}/acme/shop', '2', undefined, '${REGISTRY:-127.0.0.1:5000}/acme/shop:2'],
  ])('%s -> tag %s', (text, tag, digest, after) => {
    expect(rewriteImage(text, tag, digest)).toBe(after);
  });
});

test.each([
  ['${REGISTRY}/shop:1', undefined],
  ['${REGISTRY}/acme/shop', undefined],
  ['${IMAGE}', 'the image name "${IMAGE}" is a variable, so the action cannot tell where its tag begins'],
  ['acme/${APP}:1', 'the image name "${APP}" is a variable, so the action cannot tell where its tag begins'],
  ['${REGISTRY:-127.0.0.1:5000}/acme/shop:${TAG:-1}', undefined],
  ['acme/shop:${TAG:-a/b}', undefined],
  ['acme/${APP:-shop}:1', 'the image name "${APP:-shop}" is a variable, so the action cannot tell where its tag begins'],
  ['acme/${APP:-a/shop}:1', 'the image name "${APP:-a/shop}" is a variable, so the action cannot tell where its tag begins'],
  [
    '${IMAGE:-acme/shop:1}',
    'the image name "${IMAGE:-acme/shop:1}" is a variable, so the action cannot tell where its tag begins',
  ],
])('unsafeToRewrite(%s)', (text, why) => {
  expect(unsafeToRewrite(text)).toBe(why);
});

test('env variables: only the exact ${NAME} form counts, and every use is interpolated', () => {
  expect(usesVariable('acme/shop:${IMAGE_VERSION}', 'IMAGE_VERSION')).toBe(true);
  expect(usesVariable('acme/shop:$IMAGE_VERSION', 'IMAGE_VERSION')).toBe(false);
  expect(usesVariable('acme/shop:${IMAGE_VERSION_2}', 'IMAGE_VERSION')).toBe(false);
  expect(interpolate('acme/shop:${V}-${V}', 'V', '7')).toBe('acme/shop:7-7');
});

describe('env variables with shell operators are not uses: Convox has no defaults', () => {
  test.each([
    ['acme/shop:${IMAGE_VERSION:-dev}', '${IMAGE_VERSION:-dev}'],
    ['acme/shop:${IMAGE_VERSION-dev}', '${IMAGE_VERSION-dev}'],
    ['acme/shop:${IMAGE_VERSION:?set it}', '${IMAGE_VERSION:?set it}'],
    ['acme/shop:${IMAGE_VERSION:-${OTHER}}', '${IMAGE_VERSION:-${OTHER}'],
    ['acme/shop:${IMAGE_VERSION}', undefined],
    ['acme/shop:${IMAGE_VERSION_2:-dev}', undefined],
    ['acme/shop:${OTHER:-${IMAGE_VERSION}}', undefined],
    ['acme/shop:$IMAGE_VERSION', undefined],
  ])('%s', (text, operator) => {
    expect(variableWithOperator(text, 'IMAGE_VERSION')).toBe(operator);
    if (operator) expect(usesVariable(text, 'IMAGE_VERSION')).toBe(false);
  });
});
