import { describe, expect, it } from 'vitest';
import {
  digestProblem,
  familiarName,
  formatReference,
  isValidTag,
  parseReference,
  registryApiHost,
  sameRepository,
} from '../../../src/image/reference.js';

const SHA = `sha256:${'a'.repeat(64)}`;

describe('parseReference normalises like the Docker CLI', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['acme/shop', 'docker.io', 'acme/shop', undefined, undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['index.docker.io/acme/shop:v1', 'docker.io', 'acme/shop', 'v1', undefined],
    ['docker.io/library/nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['127.0.0.1:5055/acme/shop:1', '127.0.0.1:5055', 'acme/shop', '1', undefined],
    ['localhost/shop', 'localhost', 'shop', undefined, undefined],
    ['localhost:5000/a/b/c:latest', 'localhost:5000', 'a/b/c', 'latest', undefined],
    ['ghcr.io/acme/shop', 'ghcr.io', 'acme/shop', undefined, undefined],
    ['Registry.Example.com/acme/shop', 'Registry.Example.com', 'acme/shop', undefined, undefined],
    ['[::1]:5000/acme/shop:2', '[::1]:5000', 'acme/shop', '2', undefined],
    [`acme/shop@${SHA}`, 'docker.io', 'acme/shop', undefined, SHA],
    [`ghcr.io/acme/shop:20261122205500@${SHA}`, 'ghcr.io', 'acme/shop', '20261122205500', SHA],
    ['a/b_c/d__e/f-g/h---i/j.k', 'docker.io', 'a/b_c/d__e/f-g/h---i/j.k', undefined, undefined],
    // Docker reads a bare `host:port` as a tagged Hub image, and so do we.
    ['localhost:5000', 'docker.io', 'library/localhost', '5000', undefined],
    ['nginx:_Under.score-OK', 'docker.io', 'library/nginx', '_Under.score-OK', undefined],
  ])('%s', (text, registry, path, tag, digest) => {
    const ref = parseReference(text);
    expect(ref).toEqual({
      registry,
      path,
      tag,
      digest,
      repository: `${registry}/${path}`,
      original: text,
    });
  });
});

describe('parseReference rejects with the precise reason', () => {
  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['acme/ shop', 'it contains whitespace'],
    ['acme/Shop', 'repository name "acme/Shop" must be lowercase'],
    ['Acme/shop', 'repository name "Acme/shop" must be lowercase'],
    ['ghcr.io/Acme/shop', 'repository name "Acme/shop" must be lowercase'],
    ['nginx:', 'tag after ":" is empty'],
    ['nginx:-dash', 'tag "-dash" is invalid'],
    ['nginx:.dot', 'tag ".dot" is invalid'],
    ['nginx:a+b', 'tag "a+b" is invalid'],
    [`nginx:${'x'.repeat(129)}`, 'is 129 characters long; the limit is 128'],
    ['nginx@', 'digest after "@" is empty'],
    ['nginx@sha256:abc', 'sha256 digest must have 64 hex characters, got 3'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'must be lowercase hexadecimal'],
    [`nginx@md5:${'a'.repeat(32)}`, 'digest algorithm "md5" is not supported'],
    ['nginx@abc', 'must look like sha256:'],
    ['acme//shop', 'empty path component'],
    ['acme/shop/', 'empty path component'],
    ['ghcr.io/', 'repository path is empty'],
    ['acme/-shop', 'path component "-shop" of "acme/-shop" is invalid'],
    ['acme/sh..op', 'path component "sh..op"'],
    ['acme/sh___op', 'path component "sh___op"'],
    ['bad_host.io/acme/shop', 'registry host "bad_host.io" is invalid'],
    ['-bad.io/acme/shop', 'registry host "-bad.io" is invalid'],
    ['a'.repeat(64), 'is an image ID'],
    [`ghcr.io/${'a'.repeat(256)}`, 'repository path is 256 characters long; the limit is 255 (the registry host does not count)'],
  ])('%j', (text, reason) => {
    expect(() => parseReference(text)).toThrow(`invalid image reference "${text}": `);
    expect(() => parseReference(text)).toThrow(reason);
  });

  it('counts the repository path against the 255 limit, not the host (distribution/reference v0.6)', () => {
    expect(parseReference(`example.com/${'a'.repeat(255)}`).path).toHaveLength(255);
    expect(() => parseReference(`example.com/${'a'.repeat(256)}`)).toThrow('repository path is 256 characters long');
    // A one-component Docker Hub name is `library/<name>`, and `library/` counts.
    expect(parseReference('a'.repeat(247)).path).toHaveLength(255);
    expect(() => parseReference('a'.repeat(248))).toThrow('repository path is 256 characters long');
  });
});

