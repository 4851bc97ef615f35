import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { MANIFEST_ACCEPT, lookupDigest, manifestDigest, tagExists } from '../../../src/registry/client.js';
import type { RegistryCredentials } from '../../../src/registry/credentials.js';
import { basicOf, clientOptions, reply, startStandIn, type StandIn } from './stand-in.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const TOKEN = 'tok-Zq81-secret-token';

let registry: StandIn | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

function creds(host: string, username = 'ci', password = 's3cr3t-pw'): RegistryCredentials {
  return { username, password, serveraddress: host };
}

async function caught(p: Promise<unknown>): Promise<ActionError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof ActionError)) throw new Error(`expected an ActionError, got ${String(e)}`);
  return e;
}

/** A registry with htpasswd-style Basic auth, as docker-registry 2.8 with `auth: htpasswd` is. */
function basicRegistry(): Promise<StandIn> {
  return startStandIn((req, res) => {
    if (req.authorization !== basicOf('ci', 's3cr3t-pw')) {
      return reply(res, 401, { 'www-authenticate': 'Basic realm="Registry Realm"' });
    }
    if (req.path !== '/v2/acme/shop/manifests/1') return reply(res, 404);
    reply(res, 200, { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
  });
}

/** A registry with a token service, as Docker Hub, GHCR and ECR are. */
function bearerRegistry(): Promise<StandIn> {
  let host = '';
  const started = startStandIn((req, res) => {
    if (req.path === '/token') {
      const known = req.authorization === basicOf('ci', 's3cr3t-pw') || req.authorization === undefined;
      if (!known) return reply(res, 401);
      if (req.method === 'POST') return reply(res, 200, {}, JSON.stringify({ access_token: TOKEN }));
      return reply(res, 200, {}, JSON.stringify({ token: req.authorization ? TOKEN : 'anonymous-token' }));
    }
    if (req.authorization === `Bearer ${TOKEN}`) return reply(res, 200, { 'docker-content-digest': DIGEST });
    const challenge = `Bearer realm="http://${host}/token",service="stand-in",scope="repository:acme/shop:pull"`;
    reply(res, 401, { 'www-authenticate': challenge });
  });
  return started.then((s) => {
    host = s.host;
    return s;
  });
}

describe('manifestDigest with Basic auth', () => {
  it('answers the Basic challenge and reads Docker-Content-Digest', async () => {
    registry = await basicRegistry();
    const opts = clientOptions();
    expect(await manifestDigest(registry.ref('acme/shop:1'), creds(registry.host), opts)).toBe(DIGEST);
    expect(registry.seen.map((s) => [s.method, s.path, s.authorization])).toEqual([
      ['HEAD', '/v2/acme/shop/manifests/1', undefined],
      ['HEAD', '/v2/acme/shop/manifests/1', basicOf('ci', 's3cr3t-pw')],
    ]);
    expect(registry.seen[0]?.accept).toBe(MANIFEST_ACCEPT);
    for (const type of [
      'oci.image.index.v1',
      'oci.image.manifest.v1',
      'docker.distribution.manifest.list.v2',
      'docker.distribution.manifest.v2',
    ]) {
      expect(MANIFEST_ACCEPT).toContain(`application/vnd.${type}+json`);
    }
  });

  it.each([
    [
      creds('x', 'ci', 'wrong'),
      'registry-password',
      'the credentials of user "ci" were refused for acme/shop (401 Unauthorized)',
    ],
    [undefined, 'registry-username', 'acme/shop needs credentials and none were found (401 Unauthorized)'],
  ])('refuses with an ActionError naming the input (%#)', async (given, input, message) => {
    registry = await basicRegistry();
    const opts = clientOptions();
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), given, opts));
    expect(e.message).toBe(`registry ${registry.host}: ${message}`);
    expect(e.place.input).toBe(input);
    expect(e.fix).toContain(
      `set registry-username and registry-password to an account that can pull acme/shop on ${registry.host}`,
    );
    expect(opts.waits).toEqual([]);
  });

  it('reports a missing tag as "tag not found", and tagExists says false', async () => {
    registry = await basicRegistry();
    const ref = registry.ref('acme/shop:2');
    const e = await caught(manifestDigest(ref, creds(registry.host), clientOptions()));
    expect(e.message).toBe(`tag not found: ${registry.host}/acme/shop:2 does not exist on registry ${registry.host}`);
    expect(await tagExists(ref, creds(registry.host), clientOptions())).toBe(false);
    expect(await tagExists(registry.ref('acme/shop:1'), creds(registry.host), clientOptions())).toBe(true);
    expect(await lookupDigest(ref, creds(registry.host), clientOptions())).toBeUndefined();
  });
});

