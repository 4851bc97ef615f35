/**
 * A registry on a port Node's fetch refuses (5061, 6000, … from the fetch standard's list):
 * Docker pushes to it, so the action must also check the digest there. Reported by a user as
 * "registry … did not answer …: fetch failed" after the image had been pushed. Also: the
 * registry client honours HTTP_PROXY on Node 24 with NODE_USE_ENV_PROXY=1, as fetch did.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freeBadPort, NO_BAD_PORT } from '../support/bad-ports.js';
import { docker, withLogin } from '../support/docker-cli.js';
import { runAction } from '../support/run-action.js';
import { startRegistry } from '../support/services.js';

const services = inject('services');
const port = await freeBadPort();

/** A forward proxy (absolute-URI requests) to loopback only, recording what passed through it. */
function forwardProxy(seen: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    if (target.hostname !== '127.0.0.1') return void res.writeHead(403).end();
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(port === undefined)(`a registry on 127.0.0.1:${port ?? NO_BAD_PORT}, a port fetch refuses`, () => {
  const registry = `127.0.0.1:${port}`;
  const image = `${registry}/acme/badport`;
  const env = { DOCKER_HOST: services.dockerHost };
  let root: string;
  let proc: ChildProcess;
  let ws: string;
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    image,
    tags: 'v3.0.2',
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
    update: 'none',
    ...extra,
  });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cid-badport-'));
    // Never a token registry here: its issuer would run in this worker, which the synchronous
    // docker pull below blocks (registry-token.test.ts covers token auth).
    ({ proc } = await startRegistry(root, port, services.registryKind === 'v3-token' ? 'v3' : services.registryKind));
    ws = mkdtempSync(path.join(tmpdir(), 'cid-ws-'));
    writeFileSync(path.join(ws, 'Dockerfile'), `FROM ${services.baseImage}\nCOPY app.txt /app.txt\n`);
    writeFileSync(path.join(ws, 'app.txt'), `pushed to port ${port}\n`);
  });
  afterAll(() => {
    proc?.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  });

  it('is refused by fetch (the regression this guards)', async () => {
    const e = await fetch(`http://${registry}/v2/`).then(
      () => undefined,
      (x: unknown) => x as Error & { cause?: Error },
    );
    expect(e?.cause?.message).toBe('bad port');
  });

  it('takes the push, and the digest check agrees with what the engine pulls back', async () => {
    const run = await runAction({ inputs: inputs(), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    expect(run.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.stdout).toContain(`Registry ${registry} confirms ${run.outputs.digest}`);
    // The oracle: the engine pulls the tag back and says which digest the registry served.
    const pulled = withLogin(services.dockerHost, registry, services.registryUser, services.registryPassword, (cfg) => {
      docker(services.dockerHost, ['rmi', '-f', `${image}:v3.0.2`]);
      docker(services.dockerHost, ['pull', `${image}:v3.0.2`], { dockerConfig: cfg });
      return docker(services.dockerHost, ['inspect', '--format', '{{json .RepoDigests}}', `${image}:v3.0.2`]);
    });
    expect(JSON.parse(pulled)).toEqual([`${image}@${run.outputs.digest}`]);
  });

  it("finds an existing tag with build: false, and reports a missing one, through NODE_USE_ENV_PROXY's proxy", async () => {
    const seen: string[] = [];
    const proxy = await forwardProxy(seen);
    const proxyEnv = {
      ...env,
      NODE_USE_ENV_PROXY: '1',
      HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      NO_PROXY: '',
    };
    try {
      const found = await runAction({ inputs: inputs({ build: 'false' }), env: proxyEnv, workspace: ws });
      expect(found.code, found.all).toBe(0);
      expect(found.stdout).toContain(`${image}:v3.0.2 exists in the registry as sha256:`);
      expect(seen).toContain(`HEAD http://${registry}/v2/acme/badport/manifests/v3.0.2`);
      const missing = await runAction({ inputs: inputs({ build: 'false', tags: 'v9.9.9' }), env: proxyEnv, workspace: ws });
      expect(missing.code).toBe(1);
      expect(missing.all).toContain(`${image}:v9.9.9 is not in the registry`);
      expect(missing.all).not.toContain('fetch failed');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
