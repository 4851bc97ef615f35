/**
 * The rack test server's build-time image check against the real test registry the e2e setup
 * starts (htpasswd auth on 127.0.0.1). Pushes its own one-layer image over the registry API
 * first. (It used to look for a registry on a fixed port and skip itself when none was there,
 * which in CI was always.)
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRackServer } from '../rack-server/index.js';
import type { RackServer, RegistryOptions } from '../rack-server/index.js';
import { createBuild, getJson, waitFor } from '../unit/rack-server/helpers.js';
import { pushTiny } from './tiny-image.js';

const services = inject('services');
const REGISTRY: RegistryOptions = {
  host: services.registry,
  username: services.registryUser,
  password: services.registryPassword,
};
const REPO = 'rack-server-test/tiny';
const pushTinyImage = (tag: string): Promise<void> => pushTiny(REGISTRY, REPO, tag);

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function buildLog(
  registry: RegistryOptions,
  image: string,
  manifest = 'services:\n  web:\n    image: ${IMAGE}\n',
): Promise<{ status: string; log: string }> {
  server = await startRackServer({ registry, apps: [{ name: 'web', env: `IMAGE=${image}`, manifest: 'services: {}\n' }] });
  const s = server;
  const b = await createBuild(s, 'web', { 'convox.yml': manifest });
  const done = await waitFor(async () => {
    const x = await getJson<{ status: string }>(s, `/apps/web/builds/${b.id}`);
    return x.status === 'complete' || x.status === 'failed' ? x : undefined;
  });
  return { status: done.status, log: s.state.apps.get('web')?.objects.get(`build/${b.id}/logs`)?.toString() ?? '' };
}

describe("the rack test server's image check against the real test registry", () => {
  it('an existing image: the build completes and logs its digest', async () => {
    await pushTinyImage('v1');
    const { status, log } = await buildLog(REGISTRY, `${REGISTRY.host}/${REPO}:v1`);
    expect(status).toBe('complete');
    expect(log).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(log).toContain(`Authenticating ${REGISTRY.host}: Login Succeeded`);
  });

  it('a missing tag fails like a docker pull', async () => {
    const image = `${REGISTRY.host}/${REPO}:missing-tag`;
    const { status, log } = await buildLog(REGISTRY, image);
    expect(status).toBe('failed');
    expect(
      log.endsWith(`ERROR: Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown\n`),
    ).toBe(true);
  });

  it('wrong registry credentials fail the pull', async () => {
    const { status, log } = await buildLog({ ...REGISTRY, password: 'wrong' }, `${REGISTRY.host}/${REPO}:v1`);
    expect(status).toBe('failed');
    // As docker pull words it: Basic auth refused, or a token registry's denied scope.
    expect(log).toContain(services.registryKind === 'v3-token' ? 'pull access denied for' : 'no basic auth credentials');
  });

  it('an image on another registry cannot be pulled here', async () => {
    const { status, log } = await buildLog(REGISTRY, 'nginx:latest');
    expect(status).toBe('failed');
    expect(log).toContain('lookup registry-1.docker.io: no such host');
  });

  it('a quoted `repo:${UNSET}` leaves `repo:` and fails with an invalid reference', async () => {
    const { status, log } = await buildLog(REGISTRY, '', `services:\n  web:\n    image: "${REGISTRY.host}/${REPO}:\${UNSET}"\n`);
    expect(status).toBe('failed');
    expect(log).toContain('invalid reference format');
  });

  it('unquoted, `image: repo:` is already a YAML error', async () => {
    const { status, log } = await buildLog(REGISTRY, `${REGISTRY.host}/${REPO}:`);
    expect(status).toBe('failed');
    expect(log).toMatch(/ERROR: yaml: /);
  });
});