describe('manifestDigest with Bearer tokens', () => {
  it('fetches a token with Basic credentials, then uses it; the token never reaches the log', async () => {
    registry = await bearerRegistry();
    const opts = clientOptions();
    expect(await manifestDigest(registry.ref('acme/shop:1'), creds(registry.host), opts)).toBe(DIGEST);
    expect(registry.seen.map((s) => [s.method, s.path, s.authorization])).toEqual([
      ['HEAD', '/v2/acme/shop/manifests/1', undefined],
      ['GET', '/token', basicOf('ci', 's3cr3t-pw')],
      ['HEAD', '/v2/acme/shop/manifests/1', `Bearer ${TOKEN}`],
    ]);
    expect(registry.seen[1]?.query).toEqual({ service: 'stand-in', scope: 'repository:acme/shop:pull', account: 'ci' });
    expect(opts.secrets.redact(`Bearer ${TOKEN}`)).toBe('Bearer ***');
    expect(opts.log.text()).not.toContain(TOKEN);
    expect(opts.log.text()).not.toMatch(/Bearer|Basic/);
  });

  it('gets an anonymous token when there are no credentials', async () => {
    registry = await bearerRegistry();
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), undefined, clientOptions()));
    // The stand-in's anonymous token is not good enough to read, like a private Hub repository.
    expect(e.message).toBe(`registry ${registry.host}: acme/shop needs credentials and none were found (401 Unauthorized)`);
    expect(registry.seen[1]).toMatchObject({
      path: '/token',
      query: { service: 'stand-in', scope: 'repository:acme/shop:pull' },
    });
    expect(registry.seen[1]?.authorization).toBeUndefined();
    expect(registry.seen[2]?.authorization).toBe('Bearer anonymous-token');
  });

  it('exchanges an identity token with an OAuth2 refresh grant', async () => {
    registry = await bearerRegistry();
    const opts = clientOptions();
    const token: RegistryCredentials = { username: '', password: '', identitytoken: 'refresh-123', serveraddress: registry.host };
    expect(await manifestDigest(registry.ref('acme/shop:1'), token, opts)).toBe(DIGEST);
    expect(registry.seen[1]?.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(registry.seen[1]?.body))).toEqual({
      grant_type: 'refresh_token',
      client_id: 'convox-image-deploy',
      refresh_token: 'refresh-123',
      scope: 'repository:acme/shop:pull',
      service: 'stand-in',
    });
    expect(opts.secrets.has(TOKEN)).toBe(true);
  });

  it('refuses when the token service rejects the credentials', async () => {
    registry = await bearerRegistry();
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), creds(registry.host, 'ci', 'nope'), clientOptions()));
    expect(e.message).toBe(
      `registry ${registry.host}: the credentials of user "ci" were refused for acme/shop (401 Unauthorized)`,
    );
    expect(e.place.input).toBe('registry-password');
  });
});

describe('manifestDigest edge answers', () => {
  it('says "may not read" on 403', async () => {
    registry = await startStandIn((_req, res) => reply(res, 403));
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), creds(registry.host), clientOptions()));
    expect(e.message).toBe(`registry ${registry.host}: user "ci" may not read acme/shop (403 Forbidden)`);
  });

  it('hashes the manifest when the registry omits Docker-Content-Digest', async () => {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    registry = await startStandIn((req, res) => reply(res, 200, {}, req.method === 'GET' ? manifest : ''));
    const expected = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    expect(await manifestDigest(registry.ref('acme/shop:1'), undefined, clientOptions())).toBe(expected);
    expect(registry.seen.map((s) => s.method)).toEqual(['HEAD', 'GET']);
  });

  it('looks a digest reference up by digest', async () => {
    registry = await startStandIn((_req, res) => reply(res, 200, { 'docker-content-digest': DIGEST }));
    await manifestDigest(registry.ref(`acme/shop@${DIGEST}`), undefined, clientOptions());
    expect(registry.seen[0]?.path).toBe(`/v2/acme/shop/manifests/${DIGEST}`);
  });

  it('names unexpected statuses', async () => {
    registry = await startStandIn((_req, res) => reply(res, 400));
    const e = await caught(manifestDigest(registry.ref('acme/shop:1'), undefined, clientOptions()));
    expect(e.message).toBe(
      `registry ${registry.host} answered 400 Bad Request for http://${registry.host}/v2/acme/shop/manifests/1`,
    );
  });
});
