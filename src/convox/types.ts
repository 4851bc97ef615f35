/**
 * The rack's JSON shapes, limited to the fields this action reads (docs/rack-api.md §2.7).
 * Every field is optional on purpose: v2 and v3 differ, and a missing field must not crash us.
 */

export interface RackSystem {
  version?: string;
  name?: string;
  provider?: string;
  status?: string;
  /** v2 racks list their parameters here (v3 racks do not). */
  parameters?: unknown;
}

export interface RackApp {
  name?: string;
  status?: string;
  /** The active release id. */
  release?: string;
  generation?: string;
}

export interface RackBuild {
  id?: string;
  status?: string;
  /** Set together with `complete`. */
  release?: string;
  description?: string;
  reason?: string;
  /** v3 external builds: contains the rack password as userinfo. */
  repository?: string;
  started?: string;
  ended?: string;
}

export interface RackRelease {
  id?: string;
  build?: string;
  env?: string;
  description?: string;
  created?: string;
}

export interface RackProcess {
  id?: string;
  name?: string;
  service?: string;
  release?: string;
  status?: string;
  started?: string;
}

export interface RackObject {
  Url?: string;
}

/** `/apps/<app>` with the name escaped; ids and keys are escaped per segment by the callers. */
export function appPath(app: string, rest = ''): string {
  return `/apps/${encodeURIComponent(app)}${rest}`;
}
