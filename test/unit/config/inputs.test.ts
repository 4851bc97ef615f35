import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import type { GitHubContext } from '../../../src/config/github.js';
import { InputErrors } from '../../../src/errors.js';
import { Secrets } from '../../../src/secrets.js';

const root = path.resolve(import.meta.dirname, '../../..');
const github = (over: Partial<GitHubContext> = {}): GitHubContext => ({
  eventName: 'push',
  sha: 'feedc0de00112233445566778899aabbccddeeff',
  ref: 'refs/heads/main',
  branch: 'main',
  runNumber: '42',
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
  workspace: root,
  fromFork: false,
  ...over,
});
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
    expect(c.image.registry).toBe('registry.example.com:5000');
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
