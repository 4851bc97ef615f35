/**
 * Which route makes the release on the rack, decided once in the plan from the inputs, the
 * manifest and the rack's version (docs/rack-api.md §2.3): `import` (the CLI's `builds
 * import-image`: the rack copies the pushed image registry to registry, no upload, no build pod),
 * `source` (upload the app and build on the rack), or `release` (promote an existing release).
 * The deploy phase takes the route the plan names; only a rack that answers 404 to import
 * although its version allows it makes `rack-build: auto` fall back, said in the log. Pure.
 */
import type { Config } from '../config/config.js';
import { notImportable } from '../convox/importable.js';
import { IMPORT_SINCE, importsImages } from '../convox/version.js';
import { ActionError } from '../errors.js';

export type RackRoute = 'import' | 'source' | 'release';

export interface RoutePlan {
  readonly route: RackRoute;
  /** Why this route, in words for the plan ("every service has its own image: and …"). */
  readonly why: string;
}

export interface RouteFacts {
  /** The manifest as the rack will get it (after the rewrite), when there is one. */
  readonly manifestText?: string;
  /** The rack's version when the plan could read it (`GET /system`). */
  readonly rackVersion?: string;
}

/**
 * @throws ActionError (input `rack-build`) when `rack-build: import` cannot be honoured: better
 * before the build and push than after them.
 */
export function planRoute(config: Config, facts: RouteFacts): RoutePlan | undefined {
  const decided = decideRoute(config, facts);
  if (decided && 'refused' in decided) {
    throw new ActionError(
      `rack-build is import, but ${decided.refused}`,
      { input: 'rack-build', phase: 'plan' },
      decided.byManifest
        ? 'use rack-build: auto or source, or give every service its own image: and no ${VAR} or required environment entries'
        : 'update the rack (convox rack update), or use rack-build: auto to build from source on this rack',
    );
  }
  return decided;
}

/**
 * Whether the rack's own build would pull the image (the source route). Asked while the plan looks
 * at the rack, once its version is known, to read what it holds for pulling only when that matters.
 * Never throws: a `rack-build: import` the rack cannot take is planRoute's to report.
 */
export function rackBuildsFromSource(config: Config, facts: RouteFacts): boolean {
  const decided = decideRoute(config, facts);
  return decided !== undefined && 'route' in decided && decided.route === 'source';
}

type Decision = RoutePlan | { readonly refused: string; readonly byManifest: boolean };

function decideRoute(config: Config, facts: RouteFacts): Decision | undefined {
  const d = config.deploy;
  if (!d) return undefined;
  if (d.release) return { route: 'release', why: `release ${d.release} already holds its image: nothing is built` };
  if (d.rackBuild === 'source') return { route: 'source', why: 'rack-build: source' };
  const blocked =
    config.update.mode === 'env'
      ? 'update: env puts the tag in ${…}, which the rack reads as empty on the import route'
      : notImportable(facts.manifestText ?? '');
  // A rack that answers no version (an empty one) is one whose version was not read.
  const version = facts.rackVersion || undefined;
  const tooOld =
    version === undefined || importsImages(version)
      ? undefined
      : /^3\./.test(version)
        ? `the rack runs ${version}; importing an image needs v3 ${IMPORT_SINCE} or later`
        : `the rack is a v2 rack (${version}); importing an image needs v3 ${IMPORT_SINCE} or later`;
  const refused = blocked ?? tooOld;
  if (d.rackBuild === 'import' && refused) return { refused, byManifest: blocked !== undefined };
  if (blocked) return { route: 'source', why: blocked };
  if (tooOld) return { route: 'source', why: tooOld };
  const asked = d.rackBuild === 'import' ? 'rack-build: import' : 'rack-build: auto';
  return {
    route: 'import',
    why:
      version === undefined
        ? `${asked}, every service has its own image:; the rack's version was not read, so a rack older than ${IMPORT_SINCE} builds from source instead`
        : `${asked}, every service has its own image:, and the rack runs ${version}`,
  };
}
