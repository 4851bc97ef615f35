/**
 * A read-only look at the app for the dry-run plan: rack version, app status, active release,
 * (when the credential may read releases) the current value of the image variable, and, when
 * asked, what the rack holds for pulling images (rack-facts.ts).
 */
import type { Log } from '../log.js';
import { Secrets } from '../secrets.js';
import { ActionError } from '../errors.js';
import { RackClient } from './client.js';
import { parseEnv } from './env-text.js';
import { readAppEnv } from './env-mode.js';
import { readDockerHubCredentials, readRegistries, type RegistryFacts } from './rack-facts.js';
import type { RackTarget } from './target.js';
import { rackLabel } from './target.js';
import type { RackApp, RackSystem } from './types.js';
import { appPath } from './types.js';
import type { RackGeneration } from './version.js';
import { rackGeneration } from './version.js';

export interface AppInspection {
  status: string;
  /** The active release. */
  release?: string;
  /** The image variable in the newest release's env, when readable and set. */
  envValue?: string;
  /** False for a Console deploy key (env mode cannot work with it). */
  canReadReleases: boolean;
  version: string;
  generation: RackGeneration;
  /** What the rack holds for pulling images (read when `pullFacts` says so for the rack's version). */
  pull?: PullFacts;
  requests: number;
}

/** Can the rack pull: its registry credentials (server names only) and Docker Hub parameters. */
export interface PullFacts {
  readonly registries: RegistryFacts;
  readonly dockerHub: { readonly set: boolean } | { readonly unknown: string };
}

/** Reads only; never writes to the rack. @throws ActionError for auth, unknown app, unsupported rack. */
export async function inspectApp(
  target: RackTarget,
  app: string,
  envVar: string,
  log: Log,
  signal?: AbortSignal,
  secrets?: Secrets,
  opts: { pullFacts?: (version: string) => boolean } = {},
): Promise<AppInspection> {
  const client = new RackClient(target, { log, secrets: secrets ?? new Secrets(), signal });
  try {
    const system = await client.get<RackSystem>('/system', { what: 'read the rack version' });
    const version = system.version ?? '';
    const generation = rackGeneration(version, rackLabel(target));
    const found = await client.get<RackApp>(appPath(app), { what: `read app ${app}`, app });
    let envValue: string | undefined;
    let canReadReleases = true;
    try {
      envValue = parseEnv((await readAppEnv(client, app, rackLabel(target))).env).get(envVar);
    } catch (e) {
      if (!(e instanceof ActionError && e.place.input === 'rack-password')) throw e;
      canReadReleases = false;
    }
    const pull = opts.pullFacts?.(version)
      ? {
          registries: await readRegistries(client),
          dockerHub: await readDockerHubCredentials(client, generation, system.parameters),
        }
      : undefined;
    return {
      pull,
      status: found.status ?? '',
      release: found.release || undefined,
      envValue,
      canReadReleases,
      version,
      generation,
      requests: client.requests,
    };
  } finally {
    client.close();
  }
}

/**
 * The app's status and active release in one short, bounded read, for the report after a failed
 * or cancelled deploy; undefined when the rack does not answer within `ms`. Uses its own time
 * limit, so it works after the deploy's signal has aborted.
 */
export async function readAppNow(
  target: RackTarget,
  app: string,
  log: Log,
  secrets: Secrets,
  ms = 3000,
): Promise<{ status: string; release?: string } | undefined> {
  const client = new RackClient(target, { log, secrets, signal: AbortSignal.timeout(ms), readAttempts: 2 });
  try {
    const found = await client.get<RackApp>(appPath(app), { what: `read app ${app}`, app });
    return { status: found.status ?? '', release: found.release || undefined };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}
