/**
 * buildImage's requests to the engine, on a fake modem that records each dial: the order the
 * docker CLI uses (POST /build together with POST /session), and what a refused session does
 * to the build request already sent. The real engine builds in test/e2e.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import Modem from 'docker-modem';
import { buildImage, buildQuery, type BuildRequest } from '../../../src/engine/build.js';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { makeTree, removeTree } from '../support/tree.js';

interface Dial {
  path: string;
  options?: Record<string, unknown>;
  abortSignal?: AbortSignal;
  cb: (err: unknown, result?: unknown) => void;
}

function fakeEngine() {
  const dials: Dial[] = [];
  const docker = {
    modem: {
      dial(opts: { path: string; options?: Record<string, unknown>; abortSignal?: AbortSignal }, cb: Dial['cb']) {
        dials.push({
          path: opts.path,
          options: opts.options,
          abortSignal: opts.abortSignal,
          cb,
        });
      },
    },
  } as unknown as Docker;
  return { docker, dials };
}

let root: string | undefined;
afterEach(() => {
  if (root) removeTree(root);
  root = undefined;
});

function request(context: string): BuildRequest {
  return {
    config: {
      enabled: true,
      context,
      dockerfile: path.join(context, 'Dockerfile'),
      buildArgs: {},
      labels: {},
      noCache: false,
      pull: false,
      cacheFrom: [],
    },
    references: ['registry.example/acme/app:1'],
    labels: {},
    engine: { serverVersion: '20.10.24', apiVersion: '1.41', os: 'linux', buildkit: true },
    credentialsFor: () => undefined,
    registryConfig: {},
    log: new MemoryLog(),
    dockerfileLabel: 'Dockerfile',
  };
}

describe('buildImage through a BuildKit session', () => {
  it('sends POST /build with POST /session, not after the engine has the session, as the docker CLI does', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n']]);
    const { docker, dials } = fakeEngine();
    const built = buildImage(docker, request(root)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    // Neither request has been answered, and both are out.
    expect(dials.map((d) => d.path)).toEqual(['/session', '/build?']);
    // End it: the engine refuses the session.
    dials[0]!.cb(new Error('(HTTP code 500) server error'));
    await built;
  });

  it('drops the build request when the engine refuses the session, and reports the session', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n']]);
    const { docker, dials } = fakeEngine();
    const built = buildImage(docker, request(root)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const build = dials.find((d) => d.path === '/build?')!;
    dials.find((d) => d.path === '/session')!.cb(new Error('(HTTP code 404) no such endpoint'));
    const e = await built;
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(
      'cannot open a BuildKit session with the Docker engine: (HTTP code 404) no such endpoint',
    );
    // The build request, still waiting on the engine, is aborted rather than left open.
    expect(build.abortSignal?.aborted).toBe(true);
  });
});

describe('which way the context goes', () => {
  afterEach(() => {
    delete process.env.CID_CONTEXT_TRANSFER;
  });

  /** Starts a build on the fake engine and returns what it dialed and logged 20 ms later. */
  async function started(req: BuildRequest) {
    const { docker, dials } = fakeEngine();
    const built = buildImage(docker, req).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const log = (req.log as MemoryLog).lines;
    for (const d of dials) d.cb(new Error('(HTTP code 500) server error'));
    await built;
    return { dials, log };
  }

  it('with CID_CONTEXT_TRANSFER=tar, uploads a tar when it carries only the context', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], 'a', ['.dockerignore', 'a\n']]);
    process.env.CID_CONTEXT_TRANSFER = 'tar';
    const { dials, log } = await started(request(root));
    // The tar path opens its session first and waits for it: no session-served build request yet.
    expect(dials.map((d) => d.path)).toEqual(['/session']);
    expect(log.join('\n')).not.toContain('not uploaded as a tar');
  });

  it('with CID_CONTEXT_TRANSFER=tar, serves the context through the session when the tar would carry the excluded Dockerfile', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n'], 'a', ['.dockerignore', 'Dockerfile\n']]);
    process.env.CID_CONTEXT_TRANSFER = 'tar';
    const { dials, log } = await started(request(root));
    expect(dials.map((d) => d.path)).toEqual(['/session', '/build?']);
    expect(dials[1]!.options).toMatchObject({ remote: 'client-session' });
    expect(log).toContain(
      'Context: not uploaded as a tar, which would have to carry Dockerfile (excluded by .dockerignore or outside the context) into COPY .; served through the build session instead',
    );
  });

  it('with DOCKER_BUILDKIT=0, builds with the classic builder and says why', async () => {
    root = makeTree([['Dockerfile', 'FROM scratch\n']]);
    const req = {
      ...request(root),
      engine: {
        serverVersion: '20.10.24',
        apiVersion: '1.41',
        os: 'linux',
        buildkit: false,
        classicBecause: 'DOCKER_BUILDKIT' as const,
      },
    };
    const { dials, log } = await started(req);
    expect(dials.map((d) => d.path)).toEqual(['/build?']);
    expect(dials[0]!.options).toMatchObject({ version: '1' });
    expect(log).toContain('DOCKER_BUILDKIT=0: using the classic builder, as the docker CLI does');
  });
});

describe('the POST /build query', () => {
  // docker-modem writes the query string (Node's querystring): a parameter left undefined would
  // go out as `target=`. The docker CLI sends only the options that are set.
  const wire = (q: Record<string, unknown>): string =>
    (new Modem() as unknown as { buildQuerystring(q: object): string }).buildQuerystring(q);

  it('carries no parameter without a value', () => {
    const query = wire(buildQuery(request('/ctx'), 'Dockerfile', true));
    expect(query.split('&').map((kv) => kv.split('=')[0])).toEqual([
      't',
      'dockerfile',
      'buildargs',
      'labels',
      'rm',
      'forcerm',
      'version',
    ]);
    expect(query).not.toMatch(/=(&|$)/);
  });

  it('carries each option that is set, as the engine names it', () => {
    const req = request('/ctx');
    const config = {
      ...req.config,
      target: 'prod',
      noCache: true,
      pull: true,
      cacheFrom: ['a/b:1'],
      platform: 'linux/arm64',
      network: 'host',
    };
    const params = new URLSearchParams(wire(buildQuery({ ...req, config }, 'Dockerfile', false)));
    expect(Object.fromEntries(params)).toMatchObject({
      target: 'prod',
      nocache: 'true',
      pull: 'true',
      cachefrom: '["a/b:1"]',
      platform: 'linux/arm64',
      networkmode: 'host',
      version: '1',
    });
  });
});
