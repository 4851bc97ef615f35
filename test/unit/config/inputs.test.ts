import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import type { GitHubContext } from '../../../src/config/github.js';
import { InputErrors } from '../../../src/errors.js';
import { Secrets } from '../../../src/secrets.js';
import { pushContext } from '../support/github.js';

const root = path.resolve(import.meta.dirname, '../../..');
const github = (over: Partial<GitHubContext> = {}): GitHubContext => pushContext({ runNumber: '42', ...over });
const NOW = new Date('2026-11-22T20:55:00Z');
const base = {
  INPUT_IMAGE: 'registry.example.com:5000/acme/shop',
  INPUT_CONTEXT: 'examples/app',
  INPUT_MANIFEST: 'examples/app/convox.yml',
};

describe('readInputs', () => {
  it('renders tags once, primary first, and resolves paths in the workspace', () => {
    const c = readInputs({ ...base, INPUT_TAGS: '{{timestamp}}\n{{short_sha}}, v3.0.2' }, github(), NOW, new Secrets());
    expect(c.tags).toEqual(['20261122205500', 'feedc0d', 'v3.0.2']);
    expect(c.image?.registry).toBe('registry.example.com:5000');
    expect(c.build.dockerfile).toBe(path.join(root, 'examples/app/Dockerfile'));
    expect(c.update).toMatchObject({
      mode: 'manifest',
      manifestFile: 'examples/app/convox.yml',
      envVar: 'IMAGE_VERSION',
      pinDigest: false,
    });
    expect(c.deploy).toBeUndefined();
  });

  it.each([
    ['push', 'auto', false],
    ['pull_request', 'auto', true],
    ['pull_request_target', 'auto', true],
    ['workflow_dispatch', 'auto', false],
    ['pull_request', 'false', false],
    ['push', 'true', true],
  ])('on %s with dry-run %s the run is a dry run: %s', (eventName, mode, expected) => {
    const c = readInputs({ ...base, 'INPUT_DRY-RUN': mode }, github({ eventName }), NOW, new Secrets());
    expect(c.dryRun).toBe(expected);
  });

  it('reports every problem at once, each naming its input', () => {
    try {
      readInputs(
        {
          ...base,
          INPUT_IMAGE: 'Acme/Shop',
          INPUT_TAGS: '{{nope}}',
          INPUT_TIMEOUT: 'soon',
          INPUT_APP: 'shop',
          INPUT_PUSH: 'yes',
        },
        github(),
        NOW,
        new Secrets(),
      );
      expect.unreachable('readInputs accepted bad inputs');
    } catch (e) {
      expect(e).toBeInstanceOf(InputErrors);
      expect((e as InputErrors).problems.map((p) => p.place.input).sort()).toEqual(['image', 'push', 'tags', 'timeout']);
    }
  });

  it('registers secrets before anything else reads them', () => {
    const secrets = new Secrets();
    readInputs(
      {
        ...base,
        'INPUT_REGISTRY-USERNAME': 'ci',
        'INPUT_REGISTRY-PASSWORD': 'hunter2-pw',
        'INPUT_RACK-PASSWORD': 'rack-pw-1',
        'INPUT_GITHUB-TOKEN': 'ghs_tok',
      },
      github(),
      NOW,
      secrets,
    );
    expect(secrets.redact('a hunter2-pw b rack-pw-1 c ghs_tok')).toBe('a *** b *** c ***');
    expect(secrets.redact(Buffer.from('ci:hunter2-pw').toString('base64'))).toBe('***');
  });
});

describe('readInputs: rack-build, promote, release', () => {
  const deployEnv = { ...base, INPUT_APP: 'shop' };
  const problems = (env: NodeJS.ProcessEnv): string[] => {
    try {
      readInputs(env, github(), NOW, new Secrets());
    } catch (e) {
      if (e instanceof InputErrors) return e.problems.map((x) => `${x.place.input}: ${x.message}`);
      throw e;
    }
    return [];
  };

  it('defaults: auto, promote, no release', () => {
    const c = readInputs(deployEnv, github(), NOW, new Secrets());
    expect(c.deploy).toMatchObject({ rackBuild: 'auto', promote: true });
    expect(c.deploy?.release).toBeUndefined();
  });

  it('rack-build takes auto, import or source and nothing else', () => {
    const c = readInputs({ ...deployEnv, 'INPUT_RACK-BUILD': 'import', INPUT_PROMOTE: 'false' }, github(), NOW, new Secrets());
    expect(c.deploy).toMatchObject({ rackBuild: 'import', promote: false });
    expect(problems({ ...deployEnv, 'INPUT_RACK-BUILD': 'fast' }).join('\n')).toMatch(/^rack-build: /);
  });

  it('release: needs build: false and update: none; image is not needed', () => {
    const c = readInputs(
      { INPUT_APP: 'shop', INPUT_RELEASE: 'RABCDEFGHIJ', INPUT_BUILD: 'false', INPUT_UPDATE: 'none' },
      github(),
      NOW,
      new Secrets(),
    );
    expect(c.deploy?.release).toBe('RABCDEFGHIJ');
    const found = problems({ ...deployEnv, INPUT_RELEASE: 'RABCDEFGHIJ', INPUT_PROMOTE: 'false', 'INPUT_RACK-BUILD': 'source' });
    expect(found.filter((p) => p.startsWith('release: '))).toEqual([
      "release: promotes an existing release, but 'build' is true",
      "release: promotes an existing release, but 'update' is 'manifest' (a manifest or env change would need a new release)",
    ]);
    expect(found).toContain("promote: is false, but 'release' asks to promote");
    expect(found).toContain("rack-build: has no effect with 'release' (nothing is built)");
    // base sets image: the release already holds one, and a second would be a lie in the plan.
    expect(found).toContain("image: is set, but 'release' promotes an existing release (its image is already in it)");
  });

  it('release: must look like a release id, and needs an app', () => {
    expect(problems({ ...deployEnv, INPUT_RELEASE: 'B123', INPUT_BUILD: 'false', INPUT_UPDATE: 'none' })).toContain(
      "release: 'B123' is not a Convox release id",
    );
    expect(problems({ ...base, INPUT_RELEASE: 'RABCDEFGHIJ', INPUT_BUILD: 'false', INPUT_UPDATE: 'none' })).toContain(
      "release: is set but no 'app' is",
    );
  });
});
