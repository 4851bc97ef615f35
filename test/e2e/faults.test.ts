/**
 * Faults injected on the real engine and registry (through a fault proxy) and the rack test
 * server, run through the real bundle: transient faults are survived, permanent ones fail with
 * the registry's or rack's reason, a partial push is reported tag by tag, and a cancelled run
 * stops promptly saying where, with no half-written manifest.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../rack-server/index.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { importBaseImage, startDockerd, stopDockerd } from '../support/services.js';
import { recordFigure } from '../support/figures.js';
import { registryDigest } from '../support/registry.js';
import { runAction, type ActionRun } from '../support/run-action.js';
import { makeWorkspace } from '../support/workspace.js';

const services = inject('services');
let proxy: FaultProxy;
let rack: RackServer | undefined;
const tally = { injected: 0, survived: 0, failedCleanly: 0 };

beforeAll(async () => {
  proxy = await new FaultProxy(services.registry).start();
});
afterEach(async () => {
  proxy.clear();
  await rack?.close();
  rack = undefined;
});
afterAll(async () => {
  await proxy.close();
  recordFigure('faults', tally);
  console.log(`faults: ${tally.injected} injected, ${tally.survived} survived, ${tally.failedCleanly} failed cleanly`);
});

const DOCKERFILE = 'FROM scratch\nCOPY a.txt /a.txt\n';
function ws(extra: Record<string, string> = {}): string {
  return makeWorkspace({ Dockerfile: DOCKERFILE, 'a.txt': `${Math.random()}\n`, ...extra });
}
function inputs(repo: string, extra: Record<string, string> = {}): Record<string, string> {
  return { image: `${proxy.host}/${repo}`, tags: 't1', update: 'none', network: 'none', 'registry-username': services.registryUser, 'registry-password': services.registryPassword, ...extra };
}
const env = (): Record<string, string> => ({ DOCKER_HOST: services.dockerHost });

async function survived(run: ActionRun, repo: string, tag = 't1'): Promise<void> {
  tally.injected++;
  expect(run.code, run.all).toBe(0);
  expect(run.outputs.digest).toBe(await registryDigest(services, repo, tag));
  tally.survived++;
}

function failedCleanly(run: ActionRun, message: RegExp): void {
  tally.injected++;
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(message);
  expect(run.all).not.toContain(services.registryPassword);
  tally.failedCleanly++;
}

describe('registry faults', () => {
  it('survives a 429 with Retry-After on the manifest upload', async () => {
    proxy.add({ method: /PUT/, path: /\/manifests\/t1$/, action: { status: 429, headers: { 'Retry-After': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } });
    const run = await runAction({ inputs: inputs('faults/throttled'), env: env(), workspace: ws() });
    expect(proxy.hits).toHaveLength(1);
    await survived(run, 'faults/throttled');
  });

  it('survives 503s on layer uploads', async () => {
    proxy.add({ method: /POST|PATCH|PUT/, path: /\/blobs\/uploads/, times: 2, action: { status: 503 } });
    const run = await runAction({ inputs: inputs('faults/unavailable'), env: env(), workspace: ws() });
    expect(proxy.hits.length).toBeGreaterThan(0);
    await survived(run, 'faults/unavailable');
  });

  it('survives a connection reset in the middle of an upload', async () => {
    proxy.add({ method: /PATCH|PUT/, path: /\/blobs\/uploads/, action: 'reset' });
    const run = await runAction({ inputs: inputs('faults/reset'), env: env(), workspace: ws() });
    await survived(run, 'faults/reset');
  });

  it('survives a slow registry', async () => {
    proxy.add({ path: /\/v2\//, times: Infinity, action: { delayMs: 150 } });
    const run = await runAction({ inputs: inputs('faults/slow'), env: env(), workspace: ws() });
    await survived(run, 'faults/slow');
  });

  it('fails with the registry reason when it stays unavailable, and reports the partial push tag by tag', async () => {
    proxy.add({ method: /PUT/, path: /\/manifests\/t2$/, times: Infinity, action: { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"storage backend on fire"}]}' } });
    const run = await runAction({ inputs: inputs('faults/partial', { tags: 't1,t2' }), env: env(), workspace: ws() });
    failedCleanly(run, /storage backend on fire|500/);
    expect(run.stdout).toMatch(/Already pushed:[\s\S]*faults\/partial:t1[\s\S]*Failed: [^\n]*faults\/partial:t2/);
    expect(await registryDigest(services, 'faults/partial', 't1')).toMatch(/^sha256:/);
    expect(await registryDigest(services, 'faults/partial', 't2')).toBeUndefined();
  });

  it('fails clearly when the registry is down', async () => {
    const down = await new FaultProxy(services.registry).start();
    const host = down.host;
    await down.close();
    const run = await runAction({ inputs: { ...inputs('faults/down'), image: `${host}/faults/down` }, env: env(), workspace: ws() });
    failedCleanly(run, new RegExp(`${host.replace(/\./g, '\\.')}[\\s\\S]*(connection refused|did not answer)`));
  });
});

describe('rack faults, through the action', () => {
  async function deployRun(setup: (r: RackServer) => void, extra: Record<string, string> = {}): Promise<ActionRun> {
    rack = await startRackServer({ password: 'pw-rack-faults', registry: { host: services.registry, username: services.registryUser, password: services.registryPassword }, apps: [{ name: 'shop', env: 'A=1', manifest: 'services:\n  web:\n    image: busybox\n' }] });
    setup(rack);
    const repo = `faults/rack-${Math.random().toString(36).slice(2, 7)}`;
    const dir = ws({ 'convox.yml': `services:\n  web:\n    image: ${services.registry}/${repo}:old\n` });
    return runAction({ inputs: inputs(repo, { image: `${services.registry}/${repo}`, update: 'manifest', app: 'shop', 'rack-host': rack.url, 'rack-password': 'pw-rack-faults', ...extra }), env: env(), workspace: dir });
  }
  const posts = (r: RackServer, re: RegExp): number => r.requests.filter((q) => q.method === 'POST' && re.test(q.path)).length;

  it('a promote whose answer was lost is not sent twice, and the report names the active release', async () => {
    const run = await deployRun((r) => r.faults.fail({ method: 'POST', path: /\/promote$/, reset: true, after: true }));
    tally.injected++;
    expect(posts(rack!, /\/promote$/)).toBe(1);
    const active = rack!.state.requireApp('shop').release;
    expect(run.stdout + run.summary).toContain(active);
    if (run.code === 0) tally.survived++;
    else tally.failedCleanly++;
  });

  it('a build-create whose answer was lost is not sent twice', async () => {
    const run = await deployRun((r) => r.faults.fail({ method: 'POST', path: '/apps/shop/builds', reset: true, after: true }));
    failedCleanly(run, /build/);
    expect(posts(rack!, /^\/apps\/shop\/builds$/)).toBe(1);
  });

  it('a build log socket that drops mid-log still completes the deploy', async () => {
    const run = await deployRun((r) => r.faults.dropSocket('/apps/shop/builds/*/logs', 2));
    tally.injected++;
    expect(run.code, run.all).toBe(0);
    expect(rack!.state.requireApp('shop').release).toBe(run.outputs['release-id']);
    tally.survived++;
  });

  it('a build stuck running ends at the timeout, saying where it stuck', async () => {
    const run = await deployRun((r) => r.faults.stickBuild('eof'), { timeout: '4s' });
    failedCleanly(run, /B[A-Z]{10}[\s\S]*(still running|running)/);
  });

  it('the active release changing under us is reported, not taken for success', async () => {
    const run = await deployRun((r) => r.faults.nextPromote('superseded'));
    failedCleanly(run, /someone else promoted|not active/);
  });
});

