/**
 * Cancellation as the runner does it (SIGINT, then SIGTERM 7.5 s later if the step is still
 * running): SIGTERM and SIGINT during the build, the push, the source upload and the rollout
 * wait. Each run must stop well inside those 7.5 s (measured from the signal to the exit), say
 * which phase it stopped in and what state the manifest and the rack were left in, and never
 * leave a half-edited manifest.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer, type RackServerOptions } from '../../rack-server/index.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { recordFigure } from '../../support/figures.js';
import { registryTags } from '../../support/registry.js';
import { runAction, type ActionRun } from '../../support/run-action.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectCleanFailure, expectNoSecrets, GITHUB_TOKEN, RACK_PASSWORD, runSecrets, Trigger } from './helpers.js';

const services = inject('services');
/** The runner sends SIGTERM 7.5 s after SIGINT; stopping well before is the bar. */
const PROMPT_MS = 5000;

let proxy: FaultProxy;
let rack: RackServer | undefined;
beforeAll(async () => {
  proxy = await new FaultProxy(services.registry).start();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(async () => {
  proxy.clear();
  await rack?.close();
  rack = undefined;
});

interface Cancelled {
  run: ActionRun;
  /** ms from the signal to the exit. */
  stopMs: number;
  manifest: { before: string; after: string };
  rack: RackServer;
  before: string;
  repo: string;
}

/** Runs a deploy through the proxy host, sends `signal` when stdout matches `when`. */
async function cancel(
  name: string,
  signal: NodeJS.Signals,
  when: RegExp,
  opts: { dockerfile?: string; rack?: Partial<RackServerOptions>; setup?: (r: RackServer) => void; registry?: string } = {},
): Promise<Cancelled> {
  const registry = opts.registry ?? proxy.host;
  rack = await startRackServer({
    password: RACK_PASSWORD,
    registry: { host: registry, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: 'shop', env: 'A=1', manifest: 'services:\n  web:\n    image: busybox\n' }],
    ...opts.rack,
  });
  opts.setup?.(rack);
  const before = rack.state.requireApp('shop').release;
  const repo = `cancel/${name.toLowerCase()}`;
  const manifest = `# shop\nservices:\n  web:\n    image: ${registry}/${repo}:old   # rewritten by CI\n  worker:\n    image: ${registry}/${repo}:old\n`;
  const ws = makeWorkspace({
    Dockerfile: opts.dockerfile ?? 'FROM scratch\nCOPY a.txt /\n',
    'a.txt': `${name}\n`,
    'convox.yml': manifest,
  });
  const trigger = new Trigger(when.source, when.flags);
  const run = await runAction({
    inputs: {
      image: `${registry}/${repo}`,
      tags: 't1',
      network: 'none',
      'registry-username': services.registryUser,
      'registry-password': services.registryPassword,
      app: 'shop',
      'rack-host': rack.url,
      // The upload case cancels during the source route's upload.
      'rack-build': 'source',
      'rack-password': RACK_PASSWORD,
      'github-token': GITHUB_TOKEN,
      timeout: '2m',
    },
    env: { DOCKER_HOST: services.dockerHost },
    workspace: ws,
    kill: { signal, whenOutput: trigger },
    timeoutMs: 60_000,
  });
  const stopMs = Math.round(performance.now() - (trigger.firedAt ?? Number.NaN));
  expectNoSecrets(`cancel: ${name}`, run, { workspace: ws, secrets: runSecrets(services) });
  return {
    run,
    stopMs,
    manifest: { before: manifest, after: readFileSync(path.join(ws, 'convox.yml'), 'utf8') },
    rack,
    before,
    repo,
  };
}

/** Stopped promptly, said where, left the manifest whole; records the figure either way. */
function expectStopped(c: Cancelled, name: string, signal: string, phase: string, check: () => void): void {
  let clean = false;
  try {
    expect(c.run.signal, 'the action exited by itself rather than being killed').toBeNull();
    expectCleanFailure(
      c.run,
      new RegExp(`^cancelled by ${signal} during the ${phase} phase: `),
      new RegExp(`failed in phase ${phase}`),
    );
    expect(c.run.stdout).toContain(`::error::Received ${signal}: stopping (phase: ${phase}).`);
    expect(c.stopMs).toBeLessThan(PROMPT_MS);
    // Whole or untouched: never a half-edited manifest.
    expect([c.manifest.before, c.manifest.before.replaceAll(':old', ':t1')]).toContain(c.manifest.after);
    check();
    clean = true;
  } finally {
    recordFigure({ kind: 'cancel', name, stopMs: c.stopMs, clean });
  }
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s', (signal) => {
  it(`during the build: stops the build, manifest untouched, nothing sent to the rack`, async () => {
    const c = await cancel(`build-${signal}`, signal, /started-slow-step/, {
      dockerfile: `FROM ${services.baseImage}\nRUN echo started-slow-step && sleep 30\n`,
    });
    expectStopped(c, `${signal} in build`, signal, 'build', () => {
      expect(c.run.stdout).toContain('convox.yml was not changed.');
      expect(c.run.stdout).toContain('Nothing was sent to the rack.');
      expect(c.manifest.after).toBe(c.manifest.before);
      expect(c.rack.requests.filter((q) => q.method !== 'GET')).toEqual([]);
    });
  });

  it(`during the push: manifest untouched, nothing sent to the rack, no tag in the registry`, async () => {
    proxy.add({ path: /\/blobs\/uploads/, times: Infinity, action: { delayMs: 30_000 } });
    const c = await cancel(`push-${signal}`, signal, /Pushing /);
    expectStopped(c, `${signal} in push`, signal, 'push', () => {
      expect(c.run.stdout).toContain('convox.yml was not changed.');
      expect(c.run.stdout).toContain('Nothing was sent to the rack.');
      expect(c.manifest.after).toBe(c.manifest.before);
      expect(c.rack.requests.filter((q) => q.method !== 'GET')).toEqual([]);
    });
    expect(await registryTags(services, c.repo)).toEqual([]);
  });

  it(`during the source upload: no build created, the rack's release named`, async () => {
    const c = await cancel(`upload-${signal}`, signal, /Building shop on /, {
      registry: services.registry,
      setup: (r) => r.faults.slow('POST', '/apps/shop/objects/**', 30_000),
    });
    expectStopped(c, `${signal} in upload`, signal, 'deploy', () => {
      expect(c.run.stdout).toContain('deploy cancelled while uploading the source to the rack');
      expect(c.run.stdout).toContain('convox.yml had already been rewritten (completely).');
      expect(c.manifest.after).toBe(c.manifest.before.replaceAll(':old', ':t1'));
      expect(c.run.stdout).toContain(
        `Rack: build not created, release not created; the release active before this deploy was ${c.before}.`,
      );
      expect(c.run.stdout).toContain(`Rack now: shop on ${new URL(c.rack.url).host} is running, active release ${c.before}.`);
      expect(c.rack.requests.filter((q) => q.method === 'POST' && q.path === '/apps/shop/builds')).toEqual([]);
    });
  });

  // SIGTERM: the rack shows the rollout at once. SIGINT: its status lags the promote by 3 s (as
  // real racks do), so the report must not pass the old release off as where the app will stay.
  const lagMs = signal === 'SIGTERM' ? 0 : 3000;
  it(`while waiting for the rollout (status lag ${lagMs} ms): the new release and the rack's state named`, async () => {
    const c = await cancel(`wait-${signal}`, signal, /Promoted R[A-Z]{10}/, {
      registry: services.registry,
      rack: { timing: { promoteMs: 60_000, statusLagMs: lagMs } },
    });
    expectStopped(c, `${signal} in wait`, signal, 'deploy', () => {
      const app = c.rack.state.requireApp('shop');
      const ours = c.run.outputs['release-id']!;
      expect(ours).toMatch(/^R[A-Z]{10}$/);
      expect(c.run.stdout).toContain(
        `Rack: build ${c.run.outputs['build-id']}, release ${ours}; the release active before this deploy was ${c.before}.`,
      );
      const now = lagMs
        ? `Rack now: shop on ${new URL(c.rack.url).host} is running, active release ${c.before}; ${ours} was promoted, so the rack may still switch to it (its status lags a promote): check convox apps info shop.`
        : `Rack now: shop on ${new URL(c.rack.url).host} is updating, active release ${ours}.`;
      expect(c.run.stdout).toContain(now);
      expect(c.run.summary).toContain(now);
      if (!lagMs) expect(app.release).toBe(ours);
      expect(c.manifest.after).toBe(c.manifest.before.replaceAll(':old', ':t1'));
      // Exactly one promote: a cancel never repeats or undoes it.
      expect(c.rack.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/promote'))).toHaveLength(1);
    });
  });
});
