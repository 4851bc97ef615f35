/**
 * Env mode: point the app at an image tag through an environment variable (IMAGE_VERSION=tag).
 *
 * A release env can only be written whole (§2.5), so we read the newest release's env, change
 * one variable and write it all back; a credential that cannot read releases (a Console deploy
 * key) is refused up front rather than writing an env that would drop the other variables.
 * The following build forks the newest release, so its release carries the new value; it also
 * gets `build-args=VAR=tag` so a manifest interpolated at build time sees it (§2.8).
 */
import { ActionError } from '../errors.js';
import type { RackClient } from './client.js';
import { at } from './context.js';
import type { FlowContext } from './context.js';
import { envEntryProblem, parseEnv, withVariable } from './env-text.js';
import { TransportError } from '../net/http.js';
import { isDeployKeyRefusal, RackError } from './rack-error.js';
import { appPath } from './types.js';
import type { RackRelease } from './types.js';

/** The app's current env: that of its newest release, as `convox env` reads it. */
export interface AppEnv {
  /** The newest release (not necessarily the active one); absent for an app without releases. */
  releaseId?: string;
  env: string;
}

/** Reads the newest release's env. Throws the deploy-key explanation when reads are refused. */
export async function readAppEnv(client: RackClient, app: string, rack: string): Promise<AppEnv> {
  try {
    const list = await client.get<RackRelease[]>(appPath(app, '/releases?limit=1'), { what: `list the releases of ${app}`, app });
    const newest = Array.isArray(list) ? list[0] : undefined;
    if (!newest?.id) return { env: '' };
    // List items may carry no env on v2; only the single-release read is complete.
    const release = await client.get<RackRelease>(appPath(app, `/releases/${encodeURIComponent(newest.id)}`), {
      what: `read release ${newest.id}`,
      app,
    });
    return { releaseId: newest.id, env: release.env ?? '' };
  } catch (e) {
    if (
      e instanceof RackError &&
      (e.status === 401 || e.status === 403) &&
      (client.target.rack || isDeployKeyRefusal(e.status, e.rackMessage))
    ) {
      throw cannotReadReleases(app, rack, e.rackMessage);
    }
    throw e;
  }
}

/** The env-mode refusal, naming the two ways forward. */
export function cannotReadReleases(app: string, rack: string, said: string): ActionError {
  return new ActionError(
    `the credential cannot read the releases of ${app} on ${rack} (${said}); env mode must read the app's environment ` +
      'to keep its other variables, and a Console deploy key is not allowed to',
    { phase: 'deploy', input: 'rack-password' },
    'either give rack-password a credential that can read releases (the rack password with rack-host pointing at the rack, ' +
      'or a Console CLI token), or use update: manifest, which rewrites image: in the manifest and works with a deploy key',
  );
}

/**
 * Sets `envVar=tag` in a new release unless the newest release already has it.
 * @returns the env-only release id, when one was created.
 */
export async function setImageVariable(ctx: FlowContext, envVar: string, tag: string): Promise<string | undefined> {
  const problem =
    envEntryProblem(envVar, tag) ??
    (!tag
      ? `no tag to set ${envVar} to`
      : tag.includes(',')
        ? `the tag "${tag}" contains a comma, which build-args cannot carry`
        : undefined);
  if (problem) throw new ActionError(problem, { phase: 'deploy' }, 'use a plain variable name and a Docker tag');
  at(
    ctx,
    () => `reading the app's environment (the newest release of ${ctx.app}) before setting ${envVar}; nothing was written yet`,
  );
  const current = await readAppEnv(ctx.client, ctx.app, ctx.rack);
  const next = withVariable(current.env, envVar, tag);
  const kept = parseEnv(current.env).size - (next.previous !== undefined ? 1 : 0);
  if (!next.changed) {
    ctx.log.info(`${envVar}=${tag} is already set in the newest release ${current.releaseId ?? ''}; no env release needed`);
    return undefined;
  }
  ctx.log.info(
    `Setting ${envVar}=${tag} (was ${next.previous === undefined ? 'unset' : `"${next.previous}"`}); keeping ${kept} other variable${kept === 1 ? '' : 's'}`,
  );
  at(
    ctx,
    () =>
      `creating the env release with ${envVar}=${tag} (it may have landed: check convox releases --app ${ctx.app} before re-running)`,
  );
  try {
    const created = await ctx.client.post<RackRelease>(
      appPath(ctx.app, '/releases'),
      { env: next.text },
      { what: `create a release with ${envVar}=${tag}`, app: ctx.app },
    );
    return typeof created === 'object' ? created.id : undefined;
  } catch (e) {
    const lost = e instanceof ActionError && e.cause instanceof TransportError && e.cause.sent;
    if (!lost && !(e instanceof RackError && e.status >= 500)) throw e;
    // The answer was lost or a 5xx; the write may have happened. Look instead of repeating it.
    at(
      ctx,
      () =>
        `reading the app's environment to see whether the env release with ${envVar}=${tag} landed (it may have: check convox releases --app ${ctx.app})`,
    );
    const after = await readAppEnv(ctx.client, ctx.app, ctx.rack);
    if (parseEnv(after.env).get(envVar) !== tag) throw e;
    ctx.log.info(
      `The rack's answer was ${lost ? 'lost' : `${(e as RackError).status}`}, but release ${after.releaseId ?? ''} has ${envVar}=${tag}; continuing`,
    );
    return after.releaseId;
  }
}

/** Fails when the build's release does not carry `envVar=tag` (the env changed while building). */
export async function checkReleaseVariable(ctx: FlowContext, releaseId: string, envVar: string, tag: string): Promise<void> {
  at(
    ctx,
    () =>
      `reading release ${releaseId} of build ${ctx.ids.buildId ?? '?'} to check that it carries ${envVar}=${tag}; nothing was promoted`,
  );
  const release = await ctx.client.get<RackRelease>(appPath(ctx.app, `/releases/${encodeURIComponent(releaseId)}`), {
    what: `read release ${releaseId}`,
    app: ctx.app,
  });
  const value = parseEnv(release.env ?? '').get(envVar);
  if (value === tag) return;
  throw new ActionError(
    `release ${releaseId} has ${envVar}=${value ?? '(unset)'} instead of ${tag}: the app's environment changed while the build ran (another deploy or env change?); not promoted`,
    { phase: 'deploy' },
    're-run the deploy once the other change is finished',
  );
}
