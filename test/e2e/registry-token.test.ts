/**
 * The Bearer-token flow Docker Hub and GHCR use, against a real registry: distribution v3 with its
 * own `auth: token:` and the issuer in test/support/token-server.ts. The engine pushes (its own
 * token client), the action checks the digest and `build: false` tags (src/registry/'s), and
 * BuildKit reads `cache-from` through the build session, each answering the registry's
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker } from '../support/docker-cli.js';
import { registryDigest } from '../support/registry.js';
import { runAction } from '../support/run-action.js';
import { startRegistry, type StartedRegistry } from '../support/services.js';

const services = inject('services');

describe('a distribution v3 registry with Bearer-token auth', () => {
  const env = { DOCKER_HOST: services.dockerHost };
  let root: string;
  let ws: string;
  let registry: StartedRegistry;
  let image: string;
  const access = () => ({ ...services, registry: registry.addr });
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    image,
    tags: 'v1.0.0',
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
    update: 'none',
    ...extra,
  });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cid-token-'));
    registry = await startRegistry(root, undefined, 'v3-token');
    image = `${registry.addr}/acme/token-shop`;
    ws = path.join(root, 'ws');
    mkdirSync(ws);
    writeFileSync(path.join(ws, 'Dockerfile'), `FROM ${services.baseImage}\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy\n`);
    writeFileSync(path.join(ws, 'app.txt'), `token auth ${Date.now()}\n`);
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers with a Bearer challenge naming realm, service and scope', async () => {
    const res = await fetch(`http://${registry.addr}/v2/acme/token-shop/manifests/v1.0.0`, { method: 'HEAD' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="cid-e2e-registry",scope="repository:acme\/token-shop:pull"/,
    );
  });

  it('takes the push, and the digest check gets its own token and agrees with the registry', async () => {
    const run = await runAction({ inputs: inputs(), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    const served = await registryDigest(access(), 'acme/token-shop', 'v1.0.0');
    expect(run.outputs.digest).toBe(served);
    expect(run.stdout).toContain(`Registry ${registry.addr} confirms ${served}`);
    expect(run.all).not.toContain(services.registryPassword);
    expect(run.all).not.toMatch(/eyJ[\w-]+\.eyJ/); // no token (a JWT) in anything the action printed
  });

  it('finds the pushed tag with build: false, and names a missing one', async () => {
    const found = await runAction({ inputs: inputs({ build: 'false' }), env, workspace: ws });
    expect(found.code, found.all).toBe(0);
    expect(found.stdout).toContain(`${image}:v1.0.0 exists in the registry as sha256:`);
    const missing = await runAction({ inputs: inputs({ build: 'false', tags: 'v9.9.9' }), env, workspace: ws });
    expect(missing.code).not.toBe(0);
    expect(missing.all).toContain(`input 'tags': ${image}:v9.9.9 is not in the registry`);
  });

  it('reads cache-from through the token flow after the local cache is gone', async () => {
    docker(services.dockerHost, ['builder', 'prune', '--all', '--force']);
    docker(services.dockerHost, ['rmi', '--force', `${image}:v1.0.0`]);
    const run = await runAction({ inputs: inputs({ tags: 'v1.0.1', 'cache-from': `${image}:v1.0.0` }), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    expect(run.stdout).toMatch(/\(\d+ steps, [1-9]\d* cached\)/);
  });

  it('fails a wrong password with an error naming registry-password, for the push and for build: false', async () => {
    for (const extra of [{ tags: 'v1.0.2' }, { build: 'false' }] as Record<string, string>[]) {
      const run = await runAction({ inputs: inputs({ ...extra, 'registry-password': 'not-the-password' }), env, workspace: ws });
      expect(run.code, run.all).not.toBe(0);
      expect(run.all).toContain('registry-password');
      expect(run.all).toContain(registry.addr);
      expect(run.all).not.toContain('not-the-password');
    }
  });
});
