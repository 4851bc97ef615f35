/**
 * Read-only facts about the rack that decide whether it can pull an image (docs/rack-api.md
 * §2.6 and §2.1): which registries it holds credentials for (`GET /registries`, whose answer
 * carries the passwords in clear: only server names are kept, the rest is dropped on arrival),
 * and whether Docker Hub credentials are set as rack parameters (`docker_hub_username`, rack ≥
 * 3.18.8). Parameters are visible only where the rack shows them: a Console's `GET /racks/{name}`
 * or a v2 rack's `GET /system`; a v3 rack reached directly does not expose them over its API.
 * Never writes.
 */
import { ActionError } from '../errors.js';
import type { RackClient } from './client.js';
import { RackError } from './rack-error.js';
import type { RackGeneration } from './version.js';

/** What the rack says about registries; `unknown` carries why it could not be read. */
export type RegistryFacts = { servers: string[] } | { unknown: string };

/** `GET /registries`, reduced to server names. */
export async function readRegistries(client: RackClient): Promise<RegistryFacts> {
  try {
    const list = await client.get<unknown>('/registries', { what: 'list the rack registries' });
    if (!Array.isArray(list)) return { unknown: 'the rack answered GET /registries with something other than a list' };
    const servers = list
      .map((r: unknown) => (r && typeof r === 'object' ? (r as Record<string, unknown>).server : undefined))
      .filter((s): s is string => typeof s === 'string' && s !== '');
    return { servers };
  } catch (e) {
    if (e instanceof RackError && (e.status === 401 || e.status === 403 || e.status === 404)) {
      return { unknown: `the credential may not list the rack's registries (GET /registries answered ${e.status})` };
    }
    throw e;
  }
}

/** Whether the rack pulls from Docker Hub with credentials; undefined when it does not say. */
export async function readDockerHubCredentials(
  client: RackClient,
  generation: RackGeneration,
  systemParameters: unknown,
): Promise<{ set: boolean } | { unknown: string }> {
  const rack = client.target.rack;
  let params: Record<string, unknown> | undefined;
  if (rack) {
    try {
      const record = await client.get<Record<string, unknown>>(`/racks/${rack.split('/').map(encodeURIComponent).join('/')}`, {
        what: `read the Console's record of rack ${rack}`,
      });
      params = objectKey(record, 'parameters');
    } catch (e) {
      if (!(e instanceof ActionError)) throw e;
      return { unknown: `the Console did not show the rack's parameters (${e.message})` };
    }
  } else if (generation === 'v2') {
    params = systemParameters && typeof systemParameters === 'object' ? (systemParameters as Record<string, unknown>) : {};
  } else {
    return { unknown: 'a v3 rack reached directly does not show its parameters over the API' };
  }
  const user = params?.docker_hub_username;
  return { set: typeof user === 'string' && user !== '' };
}

/** Go decodes JSON keys case-insensitively, and the Console's casing is not public. */
function objectKey(record: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const found = Object.entries(record).find(([k]) => k.toLowerCase() === key)?.[1];
  return found && typeof found === 'object' ? (found as Record<string, unknown>) : undefined;
}

/**
 * The registry host of an image reference as the rack keys credentials (provider/k8s/build.go
 * `parseRegistryHost`: a first component with `.` or `:`, or `localhost`; else `docker.io`).
 */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  if (slash > 0) {
    const first = image.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost') return first;
  }
  return 'docker.io';
}

/** Does a registries entry cover `host`? Docker Hub is listed under several names. */
export function hasRegistry(servers: readonly string[], host: string): boolean {
  const hub = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'];
  const norm = (s: string): string => s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return servers.some((s) => (hub.includes(host) ? hub.includes(s) || hub.includes(norm(s)) : norm(s) === host));
}
