/** Release creation and fork rules (doc §2.4), shared by the API route and finished builds. */
import { envDiff, parseEnv } from './env.js';
import type { Rack } from './rack.js';
import type { AppRecord, ReleaseRecord } from './types.js';

/** `undefined` = parameter absent; a present empty string counts (stdapi's `fetchForm`). */
export interface ReleaseCreateOptions {
  build?: string;
  env?: string;
  description?: string;
  /** v3 only: fork this release instead of the newest one. */
  parentRelease?: string;
}

/**
 * Fork the parent (v3 `parent-release`) or the newest release by creation time — not the
 * active one — then apply `build`, `env` and `description` as the rack does.
 */
export function createRelease(rack: Rack, app: AppRecord, opts: ReleaseCreateOptions): ReleaseRecord {
  const { state } = rack;
  const parent =
    rack.mode === 'v3' && opts.parentRelease ? state.requireRelease(app, opts.parentRelease) : state.newestRelease(app);
  // The fork copies build and env only; manifest and description come from the build, if any.
  let build = parent?.build ?? '';
  let env = parent?.env ?? '';
  let manifest = '';
  let description = '';
  if (opts.build !== undefined) build = opts.build;
  if (build) {
    const b = state.requireBuild(app, build);
    build = b.id;
    description = b.description;
    manifest = b.manifest;
  }
  if (opts.env !== undefined) {
    const changes = envDiff(env, opts.env);
    env = opts.env;
    // v2 describes every env write, even an empty diff; v3 only a real change.
    if (rack.mode !== 'v3' || changes !== '') description = `env ${changes}`;
  }
  if (opts.description !== undefined) description = opts.description;
  return state.addRelease(app, { build, env, manifest, description });
}

/** The env a build interpolates with: newest release's env, `build-args` laid over it (doc §2.8). */
export function buildEnv(rack: Rack, app: AppRecord, buildArgs: readonly string[]): Map<string, string> {
  const env = parseEnv(rack.state.newestRelease(app)?.env ?? '');
  for (const arg of buildArgs) {
    const eq = arg.indexOf('=');
    if (eq > 0) env.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return env;
}
