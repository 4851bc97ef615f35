/**
 * A repeated mapping key is refused where the deployer refuses it. Evidence from Go, in the
 * corpus reference (reference/yamlref): convox/convox's own pkg/manifest/testdata/balancers.yml
 * repeats a balancer port; gopkg.in/yaml.v2 (Convox) reads it, gopkg.in/yaml.v3 (Compose) refuses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';
import type { ManifestPlan } from '../../../src/manifest/index.js';
import { REFERENCE_JSON } from './yamlref.js';
import type { YamlRef } from './yamlref.js';

const plan = (file: string, yaml: string): ManifestPlan =>
  planManifestUpdate({
    file,
    bytes: Buffer.from(yaml),
    image: parseReference('acme/shop'),
    mode: 'manifest',
    envVar: 'IMAGE_VERSION',
    tag: 'v2',
  });

function refusal(file: string, yaml: string): ActionError {
  try {
    plan(file, yaml);
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const BALANCER_PORTS =
  'services:\n  web:\n    image: acme/shop:1\n    port: 8001\nbalancers:\n  legacy:\n    ports:\n      8000: 8001\n      8000: 8002\n    service: web\n';

describe('repeated keys, as each deployer reads them', () => {
  test('Go: Convox (yaml.v2) reads convox/convox’s balancers.yml, Compose (yaml.v3) refuses it', () => {
    const files = (JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as { files: Record<string, YamlRef> }).files;
    const ref = files['convox/convox/pkg/manifest/testdata/balancers.yml']!;
    expect(ref.convoxError).toBeUndefined();
    expect(ref.composeError).toMatch(/mapping key "8000" already defined/);
  });

  test('convox.yml: a repeat outside services is left as written, with a note', () => {
    const p = plan('convox.yml', BALANCER_PORTS);
    expect(p.after.toString()).toBe(BALANCER_PORTS.replace('acme/shop:1', 'acme/shop:v2'));
    expect(p.notes).toEqual([
      "convox.yml:9:7: key '8000' appears twice in the same mapping; YAML does not allow that and Compose would refuse the file, but Convox reads it (gopkg.in/yaml.v2 does not refuse a repeated key), and the action leaves it as written",
    ]);
  });

  test('a repeat outside services: read in convox.yml, refused in docker-compose.yml, at the repeated key', () => {
    const yaml = 'services:\n  web:\n    image: acme/shop:1\nnetworks:\n  front:\n    driver: bridge\n    driver: overlay\n';
    expect(plan('convox.yml', yaml).services.map((s) => s.after)).toEqual(['acme/shop:v2']);
    const e = refusal('docker-compose.yml', yaml);
    expect(e.message).toBe(
      `docker-compose.yml:7:5: key 'driver' appears twice in the same mapping (at "driver: overlay"); YAML does not allow duplicate keys`,
    );
    expect(e.place).toMatchObject({ line: 7, column: 5 });
  });

  test.each([
    ['a repeated service', 'services:\n  web:\n    image: acme/shop:1\n  web:\n    image: acme/shop:2\n', 4, 3, 'web'],
    ['a repeated key in a service', 'services:\n  web:\n    image: acme/shop:1\n    image: acme/shop:2\n', 4, 5, 'image'],
    [
      'a repeat in a mapping a service merges',
      'x-base: &base\n  image: acme/shop:1\n  image: acme/shop:2\nservices:\n  web:\n    "<<": *base\n',
      3,
      3,
      'image',
    ],
    [
      'services: itself repeated',
      'services:\n  web:\n    image: acme/shop:1\nservices:\n  api:\n    image: acme/shop:1\n',
      4,
      1,
      'services',
    ],
  ])('convox.yml: %s is refused (the action would read through it)', (_name, yaml, line, column, key) => {
    const e = refusal('convox.yml', yaml);
    expect(e.message).toMatch(new RegExp(`^convox\\.yml:${line}:${column}: key '${key}' appears twice in the same mapping`));
  });
});
