/**
 * Can the rack pull the image on the route the plan took? Read-only facts (src/convox/rack-facts.ts):
 * the registries the rack holds credentials for (`convox registries`), its Docker Hub parameters,
 * and whether the image's registry lets anyone read it. On the source route the rack's build pod
 * pulls the image with the rack's own credentials: a private image with none there fails that
 * build after the push, so the plan fails first and names the command that fixes it. Docker Hub
 * pulls without the rack's `docker_hub_*` parameters are rate-limited: one note. The import route
 * brings its own credentials (registry-username/password, for that one pull). Never writes. Pure.
 */
import type { Config } from '../config/config.js';
import type { PullFacts } from '../convox/inspect.js';
import { hasRegistry, registryHost } from '../convox/rack-facts.js';
import { ActionError } from '../errors.js';
import type { AnonymousRead } from '../registry/client.js';
import type { RoutePlan } from './route.js';

export interface PullCheck {
  /** The registry host as the rack keys credentials (`docker.io` for Docker Hub names). */
  readonly host: string;
  /** Does the rack hold credentials for `host`? undefined when it could not be read. */
  readonly rackHasCredentials?: boolean;
  /** Only the source route needs the rack's own credentials. */
  readonly needsRackCredentials: boolean;
}

/** Whether the plan needs to know if the image is private (an anonymous registry read) to decide. */
export function needsPrivacyCheck(config: Config, route: RoutePlan | undefined, pull: PullFacts | undefined): boolean {
  const check = pullCheck(config, route, pull);
  return check?.needsRackCredentials === true && check.rackHasCredentials === false;
}

function pullCheck(config: Config, route: RoutePlan | undefined, pull: PullFacts | undefined): PullCheck | undefined {
  if (!config.image || !route || route.route === 'release') return undefined;
  const host = registryHost(config.image.original);
  const servers = pull && 'servers' in pull.registries ? pull.registries.servers : undefined;
  // Docker Hub credentials may also be rack parameters, which the rack's builds log in with.
  const hubParams = host === 'docker.io' && pull !== undefined && 'set' in pull.dockerHub && pull.dockerHub.set;
  return {
    host,
    rackHasCredentials: servers ? hubParams || hasRegistry(servers, host) : undefined,
    needsRackCredentials: route.route === 'source',
  };
}

/**
 * Notes for the plan; throws (phase plan, before anything is built or pushed) when the source
 * route's build would fail to pull a private image the rack has no credentials for.
 */
export function pullNotes(
  config: Config,
  route: RoutePlan | undefined,
  pull: PullFacts | undefined,
  anonymous: AnonymousRead | undefined,
): string[] {
  const check = pullCheck(config, route, pull);
  if (!check || !pull || !check.needsRackCredentials) return [];
  const rack = config.deploy?.rack ? ` --rack ${config.deploy.rack}` : '';
  const image = config.image?.original ?? '';
  const notes: string[] = [];
  if ('unknown' in pull.registries)
    notes.push(`Could not check that the rack can pull from ${check.host}: ${pull.registries.unknown}.`);
  else if (!check.rackHasCredentials && anonymous === 'refused' && check.host === 'docker.io')
    // Docker Hub answers an anonymous read of a repository that does not exist yet with 401 as
    // well, and a repository a first push creates is public on a free account: no verdict.
    notes.push(
      `Docker Hub refused an anonymous read of ${image}, and the rack holds no Docker Hub credentials: if the repository is private, the rack's build will fail to pull it (convox registries add docker.io USERNAME PASSWORD${rack}); a repository the first push creates answers so too.`,
    );
  else if (!check.rackHasCredentials && anonymous === 'refused') {
    throw new ActionError(
      `${image} is private (${check.host} refused an anonymous read) and the rack holds no credentials for ${check.host}: its build would fail to pull the image after the push`,
      { input: 'image', phase: 'plan' },
      `give the rack credentials for the registry (this action never writes them): convox registries add ${check.host} USERNAME PASSWORD${rack}; ` +
        'or, on a v3 rack at 3.24.6 or later, let rack-build: auto import the image, which passes registry-username/password for that one pull',
    );
  } else if (!check.rackHasCredentials && anonymous === 'unknown')
    notes.push(
      `The rack holds no credentials for ${check.host}, and whether ${image} is private could not be checked; if it is, the rack's build will fail to pull it (convox registries add ${check.host} USERNAME PASSWORD${rack}).`,
    );
  if (check.host === 'docker.io' && 'set' in pull.dockerHub && !pull.dockerHub.set)
    notes.push(
      `The rack pulls ${image} from Docker Hub without credentials, which Docker Hub rate-limits; give it an account (racks 3.18.8 and later): convox rack params set docker_hub_username=USERNAME docker_hub_password=TOKEN${rack}`,
    );
  return notes;
}
