/** Direct questions to the test registry, to check what the action claims against what is there. */
export interface RegistryAccess {
  registry: string;
  registryUser: string;
  registryPassword: string;
}

function auth(r: RegistryAccess): string {
  return `Basic ${Buffer.from(`${r.registryUser}:${r.registryPassword}`).toString('base64')}`;
}

const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** The digest the registry serves for repo:tag, or undefined when the tag does not exist. */
export async function registryDigest(r: RegistryAccess, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${r.registry}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Authorization: auth(r), Accept: ACCEPT },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry answered ${res.status}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/** Tags of a repository ([] when it does not exist). */
export async function registryTags(r: RegistryAccess, repo: string): Promise<string[]> {
  const res = await fetch(`http://${r.registry}/v2/${repo}/tags/list`, { headers: { Authorization: auth(r) } });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
