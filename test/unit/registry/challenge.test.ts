import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../src/registry/challenge.js';

describe('parseChallenge', () => {
  it.each([
    ['Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
      },
    ],
    // Commas inside quotes belong to the value (push and pull scopes).
    [
      'Bearer realm="https://r/t", scope="repository:a/b:pull,push" ,service=reg',
      { scheme: 'bearer', params: { realm: 'https://r/t', scope: 'repository:a/b:pull,push', service: 'reg' } },
    ],
    ['bearer Realm="x\\"y"', { scheme: 'bearer', params: { realm: 'x"y' } }],
    ['Basic', { scheme: 'basic', params: {} }],
    ['', undefined],
    [null, undefined],
  ])('%j', (header, challenge) => {
    expect(parseChallenge(header)).toEqual(challenge);
  });
});
