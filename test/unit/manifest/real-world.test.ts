/**
 * Files real projects ship that Compose and Convox load: each must be read, rewritten at exactly
 * the image bytes, and every position must be a line a person can find in an editor.
 */
import { load } from 'js-yaml';
import { parseDocument } from 'yaml';
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';
import type { ManifestPlan, ManifestPlanInput } from '../../../src/manifest/index.js';

const TAG = '20261122221530';

function plan(yaml: string | Buffer, input: Partial<Omit<ManifestPlanInput, 'bytes'>> = {}): ManifestPlan {
  return planManifestUpdate({
    file: 'docker-compose.yml',
    bytes: typeof yaml === 'string' ? Buffer.from(yaml) : yaml,
    image: parseReference('acme/shop'),
    mode: 'manifest',
    envVar: 'IMAGE_VERSION',
    tag: TAG,
    ...input,
  });
}

function refusal(yaml: string | Buffer, input: Partial<Omit<ManifestPlanInput, 'bytes'>> = {}): ActionError {
  try {
    plan(yaml, input);
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** getsentry/self-hosted's healthchecks, reduced: a flow sequence closed at its key's indentation. */
const FLOW_CLOSED_AT_KEY =
  'services:\n' +
  '  web:\n' +
  '    image: acme/shop:1\n' +
  '    healthcheck:\n' +
  '      test: [\n' +
  '        "CMD", "true"\n' +
  '      ]\n' +
  '      labels: {\n' +
  '        a: b\n' +
  '      }\n';

describe('a flow collection closed at its key’s indentation (getsentry/self-hosted)', () => {
  test('js-yaml 5 rejects it while the yaml package reads it: the disagreement this code tolerates', () => {
    // Minimal repro. YAML 1.2 wants flow continuation lines indented past the key; the yaml
    // package (lexer.js: "technically invalid, but failing here would be surprising"), js-yaml 4,
    // PyYAML and Go's yaml.v2/v3 (hence Compose and Convox) accept a closing bracket at the key's
    // column. When js-yaml accepts it too, this test fails and the shim in load.ts can go.
    const repro = 'a:\n  b: [\n    c\n  ]\n';
    expect(() => load(repro)).toThrow(/deficient indentation/);
    const doc = parseDocument(repro);
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual({ a: { b: ['c'] } });
  });

  test('the yaml package still refuses items at the key’s indentation, and so do we', () => {
    const error = refusal('services:\n  web:\n    image: acme/shop:1\n    command: [\n    "run"\n    ]\n');
    expect(error.message).toMatch(/^docker-compose\.yml:5:5: not valid YAML: /);
  });

  test('the file is rewritten at the image bytes only', () => {
    const result = plan(FLOW_CLOSED_AT_KEY);
    expect(result.after.toString()).toBe(FLOW_CLOSED_AT_KEY.replace('acme/shop:1', `acme/shop:${TAG}`));
    expect(result.services).toEqual([{ service: 'web', line: 3, column: 12, before: 'acme/shop:1', after: `acme/shop:${TAG}` }]);
  });

  test('an edit that broke such a file would still be caught by the re-parse', () => {
    const yaml = FLOW_CLOSED_AT_KEY.replace('"CMD", "true"', '"CMD", "true", &x y, *x');
    expect(plan(yaml).after.toString()).toContain(`acme/shop:${TAG}`);
  });
});

describe("Compose's merge tags and other local tags", () => {
  const yaml =
    'services:\n' +
    '  web:\n' +
    '    image: acme/shop:1\n' +
    '    volumes: !override\n' +
    '      - ./data:/data\n' +
    '    ports: !reset []\n' +
    '    environment: !reset null\n' +
    '    labels: !override {a: "1"}\n' +
    '    command: !custom run --fast\n' +
    'x-notes: !Ref something\n';

  test('!override, !reset and unknown local tags are read and kept as written', () => {
    const result = plan(yaml);
    expect(result.after.toString()).toBe(yaml.replace('acme/shop:1', `acme/shop:${TAG}`));
  });

  test('an image under !override is still the image, and its tag stays', () => {
    const text = 'services:\n  web:\n    image: !override acme/shop:1\n';
    expect(plan(text).after.toString()).toBe(`services:\n  web:\n    image: !override acme/shop:${TAG}\n`);
  });

  test('an image reset with !reset is no image: named, the service is refused for that reason', () => {
    const text = 'services:\n  web:\n    image: !reset null\n    build: .\n  api:\n    image: acme/shop:1\n';
    expect(plan(text).services.map((s) => s.service)).toEqual(['api']);
    const error = refusal(text, { services: ['web'] });
    expect(error.message).toBe(
      "docker-compose.yml:3:12: service 'web' resets its image with !reset, so there is no image reference to update",
    );
  });

  test('an image under an unknown tag is refused, naming the tag', () => {
    const error = refusal('services:\n  web:\n    image: !custom acme/shop:1\n', { services: ['web'] });
    expect(error.message).toContain("docker-compose.yml:3:12: service 'web': its image carries the tag !custom");
  });
});

describe('lone CR line breaks (classic Mac OS files)', () => {
  const cr = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r'));

  test('plan.services positions count a lone CR as a line break', () => {
    const result = plan(cr('services:\n  db:\n    image: redis\n  web:\n    image: acme/shop:1\n'));
    expect(result.services).toEqual([{ service: 'web', line: 5, column: 12, before: 'acme/shop:1', after: `acme/shop:${TAG}` }]);
    expect(result.after.equals(cr(`services:\n  db:\n    image: redis\n  web:\n    image: acme/shop:${TAG}\n`))).toBe(true);
  });

  test('a refusal points at the right line', () => {
    const error = refusal(cr('services:\n  cache:\n    image: redis:7\n'), { services: ['cache'] });
    expect(error.message).toMatch(/^docker-compose\.yml:3:12: service 'cache' runs redis/);
    expect(error.place).toMatchObject({ line: 3, column: 12 });
  });

  test('mixed CR, LF and CRLF count one line each, as YAML does', () => {
    const error = refusal(Buffer.from('services:\r\n  a:\r    image: x\n  cache:\r\n    image: redis:7\r'), {
      services: ['cache'],
    });
    expect(error.place).toMatchObject({ line: 5, column: 12 });
  });

  test('the env-mode suggestion names the right line', () => {
    const error = refusal(cr('services:\n  web:\n    image: acme/shop:1\n'), { mode: 'env' });
    expect(error.fix).toBe('change line 3 to:\n        image: acme/shop:${IMAGE_VERSION}');
  });
});

describe('include: files', () => {
  test('a compose file holding only include: says included files are not followed', () => {
    const error = refusal('include:\n  - path: ./web/compose.yaml\n  - ../db/compose.yaml\n');
    expect(error.message).toBe(
      'docker-compose.yml:1:1: defines no services of its own: it only includes other files (./web/compose.yaml, ../db/compose.yaml), which the action does not follow',
    );
    expect(error.fix).toBe(
      "set the manifest input to the included file that defines the service, e.g. 'manifest: web/compose.yaml'",
    );
  });

  test('with services too, a miss mentions the included files', () => {
    const error = refusal('include:\n  - other.yaml\nservices:\n  db:\n    image: redis\n');
    expect(error.message).toContain('the included files (other.yaml) are not followed');
  });
});
