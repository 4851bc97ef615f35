import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import type { GitHubContext } from '../../../src/config/github.js';
import { makePlan } from '../../../src/plan/plan.js';
import { renderPlanText } from '../../../src/plan/text.js';
import { Secrets } from '../../../src/secrets.js';

const root = path.resolve(import.meta.dirname, '../../..');
const github: GitHubContext = {
  eventName: 'push',
  sha: 'feedc0de00112233445566778899aabbccddeeff',
  ref: 'refs/heads/main',
  branch: 'main',
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
  workspace: root,
  fromFork: false,
};
const NOW = new Date('2026-11-22T20:55:00Z');
const config = (inputs: Record<string, string>) =>
  readInputs(
    {
      INPUT_IMAGE: 'acme/shop',
      INPUT_CONTEXT: 'examples/app',
      INPUT_MANIFEST: 'examples/app/convox.yml',
      INPUT_TAGS: 'v1,{{short_sha}}',
      ...inputs,
    },
    github,
    NOW,
    new Secrets(),
  );
const steps = (inputs: Record<string, string>, rack?: Parameters<typeof makePlan>[0]['rack']) =>
  makePlan({ config: config(inputs), ...(rack ? { rack } : {}) }).steps.map((s) =>
    s.runs ? s.id : `${s.id} (skipped: ${s.skipped})`,
  );

describe('makePlan: the steps a run takes', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['build and push only', { INPUT_UPDATE: 'none' }, ['build', 'push', 'push', "deploy (skipped: no 'app' is set)"]],
    [
      'manifest deploy',
      { INPUT_APP: 'shop', 'INPUT_RACK-PASSWORD': 'x' },
      ['build', 'push', 'push', 'write-manifest', 'upload', 'rack-build', 'promote', 'wait'],
    ],
    [
      'env deploy',
      { INPUT_APP: 'shop', INPUT_UPDATE: 'env', 'INPUT_RACK-PASSWORD': 'x' },
      ['build', 'push', 'push', 'env-release', 'upload', 'rack-build', 'promote', 'wait'],
    ],
    [
      'dry run',
      { INPUT_APP: 'shop', 'INPUT_DRY-RUN': 'true' },
      [
        'build',
        'push (skipped: dry run)',
        'push (skipped: dry run)',
        'write-manifest (skipped: dry run)',
        'upload (skipped: dry run)',
        'rack-build (skipped: dry run)',
        'promote (skipped: dry run)',
        'wait (skipped: dry run)',
      ],
    ],
    [
      'existing tag',
      { INPUT_BUILD: 'false', INPUT_UPDATE: 'none' },
      ['build (skipped: build: false (deploying an existing tag))', 'check-image', "deploy (skipped: no 'app' is set)"],
    ],
    [
      'no wait',
      { INPUT_APP: 'shop', INPUT_WAIT: 'false', INPUT_PUSH: 'false' },
      [
        'build',
        'push (skipped: push: false)',
        'push (skipped: push: false)',
        'write-manifest',
        'upload',
        'rack-build',
        'promote',
        'wait (skipped: wait: false)',
      ],
    ],
  ])('%s', (_name, inputs, expected) => {
    expect(steps(inputs)).toEqual(expected);
  });

  it('names every image reference, primary first', () => {
    expect(makePlan({ config: config({ INPUT_UPDATE: 'none' }) }).image).toEqual({
      repository: 'acme/shop',
      references: ['acme/shop:v1', 'acme/shop:feedc0d'],
      tags: ['v1', 'feedc0d'],
      primaryTag: 'v1',
    });
  });

  it('env mode shows old -> new when the rack could be read, and why not otherwise', () => {
    const c = config({ INPUT_APP: 'shop', INPUT_UPDATE: 'env', 'INPUT_DRY-RUN': 'true' });
    expect(
      makePlan({ config: c, rack: { status: 'running', release: 'RABC', envValue: '0.9', canReadReleases: true } }).env,
    ).toEqual({ name: 'IMAGE_VERSION', before: '0.9', after: 'v1' });
    const deployKey = makePlan({ config: c, rack: { status: 'running', canReadReleases: false } });
    expect(deployKey.env?.unknownBecause).toMatch(/deploy key/);
    expect(deployKey.notes.join('\n')).toMatch(/cannot be set with a deploy key/);
    const fork = makePlan({ config: c, rackUnavailable: 'no rack password or Console deploy key was given' });
    expect(fork.env?.unknownBecause).toBe('no rack password or Console deploy key was given');
    expect(renderPlanText(fork)).toContain(
      'Environment: IMAGE_VERSION: unknown (no rack password or Console deploy key was given) -> v1',
    );
  });

  it('says when the rack would pull a tag this run does not push', () => {
    expect(makePlan({ config: config({ INPUT_APP: 'shop', INPUT_PUSH: 'false' }) }).notes).toContain(
      'push: false: the rack will pull acme/shop:v1, which this run does not push; it must already be in the registry.',
    );
    expect(makePlan({ config: config({ INPUT_APP: 'shop' }) }).notes).toEqual([]);
  });
});
