/**
 * Env mode points the rack at `<pushed repository>:${IMAGE_VERSION}`: the variable must be exactly
 * the tag of the pushed repository, or the rack would pull a reference that was never pushed.
 */
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';

function attempt(image: string, services: string[] | undefined = ['web']): unknown {
  try {
    return planManifestUpdate({
      file: 'convox.yml',
      bytes: Buffer.from(`services:\n  web:\n    image: ${image} # the app\n`),
      image: parseReference('registry.example.com/acme/shop'),
      mode: 'env',
      envVar: 'IMAGE_VERSION',
      tag: 'new-tag',
      services,
    });
  } catch (e) {
    return e;
  }
}

describe('env mode refuses a variable that is not exactly the tag', () => {
  test.each([
    ['${IMAGE_VERSION}', 'is the whole image'],
    ['${IMAGE_VERSION}/web:1', 'is not the tag'],
    ['registry.example.com/acme/shop:v-${IMAGE_VERSION}', 'is not the whole tag'],
    ['registry.example.com/acme/shop:${IMAGE_VERSION}-slim', 'is not the whole tag'],
    ['registry.example.com/acme/${IMAGE_VERSION}:1', 'is not the tag'],
    ['"registry.example.com/acme/shop@${IMAGE_VERSION}"', 'is not the tag'],
  ])('%s', (image, why) => {
    const error = attempt(image) as ActionError;
    expect(error).toBeInstanceOf(ActionError);
    expect(error.message).toMatch(/^convox\.yml:3:12: /);
    expect(error.message).toContain(`\${IMAGE_VERSION} ${why}`);
    expect(error.message).toContain('a reference that was never pushed');
    const open = image.startsWith('"') ? '"' : '';
    expect(error.fix).toBe(
      `change line 3 to:\n        image: ${open}registry.example.com/acme/shop:\${IMAGE_VERSION}${open} # the app`,
    );
  });

  test('the exact form is accepted and says what the rack will pull', () => {
    const result = attempt('registry.example.com/acme/shop:${IMAGE_VERSION}') as { services: unknown[] };
    expect(result.services).toEqual([
      {
        service: 'web',
        line: 3,
        column: 12,
        before: 'registry.example.com/acme/shop:${IMAGE_VERSION}',
        after: 'registry.example.com/acme/shop:new-tag',
      },
    ]);
  });

  test('a variable registry is kept, as in manifest mode, when the tag is exactly the variable', () => {
    const result = attempt('${REGISTRY}/acme/shop:${IMAGE_VERSION}') as { services: { after: string }[] };
    expect(result.services[0]?.after).toBe('${REGISTRY}/acme/shop:new-tag');
  });
});
