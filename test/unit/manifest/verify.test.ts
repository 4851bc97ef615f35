import { describe, expect, test } from 'vitest';
import { differences, valueAt, verifyEdit } from '../../../src/manifest/verify.js';

const before = { services: { web: { image: 'a:1', ports: [1, 2] }, db: { image: 'pg' } }, 'x-a.b': { image: 'a:1' } };

describe('verifyEdit', () => {
  test('accepts exactly the intended change', () => {
    const after = structuredClone(before);
    after.services.web.image = 'a:2';
    expect(verifyEdit(before, after, [{ path: ['services', 'web', 'image'], after: 'a:2' }])).toBeUndefined();
  });

  test('names a path that changed without being intended', () => {
    const after = structuredClone(before);
    after.services.web.image = 'a:2';
    after['x-a.b'].image = 'a:2';
    after.services.web.ports[1] = 3;
    expect(verifyEdit(before, after, [{ path: ['services', 'web', 'image'], after: 'a:2' }])).toBe(
      'the edit would also change services.web.ports[1], ["x-a.b"].image',
    );
  });

  test('an intended value that reads back as something else', () => {
    const after = structuredClone(before) as unknown as { services: { web: { image: unknown } } };
    after.services.web.image = 2;
    expect(verifyEdit(before, after, [{ path: ['services', 'web', 'image'], after: 'a:2' }])).toBe(
      'services.web.image would read back as 2 instead of "a:2"',
    );
  });

  test('added and removed keys count as differences', () => {
    expect(differences({ a: 1 }, { a: 1, b: 2 })).toEqual([['b']]);
    expect(differences({ a: [1] }, { a: [1, 2] })).toEqual([['a']]);
    expect(differences({ a: null }, { a: 0 })).toEqual([['a']]);
  });

  test('valueAt follows keys and indexes', () => {
    expect(valueAt(before, ['services', 'web', 'ports', 1])).toBe(2);
    expect(valueAt(before, ['services', 'nope', 'image'])).toBeUndefined();
    expect(valueAt(before, ['services', 'web', 'ports', 'length'])).toBeUndefined();
  });
});