describe('isValidTag', () => {
  it.each([
    ['latest', true],
    ['20261122205500', true],
    ['v3.0.2', true],
    ['_x', true],
    ['A-b_c.D', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['-x', false],
    ['.x', false],
    ['feature/x', false],
    ['a b', false],
    ['é', false],
  ])('%j → %s', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
  });
});

describe('digestProblem', () => {
  it.each([
    [SHA, undefined],
    [`sha512:${'0'.repeat(128)}`, undefined],
    [`sha384:${'0'.repeat(96)}`, undefined],
    [`sha512:${'0'.repeat(64)}`, 'sha512 digest must have 128 hex characters, got 64'],
    [':abc', 'must look like sha256:'],
  ])('%s', (digest, problem) => {
    expect(digestProblem(digest)).toEqual(problem === undefined ? undefined : expect.stringContaining(problem));
  });
});

describe('formatReference', () => {
  it.each([
    [{ repository: 'docker.io/library/nginx', tag: '1' }, false, 'docker.io/library/nginx:1'],
    [{ repository: 'docker.io/library/nginx', tag: '1' }, true, 'nginx:1'],
    [{ repository: 'docker.io/acme/shop' }, true, 'acme/shop'],
    [{ repository: 'docker.io/library/a/b' }, true, 'library/a/b'],
    [{ registry: '127.0.0.1:5055', path: 'acme/shop', tag: '1', digest: SHA }, true, `127.0.0.1:5055/acme/shop:1@${SHA}`],
    [{ registry: 'ghcr.io', path: 'acme/shop', digest: SHA }, false, `ghcr.io/acme/shop@${SHA}`],
  ])('%j familiar=%s', (parts, familiar, expected) => {
    expect(formatReference(parts, familiar)).toBe(expected);
  });

  it.each(['nginx', 'acme/shop:v1', `127.0.0.1:5055/acme/shop:1@${SHA}`, 'ghcr.io/a/b'])(
    'round-trips %s through parse and familiar format',
    (text) => {
      expect(formatReference(parseReference(text), true)).toBe(text);
    },
  );
});

describe('familiarName', () => {
  it.each([
    ['docker.io/library/nginx', 'nginx'],
    ['docker.io/acme/shop', 'acme/shop'],
    ['ghcr.io/library/nginx', 'ghcr.io/library/nginx'],
  ])('%s → %s', (repository, familiar) => {
    expect(familiarName(repository)).toBe(familiar);
  });
});

describe('sameRepository', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:1', true],
    ['index.docker.io/acme/shop', `acme/shop@${SHA}`, true],
    ['Registry.Example.com/acme/shop', 'registry.example.com/acme/shop:2', true],
    ['127.0.0.1:5055/acme/shop', '127.0.0.1:5056/acme/shop', false],
    ['127.0.0.1:5055/acme/shop', 'localhost:5055/acme/shop', false],
    ['acme/shop', 'acme/shop2', false],
    ['ghcr.io/acme/shop', 'acme/shop', false],
  ])('%s vs %s → %s', (a, b, same) => {
    expect(sameRepository(parseReference(a), parseReference(b))).toBe(same);
  });
});

describe('registryApiHost', () => {
  it.each([
    ['nginx', 'registry-1.docker.io'],
    ['127.0.0.1:5055/acme/shop', '127.0.0.1:5055'],
    ['ghcr.io/acme/shop', 'ghcr.io'],
  ])('%s → %s', (text, host) => {
    expect(registryApiHost(parseReference(text))).toBe(host);
    expect(registryApiHost(parseReference(text).registry)).toBe(host);
  });
});