describe('engine faults', () => {
  it('a full disk on the engine fails with the step and a fix that says so', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cid-small-engine-'));
    const engine = await startDockerd(root, 48);
    try {
      importBaseImage(root, engine.host);
      const dir = ws({ Dockerfile: `FROM ${services.baseImage}\nRUN dd if=/dev/zero of=/fill bs=1M count=100\n` });
      const run = await runAction({ inputs: inputs('faults/diskfull'), env: { DOCKER_HOST: engine.host }, workspace: dir });
      failedCleanly(run, /no space left on device/i);
      expect(run.stdout).toMatch(/RUN dd if=\/dev\/zero/);
      expect(run.stdout).toMatch(/disk is full/);
    } finally {
      await stopDockerd(engine.proc, root);
    }
  });

  it('names DOCKER_HOST when the engine is not reachable', async () => {
    const run = await runAction({ inputs: inputs('faults/noengine'), env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, workspace: ws() });
    failedCleanly(run, /DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/);
  });
});

describe('cancellation (what the runner sends on cancel)', () => {
  it('SIGTERM during the build stops promptly, says where, and leaves the manifest untouched', async () => {
    const manifest = `services:\n  web:\n    image: ${proxy.host}/faults/cancel:old\n`;
    const dir = ws({ Dockerfile: `FROM ${services.baseImage}\nRUN echo started-slow-step && sleep 30\n`, 'convox.yml': manifest });
    const started = Date.now();
    const run = await runAction({ inputs: inputs('faults/cancel', { update: 'manifest' }), env: env(), workspace: dir, kill: { signal: 'SIGTERM', whenOutput: /started-slow-step/ } });
    const tookMs = Date.now() - started;
    failedCleanly(run, /cancelled by SIGTERM during the build phase/);
    expect(tookMs).toBeLessThan(20_000); // the step sleeps 30 s: stopping well before proves it stopped
    expect(run.stdout).toContain('convox.yml was not changed.');
    expect(readFileSync(path.join(dir, 'convox.yml'), 'utf8')).toBe(manifest);
  });

  it('SIGTERM during the push stops promptly and says so', async () => {
    proxy.add({ path: /\/blobs\/uploads/, times: Infinity, action: { delayMs: 20_000 } });
    const started = Date.now();
    const run = await runAction({ inputs: inputs('faults/cancelpush'), env: env(), workspace: ws(), kill: { signal: 'SIGTERM', whenOutput: /Pushing / } });
    failedCleanly(run, /cancelled by SIGTERM during the push phase/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stdout).toContain('Nothing was sent to the rack.');
  });

  it('SIGTERM during the source upload stops promptly; no build was created', async () => {
    rack = await startRackServer({ password: 'pw-cancel-2', registry: { host: services.registry, username: services.registryUser, password: services.registryPassword }, apps: [{ name: 'shop', env: 'A=1', manifest: 'services:\n  web:\n    image: busybox\n' }] });
    rack.faults.slow('POST', '/apps/shop/objects/**', 20_000);
    const manifest = `services:\n  web:\n    image: ${services.registry}/faults/cancelupload:old\n`;
    const dir = ws({ 'convox.yml': manifest });
    const started = Date.now();
    const run = await runAction({
      inputs: inputs('faults/cancelupload', { image: `${services.registry}/faults/cancelupload`, update: 'manifest', app: 'shop', 'rack-host': rack.url, 'rack-password': 'pw-cancel-2' }),
      env: env(),
      workspace: dir,
      kill: { signal: 'SIGTERM', whenOutput: /version 3\.24\.9/ },
    });
    failedCleanly(run, /cancelled by SIGTERM during the deploy phase/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stdout).toContain('Rack: build not created');
    expect(rack.requests.filter((q) => q.method === 'POST' && q.path === '/apps/shop/builds')).toEqual([]);
    // The manifest had been rewritten completely before the deploy began; the report says so.
    expect(run.stdout).toContain('convox.yml had already been rewritten (completely).');
  });

  it('SIGINT while waiting for the rollout says which release the rack was left with', async () => {
    rack = await startRackServer({ password: 'pw-cancel-1', timing: { promoteMs: 60_000 }, registry: { host: services.registry, username: services.registryUser, password: services.registryPassword }, apps: [{ name: 'shop', env: 'A=1', manifest: 'services:\n  web:\n    image: busybox\n' }] });
    const before = rack.state.requireApp('shop').release;
    // The rack test server pulls from the real registry, so this one pushes there directly.
    const dir = ws({ 'convox.yml': `services:\n  web:\n    image: ${services.registry}/faults/cancelwait:old\n` });
    const run = await runAction({
      inputs: inputs('faults/cancelwait', { image: `${services.registry}/faults/cancelwait`, update: 'manifest', app: 'shop', 'rack-host': rack.url, 'rack-password': 'pw-cancel-1' }),
      env: env(),
      workspace: dir,
      kill: { signal: 'SIGINT', whenOutput: /Promoted R[A-Z]{10}/ },
    });
    failedCleanly(run, /cancelled by SIGINT during the deploy phase/);
    expect(run.stdout).toMatch(new RegExp(`release R[A-Z]{10}; the release active before this deploy was ${before}`));
    expect(run.outputs['release-id']).toMatch(/^R[A-Z]{10}$/);
  });
});
