/**
 * Rack generations from `GET /system` `version`, compared as the CLI compares them. Pure.
 */
import { ActionError } from '../errors.js';

/** The newest v2 version that still used the legacy build and environment endpoints. */
export const LEGACY_MAX_VERSION = '20180708231844';

export type RackGeneration = 'v3' | 'v2';

/**
 * `v3` for `3.x.y`, `v2` for a 14-digit release newer than the legacy cut-off.
 * @throws ActionError (phase deploy) for legacy or unrecognised versions.
 */
export function rackGeneration(version: string, rack: string): RackGeneration {
  if (/^3\.\d+/.test(version)) return 'v3';
  if (/^\d{14}$/.test(version)) {
    // The CLI compares these as strings; 14-digit timestamps sort the same as numbers.
    if (version > LEGACY_MAX_VERSION) return 'v2';
    throw new ActionError(
      `unsupported rack version ${version} on ${rack}: racks up to ${LEGACY_MAX_VERSION} use the legacy build and environment API`,
      { phase: 'deploy' },
      `update the rack (convox rack update) to a version newer than ${LEGACY_MAX_VERSION}`,
    );
  }
  throw new ActionError(
    `unsupported rack version "${version}" on ${rack}: expected 3.x (v3) or a 14-digit v2 version`,
    { phase: 'deploy' },
    'check that rack-host points at a Convox rack API or Console',
  );
}

/** True when `version` (v3) is at least `major.minor.patch`. */
export function v3AtLeast(version: string, wanted: string): boolean {
  const parts = (v: string): number[] =>
    v
      .split(/[.-]/)
      .slice(0, 3)
      .map((p) => Number.parseInt(p, 10) || 0);
  const have = parts(version);
  const need = parts(wanted);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** The first v3 rack version that serves `POST /apps/{app}/builds/{id}/image` (`convox builds import-image`). */
export const IMPORT_SINCE = '3.24.6';

/** True when a rack of `version` can import an image (a v3 rack at IMPORT_SINCE or later). */
export function importsImages(version: string): boolean {
  return /^3\.\d+/.test(version) && v3AtLeast(version, IMPORT_SINCE);
}
