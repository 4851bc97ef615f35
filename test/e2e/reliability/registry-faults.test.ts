/**
 * Registry faults on the real engine and registry, through a fault-injecting proxy the engine
 * pushes to. Who retries what (found by running these): the engine retries a failed layer upload
 * itself, quietly, with its own back-off; when the engine gives up on a tag, the action retries the
 * whole tag push (logged as `push …: attempt n/5 after …`) if the registry's words were transient
 * (429, 5xx, reset), and never for a refusal. The action's own registry call (confirming the
 * digest) has its own retries. Transient faults end in exit 0 with the digest the registry
 * really serves; permanent ones fail with the registry's reason, tag by tag.
 *
 * Engine 29 with the containerd image store (CID_ENGINE=current-containerd) pushes through
 * containerd's client instead: it retries a throttled or failed upload itself without a
 * countdown in its stream, and relays a registry error as `error from registry: <its message>`,
 * without the HTTP status (so the action cannot tell a 5xx with a JSON body from a refusal and
 * does not retry it). The cases below say what each engine does where they differ.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FaultProxy } from '../../support/fault-proxy.js';
import { registryDigest } from '../../support/registry.js';
import { runAction, type ActionRun } from '../../support/run-action.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectCleanFailure, expectNoSecrets, fault, GITHUB_TOKEN, runSecrets } from './helpers.js';

const services = inject('services');
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await new FaultProxy(services.registry).start();
});
afterAll(async () => {
  await proxy.close();
});

/** The containerd image store's push (see the header). */
const containerdStore = services.engine === 'current-containerd';

const engine = (req: IncomingMessage): boolean => /^docker\//.test(String(req.headers['user-agent']));
const action = (req: IncomingMessage): boolean => !engine(req);

