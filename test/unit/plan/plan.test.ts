import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import { makePlan } from '../../../src/plan/plan.js';
import { rackBuildsFromSource } from '../../../src/plan/route.js';
import { renderPlanText } from '../../../src/plan/text.js';
import { Secrets } from '../../../src/secrets.js';
import { pushContext } from '../support/github.js';

const github = pushContext();
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
  makePlan({ config: config(inputs), rack }).steps.map((s) => (s.runs ? s.id : `${s.id} (skipped: ${s.skipped})`));

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

describe('makePlan: the rack route, decided once from the inputs, the manifest and the rack version', () => {
  const IMAGES = 'services:\n  web:\n    image: acme/shop:v1\n  worker:\n    image: acme/shop:v1\n';
  const deploy = { INPUT_APP: 'shop', 'INPUT_RACK-PASSWORD': 'x' };
  const route = (inputs: Record<string, string>, manifestText: string | undefined, version?: string) => {
    const plan = makePlan({
      config: config({ ...deploy, ...inputs }),
      manifestText,
      ...(version ? { rack: { status: 'running', canReadReleases: true, version } } : {}),
    });
    return { route: plan.deploy?.route.route, why: plan.deploy?.route.why, steps: plan.steps.map((s) => s.id) };
  };

  it.each<[string, Record<string, string>, string | undefined, string | undefined, string, RegExp]>([
    ['all image:, 3.24.6', {}, IMAGES, '3.24.6', 'import', /rack runs 3\.24\.6/],
    ['all image:, newer rack', {}, IMAGES, '3.25.0', 'import', /every service has its own image:/],
    ['all image:, version not read (dry run without credentials)', {}, IMAGES, undefined, 'import', /version was not read/],
    ['all image:, 3.24.5', {}, IMAGES, '3.24.5', 'source', /runs 3\.24\.5; importing an image needs v3 3\.24\.6/],
    ['all image:, v2 rack', {}, IMAGES, '20240101120000', 'source', /v2 rack/],
    ['a service with build:', {}, 'services:\n  web:\n    build: .\n', '3.24.6', 'source', /service web is built from source/],
    ['${VAR} in image:', {}, 'services:\n  web:\n    image: acme/shop:${TAG}\n', '3.24.6', 'source', /\$\{…\}/],
    [
      'required environment without default',
      {},
      'environment:\n  - SECRET\nservices:\n  web:\n    image: acme/shop:v1\n',
      '3.24.6',
      'source',
      /required environment without default \(SECRET\)/,
    ],
    ['update: env', { INPUT_UPDATE: 'env' }, IMAGES, '3.24.6', 'source', /update: env/],
    ['rack-build: source', { 'INPUT_RACK-BUILD': 'source' }, IMAGES, '3.24.6', 'source', /^rack-build: source$/],
    ['rack-build: import', { 'INPUT_RACK-BUILD': 'import' }, IMAGES, '3.24.6', 'import', /^rack-build: import,/],
  ])('%s', (_name, inputs, text, version, expected, why) => {
    const r = route(inputs, text, version);
    expect(r.route).toBe(expected);
    expect(r.why).toMatch(why);
    // What the look asks to decide whether to read the rack's pull credentials agrees with it.
    const facts = { manifestText: text, rackVersion: version };
    expect(rackBuildsFromSource(config({ ...deploy, ...inputs }), facts)).toBe(expected === 'source');
    // The steps follow the route: an import uploads nothing and starts no build pod.
    if (expected === 'import') {
      expect(r.steps).toContain('rack-import');
      expect(r.steps).not.toContain('upload');
      expect(r.steps).not.toContain('rack-build');
    } else {
      expect(r.steps).not.toContain('rack-import');
      expect(r.steps).toEqual(expect.arrayContaining(['upload', 'rack-build']));
    }
  });

  it('rack-build: import that the manifest or rack cannot honour fails in the plan, naming the input', () => {
    const importing = { 'INPUT_RACK-BUILD': 'import' };
    expect(() => route(importing, 'services:\n  web:\n    build: .\n', '3.24.6')).toThrow(
      /rack-build is import, but service web is built from source/,
    );
    expect(() => route(importing, IMAGES, '3.24.5')).toThrow(/rack-build is import, but the rack runs 3\.24\.5/);
    // Asked during the look, it does not throw: the plan reports the refusal, with the rack's facts.
    expect(rackBuildsFromSource(config({ ...deploy, ...importing }), { manifestText: IMAGES, rackVersion: '3.24.5' })).toBe(
      false,
    );
    try {
      route(importing, IMAGES, '3.24.5');
    } catch (e) {
      expect(e).toMatchObject({ place: { input: 'rack-build', phase: 'plan' } });
    }
  });

  it('the plan text and the route agree', () => {
    const plan = makePlan({
      config: config(deploy),
      manifestText: IMAGES,
      rack: { status: 'running', canReadReleases: true, version: '3.24.6' },
    });
    expect(renderPlanText(plan)).toContain(
      'Route: import (rack-build: auto, every service has its own image:, and the rack runs 3.24.6)',
    );
  });

  it('promote: false stages: promote and wait are skipped, saying why', () => {
    const plan = makePlan({ config: config({ ...deploy, INPUT_PROMOTE: 'false' }), manifestText: IMAGES });
    expect(plan.steps.slice(-2).map((s) => [s.id, s.skipped])).toEqual([
      ['promote', 'promote: false (the release is staged for a later promote)'],
      ['wait', 'promote: false (the release is staged for a later promote)'],
    ]);
  });

  it('release: no image, no build, push or manifest step; promotes that release and waits', () => {
    const c = readInputs(
      { INPUT_APP: 'shop', 'INPUT_RACK-PASSWORD': 'x', INPUT_RELEASE: 'RABCDEFGHIJ', INPUT_BUILD: 'false', INPUT_UPDATE: 'none' },
      github,
      NOW,
      new Secrets(),
    );
    expect(c.image).toBeUndefined();
    expect(c.tags).toEqual([]);
    const plan = makePlan({ config: c });
    expect(plan.image).toBeUndefined();
    expect(plan.deploy?.route).toEqual({
      route: 'release',
      why: 'release RABCDEFGHIJ already holds its image: nothing is built',
    });
    expect(plan.steps.map((s) => (s.runs ? s.title : `${s.id} (skipped: ${s.skipped})`))).toEqual([
      'build (skipped: release: RABCDEFGHIJ is promoted as it is (nothing to build))',
      'Promote release RABCDEFGHIJ of app shop',
      'Wait until app shop runs release RABCDEFGHIJ',
    ]);
    expect(renderPlanText(plan)).not.toContain('undefined');
  });
});
