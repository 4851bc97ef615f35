import { describe, expect, test } from 'vitest';
import { entries, keyString, lookup } from '../../../src/manifest/mapping.js';
import { parseManifest } from '../../../src/manifest/parse.js';
import { detectKind, imageText, listServices } from '../../../src/manifest/services.js';
import { decodeManifest } from '../../../src/manifest/source.js';
import { deref } from '../../../src/manifest/yaml-tree.js';
import type { MapNode } from '../../../src/manifest/yaml-tree.js';

const parse = (file: string, yaml: string) => {
  const src = decodeManifest(file, Buffer.from(yaml));
  return { src, ...parseManifest(src) };
};

describe('detectKind', () => {
  test.each([
    ['convox.yml', 'services:\n  web: {}\n', 'convox'],
    ['convox.yaml', 'services:\n  web: {}\n', 'convox'],
    ['apps/shop/convox.staging.yml', 'services:\n  web: {}\n', 'convox'],
    ['manifest.yml', 'resources:\n  db: {type: postgres}\nservices:\n  web: {}\n', 'convox'],
    ['manifest.yml', 'services:\n  web: {}\ntimers:\n  t: {}\n', 'convox'],
    ['docker-compose.yml', 'version: "3"\nservices:\n  web: {}\n', 'compose'],
    ['compose.yaml', 'services:\n  web: {}\n', 'compose'],
    ['docker-compose.yml', 'version: "2"\n', 'compose'],
    ['docker-compose.yml', 'web:\n  image: a\n', 'compose-v1'],
  ])('%s %j is %s', (file, yaml, kind) => {
    expect(detectKind(file, parse(file, yaml).root)).toBe(kind);
  });
});

describe('listServices', () => {
  test('names, images, build flags and value paths for each kind', () => {
    const { src, root } = parse(
      'convox.yml',
      'services:\n  web:\n    build: .\n    image: acme/shop:1\n  worker:\n  "quoted name": {image: x}\n',
    );
    const services = listServices(src, 'convox', root);
    expect(services.map((s) => [s.name, imageText(s), s.hasBuild, s.imagePath.join('.')])).toEqual([
      ['web', 'acme/shop:1', true, 'services.web.image'],
      ['worker', undefined, false, 'services.worker.image'],
      ['quoted name', 'x', false, 'services.quoted name.image'],
    ]);
  });

  test('compose v1 skips top-level values that are not service mappings', () => {
    const { src, root } = parse('docker-compose.yml', 'web:\n  image: a\nnote: just a string\n');
    expect(listServices(src, 'compose-v1', root).map((s) => s.imagePath.join('.'))).toEqual(['web.image']);
  });

  test('a service that is a string is refused with its position', () => {
    const { src, root } = parse('convox.yml', 'services:\n  web: acme/shop:1\n');
    expect(() => listServices(src, 'convox', root)).toThrow("convox.yml:2:3: service 'web' must be a mapping of settings");
  });
});

describe('mappings read like the loader reads them', () => {
  test.each([
    ['own keys win over merged ones, wherever they appear', 's:\n  <<: {image: a}\n  image: b\n'],
    ['the first merged mapping wins', 'x: &x {image: a}\ny: &y {image: b}\ns:\n  <<: [*y, *x]\n'],
    ['merges nest', 'x: &x {image: a}\ny: &y {<<: *x, q: 1}\ns:\n  <<: *y\n'],
    ['two merge keys: the first wins', 's:\n  <<: {image: a}\n  <<: {image: b}\n'],
    ['an explicit !!merge tag', 's:\n  !!merge <<: {image: a}\n'],
    ['a quoted "<<" is an ordinary key', 's:\n  "<<": {image: a}\n  image: c\n'],
  ])('%s', (_name, yaml) => {
    const { root, value } = parse('f.yml', yaml);
    const s = deref(lookup(root, 's')!.value) as MapNode;
    const image = deref(lookup(s, 'image')!.value);
    const loaded = (value as Record<string, Record<string, unknown>>).s!;
    expect(image.kind === 'scalar' ? image.value : undefined).toBe(loaded.image);
    expect(
      entries(s)
        .map((e) => e.key)
        .sort(),
    ).toEqual(Object.keys(loaded).sort());
  });

  test.each([
    ['web', 'web'],
    ['~', 'null'],
    ['null', 'null'],
    ['true', 'true'],
    ['0x1F', '31'],
    ['1.50', '1.5'],
    ["'~'", '~'],
  ])('key %s is stored as %s', (key, stored) => {
    const { root, value } = parse('f.yml', `${key}: 1\n`);
    expect(keyString(root.pairs[0]!.key)).toBe(stored);
    expect(Object.keys(value)).toEqual([stored]);
  });
});