/** Pushes a fresh one-layer image (random content, so every layer is really uploaded) through the proxy. */
async function push(
  repo: string,
  extra: Record<string, string> = {},
  registryHost = proxy.host,
): Promise<{ run: ActionRun; ws: string; ms: number }> {
  const ws = makeWorkspace({ Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\n', 'a.txt': `${Math.random()}\n`.repeat(2000) });
  const started = Date.now();
  const run = await runAction({
    inputs: {
      image: `${registryHost}/${repo}`,
      tags: 't1',
      update: 'none',
      network: 'none',
      'registry-username': services.registryUser,
      'registry-password': services.registryPassword,
      'github-token': GITHUB_TOKEN,
      ...extra,
    },
    env: { DOCKER_HOST: services.dockerHost },
    workspace: ws,
  });
  expectNoSecrets(`registry: ${repo}`, run, { workspace: ws, secrets: runSecrets(services) });
  return { run, ws, ms: Date.now() - started };
}

async function expectSurvived(run: ActionRun, repo: string): Promise<void> {
  expect(run.code, run.stdout.slice(-3000)).toBe(0);
  expect(run.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(run.outputs.digest).toBe(await registryDigest(services, repo, 't1'));
  expect(run.summary).toMatch(/^### ✅ Pushed/);
}

/** How many manifest PUTs the containerd store makes for a tag the registry answers 500 (measured: it retries once). */
const CONTAINERD_500_HITS = 2;

const actionRetried = (run: ActionRun): boolean => /push [^\n]*: attempt 2\/5 after/.test(run.stdout);

describe('transient registry faults are survived', () => {
  it('429 with Retry-After on the manifest upload: the action retries the tag push after the engine gives up', async () => {
    proxy.clear();
    proxy.add({
      method: /PUT/,
      path: /\/manifests\/t1$/,
      when: engine,
      action: {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down, injected"}]}',
      },
    });
    const { run } = await push('faults/throttled');
    await fault('registry', '429 + Retry-After on the manifest', 'survived', async () => {
      expect(proxy.hits).toHaveLength(1);
      if (containerdStore) {
        // containerd's pusher retries the throttled manifest itself.
        expect(actionRetried(run)).toBe(false);
        return expectSurvived(run, 'faults/throttled');
      }
      // The engine does not retry a throttled manifest and does not relay Retry-After: the
      // action retries, waiting 2 s (at least the 1 s the registry asked for), and says why.
      expect(run.stdout).toMatch(
        /push [^\n]*faults\/throttled:t1: attempt 2\/5 after toomanyrequests: slow down, injected, waiting 2\.0s/,
      );
      const puts = proxy.requests.filter((q) => q.method === 'PUT' && /manifests\/t1$/.test(q.url));
      expect(puts).toHaveLength(2);
      expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(1000);
      await expectSurvived(run, 'faults/throttled');
    });
  });

  it('429 with Retry-After on a layer upload', async () => {
    proxy.clear();
    proxy.add({
      method: /POST/,
      path: /\/blobs\/uploads\/$/,
      when: engine,
      action: {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down, injected"}]}',
      },
    });
    const { run } = await push('faults/throttled-layer');
    await fault('registry', '429 + Retry-After on a layer upload', 'survived', async () => {
      expect(proxy.hits).toHaveLength(1);
      await expectSurvived(run, 'faults/throttled-layer');
    });
  });

  it('503 on layer uploads', async () => {
    proxy.clear();
    // distribution's own words for a 503 (registry/api/errcode ErrorCodeUnavailable).
    const unavailable = '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}';
    proxy.add({
      method: /POST|PATCH|PUT/,
      path: /\/blobs\/uploads/,
      when: engine,
      times: 2,
      action: { status: 503, body: unavailable },
    });
    const { run } = await push('faults/unavailable');
    await fault('registry', '503 on layer uploads', 'survived', async () => {
      expect(proxy.hits).toHaveLength(2);
      // The engine retries the layer itself (5 s, then 10 s); the log says so instead of going quiet
      // (the containerd store retries without a countdown in its stream, so there is nothing to say).
      if (!containerdStore)
        expect(
          run.stdout.match(/ [a-f0-9]{12}: upload failed; the engine is retrying it \(retrying in \d+ seconds?\)/g),
        ).toHaveLength(2);
      // The graph-driver engine retries the layer itself; the action has nothing to retry. The
      // containerd store sometimes retries it itself and sometimes gives up at once with
      // `error from registry: unavailable`, which the action then retries (seen both ways).
      if (!containerdStore) expect(actionRetried(run)).toBe(false);
      await expectSurvived(run, 'faults/unavailable');
    });
  });

  it('a connection reset in the middle of a layer upload', async () => {
    proxy.clear();
    proxy.add({ method: /PATCH|PUT/, path: /\/blobs\/uploads\/./, when: engine, action: 'reset' });
    const { run } = await push('faults/reset');
    await fault('registry', 'connection reset mid-upload', 'survived', async () => {
      expect(proxy.hits).toHaveLength(1);
      if (!containerdStore) expect(run.stdout).toMatch(/upload failed; the engine is retrying it/);
      await expectSurvived(run, 'faults/reset');
    });
  });

  it('a slow registry (every request 200 ms late)', async () => {
    proxy.clear();
    proxy.add({ path: /\/v2\//, times: Infinity, action: { delayMs: 200 } });
    const { run } = await push('faults/slow');
    await fault('registry', 'slow registry', 'survived', async () => {
      expect(proxy.hits.length).toBeGreaterThan(3);
      await expectSurvived(run, 'faults/slow');
    });
  });

  it("503 on the action's own digest check", async () => {
    proxy.clear();
    proxy.add({
      path: /\/manifests\/t1$/,
      method: /HEAD|GET/,
      when: action,
      times: 2,
      action: { status: 503, headers: { 'Retry-After': '0' } },
    });
    const { run } = await push('faults/confirm');
    await fault('registry', "503 on the action's digest check", 'survived', async () => {
      expect(proxy.hits).toHaveLength(2);
      expect(run.stdout).toMatch(/check [^\n]*: attempt 2\/\d after 503/);
      await expectSurvived(run, 'faults/confirm');
    });
  });
});

describe('permanent registry faults fail with the registry reason', () => {
  it('a tag the registry keeps failing (500): the partial push is reported tag by tag', async () => {
    proxy.clear();
    proxy.add({
      method: /PUT/,
      path: /\/manifests\/t2$/,
      times: Infinity,
      action: { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"storage backend on fire"}]}' },
    });
    const { run } = await push('faults/partial', { tags: 't1,t2,t3' });
    await fault('registry', 'partial push (second tag fails)', 'failed-cleanly', async () => {
      // The graph-driver engine relays a 5xx as its status only (it drops the body of 5xx
      // answers); the containerd store relays the body's message only.
      const { text } = expectCleanFailure(
        run,
        containerdStore
          ? /pushing [^\n]*faults\/partial:t2 [^\n]*failed: error from registry: storage backend on fire/
          : /pushing [^\n]*faults\/partial:t2 [^\n]*failed: received unexpected HTTP status: 500 Internal Server Error/,
        /failed in phase push/,
      );
      expect(text).toMatch(
        /Already pushed:\n[^\n]*faults\/partial:t1: pushed sha256:[a-f0-9]{64}\nFailed: [^\n]*faults\/partial:t2\nNot attempted: [^\n]*faults\/partial:t3/,
      );
      expect(text).not.toMatch(/message above/);
      // Five attempts at t2: bounded, not endless (on the containerd store, its own two: the
      // action sees no status, so it does not retry).
      expect(proxy.hits).toHaveLength(containerdStore ? CONTAINERD_500_HITS : 5);
      expect(await registryDigest(services, 'faults/partial', 't1')).toBe(text.match(/t1: pushed (sha256:\w+)/)![1]);
      expect(await registryDigest(services, 'faults/partial', 't2')).toBeUndefined();
      expect(await registryDigest(services, 'faults/partial', 't3')).toBeUndefined();
      // The job summary tells the same story, step by step.
      expect(run.summary).toMatch(/✅ Push [^\n]*faults\/partial:t1\n/);
      expect(run.summary).toMatch(/❌ Push [^\n]*faults\/partial:t2 — failed/);
      expect(run.summary).toMatch(/⏸️ Push [^\n]*faults\/partial:t3 — not reached/);
    });
  });

  it("a registry that rejects the manifest (400) fails at once with the registry's words", async () => {
    proxy.clear();
    proxy.add({
      method: /PUT/,
      path: /\/manifests\/t1$/,
      times: Infinity,
      action: {
        status: 400,
        body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"layer quota exceeded, injected"}]}',
      },
    });
    const { run } = await push('faults/rejected');
    await fault('registry', '400 manifest invalid', 'failed-cleanly', () => {
      expectCleanFailure(
        run,
        /pushing [^\n]*faults\/rejected:t1 [^\n]*failed: (?:error from registry: )?manifest invalid/,
        /failed in phase push/,
      );
      expect(actionRetried(run)).toBe(false);
      expect(proxy.hits).toHaveLength(1);
    });
  });

  it('a refusal (403 denied) is not retried and names the credentials to check', async () => {
    proxy.clear();
    proxy.add({
      method: /POST/,
      path: /\/blobs\/uploads\/$/,
      times: Infinity,
      action: {
        status: 403,
        body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied, injected"}]}',
      },
    });
    const { run, ms } = await push('faults/denied');
    await fault('registry', '403 denied on upload', 'failed-cleanly', () => {
      expectCleanFailure(run, /refused the push of [^\n]*faults\/denied:t1: [^\n]*denied/, /input 'registry-password'/);
      expect(actionRetried(run)).toBe(false);
      expect(ms).toBeLessThan(20_000);
    });
  });

  it('a registry that is down (nothing listens on its port)', async () => {
    const down = await new FaultProxy(services.registry).start();
    const host = down.host;
    await down.close();
    const { run } = await push('faults/down', {}, host);
    await fault('registry', 'registry down', 'failed-cleanly', () => {
      const { text } = expectCleanFailure(
        run,
        new RegExp(`${host.replace(/\./g, '\\.')}[^\\n]*failed: nothing answered \\([^\\n]*connection refused`),
        /failed in phase push/,
      );
      expect(text).toMatch(/Fix: check the registry host in 'image'/);
    });
  });
});
