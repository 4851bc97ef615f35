import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import type { PullFacts } from '../../../src/convox/inspect.js';
import { needsPrivacyCheck, pullNotes } from '../../../src/plan/pull.js';
import type { AnonymousRead } from '../../../src/registry/client.js';
import type { RoutePlan } from '../../../src/plan/route.js';
import { Secrets } from '../../../src/secrets.js';
import { pushContext } from '../support/github.js';

const github = pushContext();
const config = (image: string, rack?: string) =>
  readInputs(
    {
      INPUT_IMAGE: image,
      INPUT_APP: 'shop',
      'INPUT_RACK-PASSWORD': 'x',
      INPUT_UPDATE: 'none',
      INPUT_CONTEXT: 'examples/app',
      INPUT_RACK: rack,
    },
    github,
    new Date('2026-12-04T00:00:00Z'),
    new Secrets(),
  );
const SOURCE: RoutePlan = { route: 'source', why: 'rack-build: source' };
const IMPORT: RoutePlan = { route: 'import', why: 'rack-build: auto' };
const facts = (servers: string[] | string, hub: boolean | string = 'v3 direct'): PullFacts => ({
  registries: Array.isArray(servers) ? { servers } : { unknown: servers },
  dockerHub: typeof hub === 'boolean' ? { set: hub } : { unknown: hub },
});
const notes = (image: string, route: RoutePlan, pull: PullFacts, read?: AnonymousRead, rack?: string) =>
  pullNotes(config(image, rack), route, pull, read);

describe('pullNotes: can the rack pull the image on the planned route', () => {
  it('source route, private image, no credentials on the rack: fails in the plan and names the command', () => {
    const run = () => notes('ghcr.io/acme/shop', SOURCE, facts(['quay.io']), 'refused', 'acme/production');
    expect(run).toThrow(
      /ghcr\.io\/acme\/shop is private \(ghcr\.io refused an anonymous read\) and the rack holds no credentials/,
    );
    try {
      run();
    } catch (e) {
      expect(e).toMatchObject({ place: { input: 'image', phase: 'plan' } });
      expect((e as { fix: string }).fix).toContain('convox registries add ghcr.io USERNAME PASSWORD --rack acme/production');
    }
  });

  it.each<[string, string, RoutePlan, PullFacts, AnonymousRead | undefined, string[]]>([
    ['the rack holds credentials for the registry', 'ghcr.io/acme/shop', SOURCE, facts(['ghcr.io']), 'refused', []],
    ['…listed with a scheme', 'ghcr.io/acme/shop', SOURCE, facts(['https://ghcr.io']), undefined, []],
    ['a public image needs none', 'ghcr.io/acme/shop', SOURCE, facts([]), 'allowed', []],
    ['the import route brings its own', 'ghcr.io/acme/shop', IMPORT, facts([]), 'refused', []],
    [
      'privacy unknown: a note, not a failure',
      'ghcr.io/acme/shop',
      SOURCE,
      facts([]),
      'unknown',
      [
        "The rack holds no credentials for ghcr.io, and whether ghcr.io/acme/shop is private could not be checked; if it is, the rack's build will fail to pull it (convox registries add ghcr.io USERNAME PASSWORD).",
      ],
    ],
    [
      'registries not readable: said',
      'ghcr.io/acme/shop',
      SOURCE,
      facts("the credential may not list the rack's registries (GET /registries answered 403)"),
      undefined,
      [
        "Could not check that the rack can pull from ghcr.io: the credential may not list the rack's registries (GET /registries answered 403).",
      ],
    ],
    [
      'Docker Hub without the rack parameters: one rate-limit note',
      'acme/shop',
      SOURCE,
      facts([], false),
      'allowed',
      [
        'The rack pulls acme/shop from Docker Hub without credentials, which Docker Hub rate-limits; give it an account (racks 3.18.8 and later): convox rack params set docker_hub_username=USERNAME docker_hub_password=TOKEN',
      ],
    ],
    [
      'Docker Hub refusing an anonymous read: a note, not a failure (a repository not pushed yet answers so too)',
      'acme/shop',
      SOURCE,
      facts([]),
      'refused',
      [
        "Docker Hub refused an anonymous read of acme/shop, and the rack holds no Docker Hub credentials: if the repository is private, the rack's build will fail to pull it (convox registries add docker.io USERNAME PASSWORD); a repository the first push creates answers so too.",
      ],
    ],
    ['Docker Hub with the parameters set: nothing', 'acme/shop', SOURCE, facts([], true), 'refused', []],
    ['Docker Hub listed as index.docker.io: nothing', 'acme/shop', SOURCE, facts(['index.docker.io']), 'refused', []],
    ['Docker Hub, parameters not visible (v3 reached directly): nothing claimed', 'acme/shop', SOURCE, facts([]), 'allowed', []],
  ])('%s', (_name, image, route, pull, read, expected) => {
    expect(notes(image, route, pull, read)).toEqual(expected);
  });

  it('asks whether the image is private only when the answer decides something', () => {
    expect(needsPrivacyCheck(config('ghcr.io/acme/shop'), SOURCE, facts([]))).toBe(true);
    expect(needsPrivacyCheck(config('ghcr.io/acme/shop'), SOURCE, facts(['ghcr.io']))).toBe(false);
    expect(needsPrivacyCheck(config('ghcr.io/acme/shop'), IMPORT, facts([]))).toBe(false);
    expect(needsPrivacyCheck(config('ghcr.io/acme/shop'), SOURCE, facts('not listed'))).toBe(false);
    expect(needsPrivacyCheck(config('ghcr.io/acme/shop'), SOURCE, undefined)).toBe(false);
  });
});
