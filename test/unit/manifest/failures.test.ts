/**
 * Every way planManifestUpdate refuses: the message a person reads, where it points, the fix,
 * and that no plan (hence no bytes to write) comes out.
 */
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';
import type { ManifestPlanInput } from '../../../src/manifest/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

interface Row {
  name: string;
  yaml: string | Buffer;
  file?: string;
  input?: Partial<Omit<ManifestPlanInput, 'bytes'>>;
  message: string | RegExp;
  at?: { line: number; column: number };
  fix?: string | RegExp;
}

const rows: Row[] = [
  {
    name: 'malformed YAML points at the line and gives the parser reason',
    yaml: 'services:\n  web:\n    image: [acme/shop:1\n',
    message: /^convox\.yml:4:1: not valid YAML: .+/,
    at: { line: 4, column: 1 },
    fix: 'fix the YAML syntax at that position',
  },
  {
    name: 'a tab in the indentation',
    yaml: 'services:\n\tweb:\n    image: acme/shop:1\n',
    message: 'convox.yml:2:1: not valid YAML: tab characters must not be used in indentation',
    at: { line: 2, column: 1 },
  },
  { name: 'an empty file', yaml: '', message: 'convox.yml: is empty (no YAML content, only whitespace or comments)' },
  { name: 'only comments and blank lines', yaml: '# nothing yet\n\n   \n# todo\n', message: 'convox.yml: is empty' },
  { name: 'only a BOM', yaml: Buffer.from([0xef, 0xbb, 0xbf]), message: 'convox.yml: is empty' },
  { name: 'a lone document marker', yaml: '---\n', message: 'convox.yml: is empty' },
  {
    name: 'several documents',
    yaml: 'services:\n  web:\n    image: acme/shop:1\n---\nservices: {}\n',
    message: 'convox.yml: holds 2 YAML documents (separated by ---); a manifest is one document',
  },
  {
    name: 'a list at the top level',
    yaml: '- web\n- worker\n',
    message: 'convox.yml:1:1: the top level must be a mapping',
    at: { line: 1, column: 1 },
  },
  {
    name: 'duplicate service keys',
    yaml: 'services:\n  web:\n    image: acme/shop:1\n  web:\n    image: acme/shop:2\n',
    message: `convox.yml:4:3: key 'web' appears twice in the same mapping (at "web:"); YAML does not allow duplicate keys`,
    at: { line: 4, column: 3 },
    fix: 'remove or merge one of the two entries',
  },
  {
    name: 'duplicate quoted keys in a flow mapping',
    yaml: 'services:\n  web: {"image": acme/shop:1, "image": acme/shop:2}\n',
    message: `convox.yml:2:31: key 'image' appears twice in the same mapping (at "web: {"image": acme/shop:1, "image": acme/shop:2}")`,
    at: { line: 2, column: 31 },
  },
  {
    name: 'a duplicate key is named even when an unknown alias follows',
    yaml: 'services:\n  web:\n    image: acme/shop:1\n    image: acme/shop:2\n    env: *nope\n',
    message: `convox.yml:4:5: key 'image' appears twice in the same mapping (at "image: acme/shop:2")`,
  },
  {
    name: 'an alias to the collection that contains it',
    yaml: 'x-b: &b\n  image: acme/shop:2\n  web:\n    <<: *b\nservices:\n  web:\n    image: acme/shop:1\n',
    message: 'convox.yml:4:9: the alias *b refers to a collection that contains it',
    at: { line: 4, column: 9 },
  },
  {
    name: 'an alias used before its anchor',
    yaml: 'services:\n  web:\n    image: *img\nx-img: &img acme/shop:1\n',
    message: 'convox.yml:3:13: not valid YAML: unidentified alias "img"',
  },
  {
    name: 'aliases that expand exponentially ("billion laughs")',
    yaml:
      'x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n' +
      Array.from({ length: 8 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]\n`).join('') +
      'services:\n  web:\n    image: acme/shop:1\n',
    message:
      'convox.yml: cannot check where the image values are used: the document expands to more than 200000 values through aliases',
  },
  {
    name: 'invalid UTF-8',
    yaml: Buffer.concat([Buffer.from('services:\n  web:\n    image: acme/shop:1 # caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    message: 'convox.yml is not valid UTF-8 text (first bad byte at offset 45)',
    fix: 'save the manifest as UTF-8',
  },
  {
    name: 'services: is a list',
    yaml: 'services:\n  - web\n',
    message: "convox.yml:2:3: 'services:' must be a mapping of settings",
    at: { line: 2, column: 3 },
  },
  {
    name: 'no service uses the image: every service is listed with its image',
    yaml: 'services:\n  web:\n    build: .\n  db:\n    image: postgres:16\n  other:\n    image: acme/shopper:1\n  preview:\n    image: ${REGISTRY}/shop:1\n  bad:\n    image: Acme/Shop:1\n  odd:\n    image: [1]\n  plain:\n',
    message:
      'convox.yml: no service uses the image acme/shop, so there is nothing to point at the new tag. Services:\n' +
      '  - web: build: only, no image:\n' +
      '  - db: postgres:16\n' +
      '  - other: acme/shopper:1\n' +
      '  - preview: ${REGISTRY}/shop:1 (a variable in the repository; name the service in the services input to update it)\n' +
      '  - bad: Acme/Shop:1 (not a valid image reference)\n' +
      '  - odd: image: is not a string\n' +
      '  - plain: no image:',
    fix: 'set image: acme/shop:<tag> on the services to update, or name them in the services input',
  },
  {
    name: 'no services at all',
    yaml: 'resources:\n  db:\n    type: postgres\n',
    message: 'convox.yml: defines no services (read as convox.yml)',
  },
  {
    name: 'a named service does not exist',
    yaml: 'services:\n  web:\n    image: acme/shop:1\n  worker:\n    image: acme/shop:1\n',
    input: { services: ['web', 'wrker', 'api'] },
    message: "convox.yml: has no service named 'wrker', 'api' (services: web, worker)",
    fix: 'correct the names in the services input',
  },
  {
    name: 'a named compose service has build: and no image:',
    file: 'docker-compose.yml',
    yaml: 'services:\n  web:\n    build: .\n',
    input: { services: ['web'] },
    message: "docker-compose.yml:2:3: service 'web' has build: and no image:, so there is no image reference to update",
    at: { line: 2, column: 3 },
    fix: `add "image: acme/shop:<tag>" to 'web', or leave it out of the services input`,
  },
  {
    name: 'a named convox service without image: is built from source',
    yaml: 'services:\n  web:\n    port: 3000\n',
    input: { services: ['web'] },
    message: "convox.yml:2:3: service 'web' has no image: (Convox builds it from source)",
  },
  {
    name: 'a named service runs another repository',
    yaml: 'services:\n  cache:\n    image: redis:7\n',
    input: { services: ['cache'] },
    message: "convox.yml:3:12: service 'cache' runs redis, not the pushed acme/shop; only its tag would change",
    at: { line: 3, column: 12 },
    fix: "remove 'cache' from the services input, or change its image: to acme/shop first",
  },
  {
    name: 'positions of quoted values point at the opening quote',
    yaml: "x-img: &img 'acme/shop:1'\nservices:\n  web:\n    image: *img\n  worker:\n    image: *img\n",
    input: { services: ['web'] },
    message: "convox.yml:1:13: the anchored value &img is also the image of service 'worker'",
    at: { line: 1, column: 13 },
  },
  {
    name: 'a named service has an invalid reference',
    yaml: 'services:\n  web:\n    image: Acme/Shop:1\n',
    input: { services: ['web'] },
    message: `convox.yml:3:12: service 'web': invalid image reference "Acme/Shop": repository name "Acme/Shop" must be lowercase`,
  },
  {
    name: 'a named service whose whole image is a variable (manifest mode)',
    yaml: 'services:\n  web:\n    image: ${IMAGE}\n',
    input: { services: ['web'] },
    message: `convox.yml:3:12: service 'web': cannot rewrite "\${IMAGE}": the image name "\${IMAGE}" is a variable, so the action cannot tell where its tag begins`,
    fix: 'write the repository literally',
  },
  {
    name: 'env mode, and the image does not use the variable: the line to write is shown',
    yaml: 'services:\n  web:\n    image: acme/shop:1.0 # old\n',
    input: { mode: 'env' },
    message:
      "convox.yml:3:12: update is 'env' but the image of service 'web' (\"acme/shop:1.0\") does not use ${IMAGE_VERSION}, so setting IMAGE_VERSION would not change what it runs",
    at: { line: 3, column: 12 },
    fix: 'change line 3 to:\n        image: acme/shop:${IMAGE_VERSION} # old',
  },
  {
    name: 'env mode with another variable name',
    yaml: "services:\n  web: {image: 'acme/shop:${IMAGE_VERSION}'}\n",
    input: { mode: 'env', envVar: 'APP_TAG' },
    message: /does not use \$\{APP_TAG\}, so setting APP_TAG would not change what it runs$/,
    fix: "change line 2 to:\n      web: {image: 'acme/shop:${APP_TAG}'}",
  },
  {
    name: 'env mode with a digest in the manifest',
    yaml: `services:\n  web:\n    image: acme/shop:\${IMAGE_VERSION}@${DIGEST}\n`,
    input: { mode: 'env' },
    message: `pins the digest ${DIGEST}, which wins over any tag`,
  },
  {
    name: 'env mode on a build-only service',
    file: 'docker-compose.yml',
    yaml: 'services:\n  web:\n    build: .\n',
    input: { mode: 'env', services: ['web'] },
    message: "service 'web' has build: and no image:",
  },
  {
    name: 'a merged image shared with a service that is not chosen',
    file: 'docker-compose.yml',
    yaml: 'x-app: &app\n  image: acme/shop:1\nservices:\n  web:\n    <<: *app\n  worker:\n    <<: *app\n',
    input: { services: ['web'] },
    message:
      "docker-compose.yml:2:10: the anchored value &app is also the image of service 'worker', which is not being updated; rewriting it would change both",
    at: { line: 2, column: 10 },
    fix: "add 'worker' to the services input, or give 'worker' its own image: line",
  },
  {
    name: "a service's own anchored image used by another service",
    yaml: 'services:\n  web:\n    image: &img acme/shop:1\n  worker:\n    image: *img\n',
    input: { services: ['worker'] },
    message: "convox.yml:3:17: the anchored value &img is also the image of service 'web', which is not being updated",
  },
  {
    name: 'an anchored image also used inside a service for something else',
    yaml: 'services:\n  web:\n    labels:\n      built-from: &img acme/shop:1\n    image: *img\n',
    message: 'the anchored value &img is also used at services.web.labels.built-from, which is not a service image',
  },
  {
    name: 'a folded block scalar image',
    yaml: 'services:\n  web:\n    image: >-\n      acme/shop:1\n',
    message:
      "convox.yml:4:1: cannot rewrite the image of service 'web': it is a folded block scalar; write the image on one line",
    fix: 'write it as image: acme/shop:20261122221530',
  },
  {
    name: 'a double-quoted image broken over two lines',
    yaml: 'services:\n  web:\n    image: "acme/shop:\\\n      1"\n',
    message: "cannot rewrite the image of service 'web': it spans several lines; write the image on one line",
  },
];

function attempt(row: Row): unknown {
  const bytes = typeof row.yaml === 'string' ? Buffer.from(row.yaml) : row.yaml;
  try {
    return planManifestUpdate({
      file: row.file ?? 'convox.yml',
      bytes,
      image: parseReference('acme/shop'),
      mode: 'manifest',
      envVar: 'IMAGE_VERSION',
      tag: '20261122221530',
      ...row.input,
    });
  } catch (e) {
    return e;
  }
}

describe('planManifestUpdate refuses', () => {
  test.each(rows)('$name', (row) => {
    const result = attempt(row);
    expect(result).toBeInstanceOf(ActionError);
    const error = result as ActionError;
    if (typeof row.message === 'string') expect(error.message).toContain(row.message);
    else expect(error.message).toMatch(row.message);
    expect(error.place.phase).toBe('manifest');
    expect(error.place.file).toBe(row.file ?? 'convox.yml');
    if (row.at) expect({ line: error.place.line, column: error.place.column }).toEqual(row.at);
    if (typeof row.fix === 'string') expect(error.fix).toContain(row.fix);
    else if (row.fix) expect(error.fix).toMatch(row.fix);
  });

  test('the text a person reads carries the fix on its own line', () => {
    const error = attempt({
      name: '',
      yaml: 'services:\n  web:\n    build: .\n',
      file: 'docker-compose.yml',
      input: { services: ['web'] },
      message: '',
    }) as ActionError;
    expect(error.describe()).toBe(
      "docker-compose.yml:2:3: service 'web' has build: and no image:, so there is no image reference to update\n" +
        `  Fix: add "image: acme/shop:<tag>" to 'web', or leave it out of the services input`,
    );
  });

  test.each([
    { tag: 'has space', message: 'cannot point convox.yml at tag "has space": not a valid Docker tag' },
    { tag: '-leading-dash', message: 'not a valid Docker tag' },
    { tag: 'x'.repeat(129), message: 'not a valid Docker tag' },
  ])('an invalid tag: $tag', ({ tag, message }) => {
    const error = attempt({
      name: '',
      yaml: 'services:\n  web:\n    image: acme/shop:1\n',
      input: { tag },
      message: '',
    }) as ActionError;
    expect(error).toBeInstanceOf(ActionError);
    expect(error.message).toContain(message);
  });

  test('an invalid digest', () => {
    const error = attempt({
      name: '',
      yaml: 'services:\n  web:\n    image: acme/shop:1\n',
      input: { digest: 'sha256:abc' },
      message: '',
    }) as ActionError;
    expect(error.message).toBe('cannot pin convox.yml to the pushed digest: sha256 digest must have 64 hex characters, got 3');
  });
});
