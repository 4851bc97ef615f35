/**
 * Engine faults: a daemon that is not there (the message names DOCKER_HOST), a build step that
 * fails (placed on the Dockerfile line, with the step's output), and a real full disk (an engine
 * whose data root is a 48 MB tmpfs). Nothing is pushed, nothing written, nothing sent to the rack.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../../rack-server/index.js';
import { freePort, importBaseImage, startDockerd, stopDockerd } from '../../support/services.js';
import { registryTags } from '../../support/registry.js';
import { runAction, type ActionRun } from '../../support/run-action.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectCleanFailure, expectNoSecrets, fault, GITHUB_TOKEN, RACK_PASSWORD, runSecrets } from './helpers.js';

const services = inject('services');
let rack: RackServer | undefined;
afterEach(async () => {
  await rack?.close();
  rack = undefined;
});

const MANIFEST = (repo: string): string => `services:\n  web:\n    image: ${services.registry}/${repo}:old\n`;

/** A run that would deploy to a rack, so "nothing reached the rack" is a real check. */
async function build(
  name: string,
  dockerfile: string,
  dockerHost: string,
): Promise<{ run: ActionRun; ws: string; repo: string }> {
  rack = await startRackServer({
    password: RACK_PASSWORD,
    apps: [{ name: 'shop', manifest: 'services:\n  web:\n    image: busybox\n' }],
  });
  const repo = `engine-faults/${name}`;
  const ws = makeWorkspace({ Dockerfile: dockerfile, 'a.txt': 'a\n', 'convox.yml': MANIFEST(repo) });
  const run = await runAction({
    inputs: {
      image: `${services.registry}/${repo}`,
      tags: 't1',
      network: 'none',
      'registry-username': services.registryUser,
      'registry-password': services.registryPassword,
      app: 'shop',
      'rack-host': rack.url,
      'rack-password': RACK_PASSWORD,
      'github-token': GITHUB_TOKEN,
    },
    env: { DOCKER_HOST: dockerHost },
    workspace: ws,
  });
  expectNoSecrets(`engine: ${name}`, run, { workspace: ws, secrets: runSecrets(services) });
  return { run, ws, repo };
}

/** The failure left no trace: nothing pushed, the manifest as it was, only reads sent to the rack. */
async function expectNothingDone(r: { run: ActionRun; ws: string; repo: string }): Promise<void> {
  expect(await registryTags(services, r.repo)).toEqual([]);
  expect(readFileSync(path.join(r.ws, 'convox.yml'), 'utf8')).toBe(MANIFEST(r.repo));
  expect(rack!.requests.filter((q) => q.method !== 'GET')).toEqual([]);
}

describe('engine faults', () => {
  it('the daemon is not there (unix socket): names DOCKER_HOST', async () => {
    const r = await build('no-socket', 'FROM scratch\nCOPY a.txt /\n', 'unix:///nonexistent/docker.sock');
    await fault('engine', 'daemon not reachable (unix)', 'failed-cleanly', async () => {
      expectCleanFailure(
        r.run,
        /cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/,
        /failed in phase build/,
      );
      await expectNothingDone(r);
    });
  });

  it('the daemon is not there (tcp, nothing listening): names DOCKER_HOST', async () => {
    const host = `tcp://127.0.0.1:${await freePort()}`;
    const r = await build('no-tcp', 'FROM scratch\nCOPY a.txt /\n', host);
    await fault('engine', 'daemon not reachable (tcp)', 'failed-cleanly', async () => {
      expectCleanFailure(
        r.run,
        new RegExp(`cannot reach the Docker engine at DOCKER_HOST=${host.replace(/\./g, '\\.')}`),
        /failed in phase build/,
      );
      await expectNothingDone(r);
    });
  });

  it('a build step fails: placed on the Dockerfile line, with its output and exit code', async () => {
    const r = await build('step-fails', `FROM ${services.baseImage}\nRUN echo about-to-fail && exit 3\n`, services.dockerHost);
    await fault('engine', 'build step fails', 'failed-cleanly', async () => {
      expect(r.run.stdout).toMatch(/^::error [^\n]*file=Dockerfile,line=2[,:]/m);
      expectCleanFailure(r.run, /exit code: 3/);
      expect(r.run.stdout).toContain('about-to-fail');
      await expectNothingDone(r);
    });
  });

  it('a full disk on the engine: fails with the step and a fix that says the disk is full', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cid-small-engine-'));
    const engine = await startDockerd(root, 48);
    try {
      importBaseImage(root, engine.host);
      const r = await build(
        'disk-full',
        `FROM ${services.baseImage}\nRUN dd if=/dev/zero of=/fill bs=1M count=100\n`,
        engine.host,
      );
      await fault('engine', 'disk full', 'failed-cleanly', async () => {
        const { text } = expectCleanFailure(r.run, /no space left on device/i);
        expect(text).toMatch(/disk is full/);
        expect(r.run.stdout).toMatch(/RUN dd if=\/dev\/zero/);
        await expectNothingDone(r);
      });
    } finally {
      await stopDockerd(engine.proc, root);
    }
  });
});
