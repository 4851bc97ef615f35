/**
 * Direct questions to the test registry, to check what the action claims against what is there.
 * Answers a Basic or a Bearer challenge (CID_REGISTRY_KIND=v3-token) with the test account, as a
 * client independent of src/registry/ should: one challenge, one token, one retry.
 */
export interface RegistryAccess {
  registry: string;
  registryUser: string;
  registryPassword: string;
}

function basic(r: RegistryAccess): string {
  return `Basic ${Buffer.from(`${r.registryUser}:${r.registryPassword}`).toString('base64')}`;
}

const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** The Authorization a 401's `WWW-Authenticate` asks for: Basic, or a token fetched from its realm. */
async function answerChallenge(r: RegistryAccess, challenge: string): Promise<string> {
  if (!/^bearer\s/i.test(challenge)) return basic(r);
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  const realm = new URL(params.realm ?? '');
  for (const key of ['service', 'scope'] as const) if (params[key]) realm.searchParams.set(key, params[key]);
  const res = await fetch(realm, { headers: { Authorization: basic(r) } });
  if (!res.ok) throw new Error(`token service answered ${res.status}`);
  const body = (await res.json()) as { token?: string; access_token?: string };
  return `Bearer ${body.token ?? body.access_token}`;
}

/** GET (or `init.method`) from the registry as the test account, answering a Bearer challenge. */
export async function registryGet(
  r: RegistryAccess,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Response> {
  const first = await fetch(url, { ...init, headers: { ...init.headers, Authorization: basic(r) } });
  const challenge = first.headers.get('www-authenticate');
  if (first.status !== 401 || !challenge || !/^bearer\s/i.test(challenge)) return first;
  return fetch(url, { ...init, headers: { ...init.headers, Authorization: await answerChallenge(r, challenge) } });
}

/** The digest the registry serves for repo:tag, or undefined when the tag does not exist. */
export async function registryDigest(r: RegistryAccess, repo: string, tag: string): Promise<string | undefined> {
  const res = await registryGet(r, `http://${r.registry}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: ACCEPT },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry answered ${res.status}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/** The manifest bytes and media type the registry serves for repo:ref. */
export async function registryManifest(
  r: RegistryAccess,
  repo: string,
  ref: string,
): Promise<{ mediaType: string; body: string }> {
  const res = await registryGet(r, `http://${r.registry}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT } });
  if (!res.ok) throw new Error(`registry answered ${res.status}`);
  return { mediaType: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Tags of a repository ([] when it does not exist). */
export async function registryTags(r: RegistryAccess, repo: string): Promise<string[]> {
  const res = await registryGet(r, `http://${r.registry}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
