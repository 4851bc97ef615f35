/**
 * Merge keys as the deployers read them. The expected images come from Go's own YAML libraries
 * (test/fixtures/manifests/reference/yamlref): for convox.yml, the exact decoding path of
 * convox/convox's pkg/manifest (yaml.v2 MapSlice, then remarshal per service), for
 * docker-compose.yml, yaml.v3. A quoted "<<" is a merge for Convox but a plain key for Compose;
 * a plain <<: inside services is dropped by Convox and applied by Compose.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';

interface Vector {
  name: string;
  yaml: string;
  convox: Record<string, string>;
  compose: Record<string, string>;
}

const vectors = (
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../fixtures/manifests/reference/merge-keys.json'), 'utf8')) as {
    cases: Vector[];
  }
).cases;

/** The service → image the plan reads, for every service whose image is in the acme/shop repository. */
function planned(file: string, yaml: string): Record<string, string> {
  try {
    const plan = planManifestUpdate({
      file,
      bytes: Buffer.from(yaml),
      image: parseReference('acme/shop'),
      mode: 'manifest',
      envVar: 'IMAGE_VERSION',
      tag: 'new',
    });
    return Object.fromEntries(plan.services.map((s) => [s.service, s.before]));
  } catch (e) {
    if (e instanceof ActionError && e.message.includes('no service uses the image')) return {};
    throw e;
  }
}

const withImage = (images: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(images).filter(([, image]) => image.startsWith('acme/shop')));

describe('merge keys read as the deployer reads them', () => {
  test.each(vectors)('convox.yml: $name', (v) => {
    expect(planned('convox.yml', v.yaml)).toEqual(withImage(v.convox));
  });

  test.each(vectors)('docker-compose.yml: $name', (v) => {
    expect(planned('docker-compose.yml', v.yaml)).toEqual(withImage(v.compose));
  });
});

describe('what a person is told about merge keys', () => {
  const canary = 'services:\n  web: &web\n    image: acme/shop:3\n  canary:\n    <<: *web\n    command: canary\n';

  test('Convox ignores a plain <<: in a service: naming the service says so', () => {
    let error: unknown;
    try {
      planManifestUpdate({
        file: 'convox.yml',
        bytes: Buffer.from(canary),
        image: parseReference('acme/shop'),
        mode: 'manifest',
        envVar: 'IMAGE_VERSION',
        tag: 'new',
        services: ['canary'],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).message).toBe(
      "convox.yml:5:5: service 'canary' has no image: of its own, and Convox ignores the <<: merge key inside services (its YAML decoding drops the merged settings), so it builds 'canary' from source",
    );
    expect((error as ActionError).fix).toBe(
      `give 'canary' its own image: line, or quote the merge key ("<<": *web), which Convox applies`,
    );
  });

  test('the auto-matched plan notes the service Convox will not point at the image', () => {
    const plan = planManifestUpdate({
      file: 'convox.yml',
      bytes: Buffer.from(canary),
      image: parseReference('acme/shop'),
      mode: 'manifest',
      envVar: 'IMAGE_VERSION',
      tag: 'new',
    });
    expect(plan.services.map((s) => s.service)).toEqual(['web']);
    expect(plan.notes).toEqual([
      "service 'canary' merges its settings with <<: (line 5), which Convox ignores inside services; it was left out and Convox builds it from source",
    ]);
  });

  test('Compose reads a quoted "<<" as a plain key: naming the service says so', () => {
    let error: unknown;
    try {
      planManifestUpdate({
        file: 'docker-compose.yml',
        bytes: Buffer.from('x-a: &a\n  image: acme/shop:1\nservices:\n  web:\n    "<<": *a\n'),
        image: parseReference('acme/shop'),
        mode: 'manifest',
        envVar: 'IMAGE_VERSION',
        tag: 'new',
        services: ['web'],
      });
    } catch (e) {
      error = e;
    }
    expect((error as ActionError).message).toBe(
      `docker-compose.yml:5:5: service 'web' has no image: of its own, and its merge key is quoted ("<<"), which YAML and Compose read as a plain key, not a merge`,
    );
    expect((error as ActionError).fix).toBe('write the merge key without quotes: <<: *a');
  });
});
