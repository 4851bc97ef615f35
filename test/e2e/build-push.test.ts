import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, withLogin } from '../support/docker-cli.js';
import { registryDigest, registryTags } from '../support/registry.js';
import { runAction } from '../support/run-action.js';
import { parseSteps } from '../../scripts/bench/steps.js';

const services = inject('services');

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-ws-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const APP_DOCKERFILE = [
  `FROM ${services.baseImage}`,
  'COPY . /app',
  'RUN --mount=type=cache,target=/cache echo built-with-cache-mount > /built && ls /cache',
  'CMD ["cat", "/built"]',
  '',
].join('\n');

const baseInputs = (repo: string): Record<string, string> => ({
  image: `${services.registry}/${repo}`,
  tags: 'v3.0.2\n{{short_sha}}',
  network: 'none',
  'registry-username': services.registryUser,
  'registry-password': services.registryPassword,
  update: 'none',
});

describe('build and push on the real engine and registry', () => {
  const env = { DOCKER_HOST: services.dockerHost };
  let ws: string;
  beforeAll(() => {
    ws = workspace({
      Dockerfile: APP_DOCKERFILE,
      'app.txt': 'hello\n',
      'secret.txt': 'do not ship\n',
      'node_modules/big/index.js': 'x\n',
      '.dockerignore': 'secret.txt\nnode_modules\n',
    });
  });

  it('builds, pushes two tags, reports the registry digest, and the image runs without ignored files', async () => {
    const run = await runAction({ inputs: baseInputs('acme/shop'), env, workspace: ws });
    expect(run.code, run.all).toBe(0);
    // The context reached BuildKit through the session's file sync, as from the docker CLI.
    expect(run.stdout).toContain('Context: served to BuildKit through the build session');
    const ref = `${services.registry}/acme/shop`;
    expect(run.outputs.tags).toBe(`${ref}:v3.0.2\n${ref}:a1b2c3d`);
    expect(run.outputs.image).toBe(`${ref}:v3.0.2`);
    expect(run.outputs.version).toBe('v3.0.2');
    const served = await registryDigest(services, 'acme/shop', 'v3.0.2');
    expect(run.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.outputs.digest).toBe(served);
    expect(await registryDigest(services, 'acme/shop', 'a1b2c3d')).toBe(served);
    expect(run.outputs['image-id']).toMatch(/^sha256:/);
    // The image pulled back from the registry runs, and the ignored files never reached it.
    withLogin(services.dockerHost, services.registry, services.registryUser, services.registryPassword, (cfg) => {
      docker(services.dockerHost, ['rmi', '-f', `${ref}:v3.0.2`, `${ref}:a1b2c3d`]);
      docker(services.dockerHost, ['pull', `${ref}:v3.0.2`], { dockerConfig: cfg });
    });
    expect(docker(services.dockerHost, ['run', '--rm', '--network', 'none', `${ref}:v3.0.2`])).toBe('built-with-cache-mount\n');
    const files = docker(services.dockerHost, ['run', '--rm', '--network', 'none', `${ref}:v3.0.2`, 'ls', '-a', '/app']).split(
      '\n',
    );
    expect(files).toContain('app.txt');
    expect(files).not.toContain('secret.txt');
    expect(files).not.toContain('node_modules');
    const labels = JSON.parse(
      docker(services.dockerHost, ['inspect', '--format', '{{json .Config.Labels}}', `${ref}:v3.0.2`]),
    ) as Record<string, string>;
    expect(labels['org.opencontainers.image.revision']).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
    expect(labels['org.opencontainers.image.version']).toBe('v3.0.2');
    expect(labels['org.opencontainers.image.source']).toBe('https://github.com/acme/shop');
    expect(run.all).not.toContain(services.registryPassword);
  });

  it('build: false with a tag missing from the registry: the summary marks the check failed, not "not reached"', async () => {
    // Seen before the plan drove the run: "❌ Failed in phase push" above "⏸️ Check that … — not reached".
    const run = await runAction({ inputs: { ...baseInputs('acme/absent'), tags: 'v9.9.9', build: 'false' }, env, workspace: ws });
    expect(run.code).toBe(1);
    const steps = run.summary.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(steps).toEqual([
      '1. ⏭️ Build Dockerfile (context .) — skipped: build: false (deploying an existing tag)',
      `2. ❌ Check that ${services.registry}/acme/absent:v9.9.9 is in the registry — failed`,
      "3. ⏭️ Deploy to Convox — skipped: no 'app' is set",
    ]);
  });

  it('fails clearly on a wrong password and pushes nothing', async () => {
    const run = await runAction({
      inputs: { ...baseInputs('acme/locked'), 'registry-password': 'Wrong-Pa55word-x' },
      env,
      workspace: ws,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/registry-password/);
    expect(run.stdout).toContain(services.registry);
    expect(await registryTags(services, 'acme/locked')).toEqual([]);
    expect(run.all).not.toContain('Wrong-Pa55word-x');
    expect(run.all).not.toContain(services.registryPassword);
  });

  it('fails a broken build with the failing step and its last output', async () => {
    const broken = workspace({ Dockerfile: `FROM ${services.baseImage}\nRUN echo about-to-fail && exit 3\n` });
    const run = await runAction({ inputs: baseInputs('acme/broken'), env, workspace: broken });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/RUN echo about-to-fail && exit 3/);
    expect(run.stdout).toMatch(/about-to-fail/);
    expect(run.stdout).toMatch(/exit code: 3/);
    expect(await registryTags(services, 'acme/broken')).toEqual([]);
  });

  it('a rebuild on an emptied daemon reuses the pushed layers through cache-from, and runs every step without it', async () => {
    const repo = 'acme/inline-cache';
    const slow = 'RUN echo the-slow-step-ran > /slow';
    const cws = workspace({ Dockerfile: `FROM ${services.baseImage}\n${slow}\nCOPY a.txt /a.txt\n`, 'a.txt': 'x\n' });
    const seed = await runAction({ inputs: { ...baseInputs(repo), tags: 'seed' }, env, workspace: cws });
    expect(seed.code, seed.all).toBe(0);
    // A fresh runner: none of the images built here and no build cache, only the base image.
    const emptyDaemon = (): void => {
      const ids = docker(services.dockerHost, ['images', '-q', `${services.registry}/${repo}`])
        .split('\n')
        .filter(Boolean);
      if (ids.length) docker(services.dockerHost, ['rmi', '-f', ...new Set(ids)]);
      docker(services.dockerHost, ['builder', 'prune', '-af']);
    };
    const rebuild = async (tag: string, extra: Record<string, string>): Promise<boolean | undefined> => {
      emptyDaemon();
      const run = await runAction({ inputs: { ...baseInputs(repo), tags: tag, ...extra }, env, workspace: cws });
      expect(run.code, run.all).toBe(0);
      return parseSteps(run.stdout).find((st) => st.name.endsWith(slow))?.cached;
    };
    expect(await rebuild('with', { 'cache-from': `${services.registry}/${repo}:seed` })).toBe(true);
    expect(await rebuild('without', {})).toBe(false);
  });
});
