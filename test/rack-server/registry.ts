/**
 * The build's `docker pull` of a service `image:`, reduced to a manifest HEAD against the real
 * test registry. Failures read like Docker's pull errors, which is what a build log shows.
 */
import { request } from 'node:http';
import type { RegistryOptions } from './types.js';

export interface PullResult {
  ok: boolean;
  /** `sha256:…` when found. */
  digest?: string;
  /** Docker-style error when not. */
  message?: string;
}

interface ImageRef {
  host: string;
  repo: string;
  reference: string;
}

/** Split `host/repo:tag` or `host/repo@sha256:…`; Docker Hub names get `docker.io`. */
export function parseImage(image: string): ImageRef {
  let rest = image;
  let host = 'docker.io';
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    rest = rest.slice(slash + 1);
  }
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (host === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  return { host, repo: rest, reference };
}

const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** Credentials a pull presents (a rack registry entry, or import-image's source credentials). */
export interface PullCredentials {
  username: string;
  password: string;
}

/**
 * Does `image` exist in the test registry, and may these credentials (or none) read it? The
 * registry itself decides: a real HEAD against it. Only that registry is reachable here.
 */
export async function pullImage(registry: RegistryOptions, image: string, creds?: PullCredentials): Promise<PullResult> {
  if (image.trim() === '' || /[:@]$/.test(image)) {
    return {
      ok: false,
      message: `invalid reference format: repository name must be lowercase or tag must not be empty: "${image}"`,
    };
  }
  const ref = parseImage(image);
  if (ref.host !== registry.host) {
    const dialHost = ref.host === 'docker.io' ? 'registry-1.docker.io' : ref.host.split(':')[0];
    return {
      ok: false,
      message: `Error response from daemon: Get "https://${dialHost}/v2/": dial tcp: lookup ${dialHost}: no such host`,
    };
  }
  const path = `/v2/${ref.repo}/manifests/${ref.reference}`;
  try {
    let res = await head(registry, path, creds && basic(creds));
    // A token registry (CID_REGISTRY_KIND=v3-token): ask its realm, as the rack's puller does.
    if (res.status === 401 && /^bearer\s/i.test(res.challenge))
      res = await head(registry, path, await bearer(res.challenge, creds));
    if (res.status === 200) return { ok: true, digest: res.digest };
    if (res.status === 401 && /^bearer\s/i.test(res.challenge)) {
      return {
        ok: false,
        message: `Error response from daemon: pull access denied for ${ref.host}/${ref.repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
      };
    }
    if (res.status === 401) {
      return { ok: false, message: `Error response from daemon: Head "http://${ref.host}${path}": no basic auth credentials` };
    }
    if (res.status === 404) {
      return {
        ok: false,
        message: `Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`,
      };
    }
    return { ok: false, message: `Error response from daemon: received unexpected HTTP status: ${res.status}` };
  } catch (e) {
    return { ok: false, message: `Error response from daemon: Get "http://${ref.host}/v2/": ${(e as Error).message}` };
  }
}

const basic = (c: PullCredentials): string => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** A token for the challenge's scope from its realm, with the credentials (or anonymously); `Bearer …`. */
async function bearer(challenge: string, creds: PullCredentials | undefined): Promise<string> {
  const params = new Map([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  const realm = new URL(params.get('realm') ?? '');
  for (const key of ['service', 'scope']) if (params.has(key)) realm.searchParams.set(key, params.get(key)!);
  const res = await fetch(realm, { headers: creds ? { authorization: basic(creds) } : {} });
  if (!res.ok) return '';
  const body = (await res.json()) as { token?: string; access_token?: string };
  return `Bearer ${body.token ?? body.access_token ?? ''}`;
}

function head(
  registry: RegistryOptions,
  path: string,
  authorization: string | undefined,
): Promise<{ status: number; digest: string; challenge: string }> {
  const [hostname, port] = registry.host.split(':');
  const headers: Record<string, string> = { accept: ACCEPT };
  if (authorization) headers.authorization = authorization;
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port ?? 80), method: 'HEAD', path, headers, timeout: 5000 }, (res) => {
      res.resume();
      const digest = res.headers['docker-content-digest'];
      resolve({
        status: res.statusCode ?? 0,
        digest: Array.isArray(digest) ? (digest[0] ?? '') : (digest ?? ''),
        challenge: res.headers['www-authenticate'] ?? '',
      });
    });
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', reject);
    req.end();
  });
}
