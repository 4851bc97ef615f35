import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/docker/reference.js';
import { interpolate, matchImage, rewriteImage, splitImageText, unsafeToRewrite, usesVariable } from '../../../src/manifest/image-text.js';

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
    ['Acme/Shop:1', 'invalid'],
    ['', 'invalid'],
  ])('%s is %s', (text, kind) => {
    expect(matchImage(text, pushed).kind).toBe(kind);
  });

  test('library images match however they are spelled', () => {
    const nginx = parseReference('nginx');
    expect(['nginx:1', 'library/nginx', 'docker.io/library/nginx:2', 'docker.io/nginx'].map((t) => matchImage(t, nginx).kind)).toEqual(['same', 'same', 'same', 'same']);
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
  ])('%s -> tag %s', (text, tag, digest, after) => {
    expect(rewriteImage(text, tag, digest)).toBe(after);
  });
});

test.each([
  ['${REGISTRY}/shop:1', undefined],
  ['${REGISTRY}/acme/shop', undefined],
  ['${IMAGE}', 'the image name "${IMAGE}" is a variable, so the action cannot tell where its tag begins'],
  ['acme/${APP}:1', 'the image name "${APP}" is a variable, so the action cannot tell where its tag begins'],
])('unsafeToRewrite(%s)', (text, why) => {
  expect(unsafeToRewrite(text)).toBe(why);
});

test('env variables: only the exact ${NAME} form counts, and every use is interpolated', () => {
  expect(usesVariable('acme/shop:${IMAGE_VERSION}', 'IMAGE_VERSION')).toBe(true);
  expect(usesVariable('acme/shop:$IMAGE_VERSION', 'IMAGE_VERSION')).toBe(false);
  expect(usesVariable('acme/shop:${IMAGE_VERSION_2}', 'IMAGE_VERSION')).toBe(false);
  expect(interpolate('acme/shop:${V}-${V}', 'V', '7')).toBe('acme/shop:7-7');
});
