/**
 * The rack test server's import-image relay and source-build pulls against the real test
 * registry (htpasswd auth, so every image on it is private) and a public mirror of it: the
 * registry decides what an anonymous or credentialed read gets, as it would for skopeo or docker.
 * Rules from convox/convox provider/k8s/build.go (commit 9e0245260): the relay presents only the
 * src-creds, for the given image's host; a source build presents the rack's registries entry.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer } from '../rack-server/index.js';
import type { RackServer, RegistryOptions } from '../rack-server/index.js';
import { call, createBuild, getJson, postForm, waitFor } from '../unit/rack-server/helpers.js';
import { publicMirror, pushTiny } from './tiny-image.js';

const services = inject('services');
const REGISTRY: RegistryOptions = {
  host: services.registry,
  username: services.registryUser,
  password: services.registryPassword,
};
const REPO = 'rack-server-import/tiny';
const PRIVATE = `${REGISTRY.host}/${REPO}:v1`;
let mirror: { host: string; close: () => Promise<void> };

beforeAll(async () => {
  await pushTiny(REGISTRY, REPO, 'v1');
  mirror = await publicMirror(REGISTRY);
});
afterAll(async () => mirror.close());

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** External build, manifest, import; the finished build. */
async function imported(
  registry: RegistryOptions,
  image: string,
  creds: Record<string, string> = {},
): Promise<{ status: string; reason: string }> {
  server = await startRackServer({ version: '3.24.6', registry: { host: registry.host }, apps: [{ name: 'web' }] });
  const s = server;
  const b = JSON.parse((await postForm(s, '/apps/web/builds', { external: 'true' })).text) as { id: string };
  await call(s, 'PUT', `/apps/web/builds/${b.id}`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: 'services:\n  web:\n    port: 3000\n' }).toString(),
  });
  const r = await postForm(s, `/apps/web/builds/${b.id}/image`, { image, ...creds });
  expect(r.status).toBe(202);
  return waitFor(async () => {
    const x = await getJson<{ status: string; reason: string }>(s, `/apps/web/builds/${b.id}`);
    return x.status === 'complete' || x.status === 'failed' ? x : undefined;
  });
}

describe('import-image relay against the real registry', () => {
  it('a private image without src-creds fails: the registry refused the anonymous read', async () => {
    const done = await imported(REGISTRY, PRIVATE);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(
      /^image relay failed for service web: exit status 1 .*(?:unauthorized: authentication required|requested access to the resource is denied)/,
    );
  });

  it('with src-creds it completes', async () => {
    const done = await imported(REGISTRY, PRIVATE, {
      'src-creds-user': services.registryUser,
      'src-creds-pass': services.registryPassword,
    });
    expect(done).toMatchObject({ status: 'complete', reason: '' });
  });

  it('wrong src-creds fail too', async () => {
    const done = await imported(REGISTRY, PRIVATE, { 'src-creds-user': services.registryUser, 'src-creds-pass': 'nope' });
    expect(done.status).toBe('failed');
  });

  it('the same image through the public mirror needs no credentials', async () => {
    const done = await imported({ host: mirror.host }, `${mirror.host}/${REPO}:v1`);
    expect(done).toMatchObject({ status: 'complete' });
  });
});

describe('source build pulls use the rack registries list', () => {
  async function built(withEntry: boolean): Promise<string> {
    server = await startRackServer({
      registry: withEntry ? REGISTRY : { host: REGISTRY.host },
      apps: [{ name: 'web', manifest: 'services: {}\n' }],
    });
    const s = server;
    const b = await createBuild(s, 'web', { 'convox.yml': `services:\n  web:\n    image: ${PRIVATE}\n` });
    const done = await waitFor(async () => {
      const x = await getJson<{ status: string }>(s, `/apps/web/builds/${b.id}`);
      return x.status === 'complete' || x.status === 'failed' ? x : undefined;
    });
    return done.status;
  }

  it('without an entry for the host, a private image fails; with one it builds', async () => {
    expect(await built(false)).toBe('failed');
    await server?.close();
    server = undefined;
    expect(await built(true)).toBe('complete');
  });

  it('an entry added with POST /registries is used by the next build', async () => {
    server = await startRackServer({ registry: { host: REGISTRY.host }, apps: [{ name: 'web', manifest: 'services: {}\n' }] });
    await postForm(server, '/registries', {
      server: REGISTRY.host,
      username: services.registryUser,
      password: services.registryPassword,
    });
    const s = server;
    const b = await createBuild(s, 'web', { 'convox.yml': `services:\n  web:\n    image: ${PRIVATE}\n` });
    const done = await waitFor(async () => {
      const x = await getJson<{ status: string }>(s, `/apps/web/builds/${b.id}`);
      return x.status === 'complete' || x.status === 'failed' ? x : undefined;
    });
    expect(done.status).toBe('complete');
  });
});
