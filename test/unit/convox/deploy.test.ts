/**
 * deploy() against the real rack test server, started in-process: happy paths in both modes
 * and the failures a person must be told about plainly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, DeployError } from '../../../src/convox/deploy.js';
import type { DeployRequest } from '../../../src/convox/deploy.js';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { directTarget, leakedSecrets, MANIFEST, MANIFEST_PINNED, request, tarballFactory } from './harness.js';
import type { TestRequest } from './harness.js';

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  expect(leakedSecrets()).toEqual([]);
});

async function rack(opts: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ apps: [{ name: 'shop', manifest: MANIFEST_PINNED, env: 'A=1' }], ...opts });
  return server;
}

async function failing(req: TestRequest): Promise<DeployError> {
  try {
    await deploy(req);
  } catch (e) {
    if (e instanceof DeployError) return e;
    throw e;
  }
  throw new Error(`deploy succeeded:\n${req.log.text()}`);
}

function posts(s: RackServer, path: RegExp): number {
  return s.requests.filter((r) => r.method === 'POST' && path.test(r.path)).length;
}

/** The password never reaches the job log, in any form. */
function expectNoSecret(req: DeployRequest & { log: { text(): string } }, s: RackServer): void {
  const text = req.log.text();
  expect(text).not.toContain(s.password);
  expect(text).not.toContain(Buffer.from(`convox:${s.password}`).toString('base64'));
}

describe('deploy: manifest mode', () => {
  it('uploads, builds, promotes and waits; the new release is active', async () => {
    const s = await rack();
    const before = s.state.apps.get('shop')?.release;
    const progress: string[] = [];
    const req = await request(directTarget(s.url, s.password), { onProgress: (p) => progress.push(p.phase) });
    const result = await deploy(req);
    const app = s.state.apps.get('shop');
    expect(result).toMatchObject({ outcome: 'deployed', previousReleaseId: before });
    expect(app?.release).toBe(result.releaseId);
    expect(app?.status).toBe('running');
    const build = app?.builds.find((b) => b.id === result.buildId);
    expect(build?.status).toBe('complete');
    expect(build?.description).toBe('deploy from test (0123456789)');
    expect(build?.gitSha).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(build?.params.manifestPath).toBe('convox.yml');
    const upload = s.requests.find((r) => r.method === 'POST' && r.path.startsWith('/apps/shop/objects/'));
    expect(upload?.path).toMatch(/^\/apps\/shop\/objects\/tmp\/[0-9a-f]{30}\.tgz$/);
    expect(upload?.headers['content-type']).toBe('application/octet-stream');
    expect(upload?.bodyBytes).toBeGreaterThan(0);
    expect(req.log.text()).toContain('Running: docker push');
    expect(progress).toEqual(['connect', 'upload', 'build', 'promote', 'wait', 'deployed']);
    expect(s.requests.every((r) => r.headers['user-agent']?.startsWith('convox-image-deploy'))).toBe(true);
    expectNoSecret(req, s);
  });

  it('works against a v2 rack', async () => {
    const s = await rack({ version: '20260418101514' });
    const result = await deploy(await request(directTarget(s.url, s.password)));
    expect(s.state.apps.get('shop')?.release).toBe(result.releaseId);
    const promote = s.requests.find((r) => r.path.endsWith('/promote'));
    expect(promote?.form).toEqual({});
  });

  it('without wait, returns once the rack accepted the promote', async () => {
    const s = await rack();
    const result = await deploy(await request(directTarget(s.url, s.password), { wait: false }));
    expect(result.outcome).toBe('promoted-no-wait');
    expect(posts(s, /\/promote$/)).toBe(1);
  });
});

describe('deploy: env mode', () => {
  it('sets IMAGE_VERSION keeping every other variable, passes build-args, promotes', async () => {
    const env = 'A=1\nB= spaced \nIMAGE_VERSION=old\nURL=https://x.example.com/?a=b';
    const s = await rack({ apps: [{ name: 'shop', manifest: MANIFEST, env }] });
    const source = await tarballFactory({ 'convox.yml': MANIFEST });
    const req = await request(directTarget(s.url, s.password), { mode: 'env', source: source.source, tag: '20260202020202' });
    const result = await deploy(req);
    const app = s.state.apps.get('shop');
    const release = app?.releases.find((r) => r.id === result.releaseId);
    expect(app?.release).toBe(result.releaseId);
    expect(release?.env).toBe('A=1\nB= spaced \nIMAGE_VERSION=20260202020202\nURL=https://x.example.com/?a=b');
    const build = app?.builds.find((b) => b.id === result.buildId);
    expect(build?.params.buildArgs).toEqual(['IMAGE_VERSION=20260202020202']);
    expect(req.log.text()).toContain('registry.example.com/acme/shop:20260202020202');
    expectNoSecret(req, s);
  });

  it('creates no env release when the value is already set', async () => {
    const s = await rack({ apps: [{ name: 'shop', manifest: MANIFEST, env: 'IMAGE_VERSION=t1' }] });
    await deploy(await request(directTarget(s.url, s.password), { mode: 'env', tag: 't1' }));
    expect(posts(s, /^\/apps\/shop\/releases$/)).toBe(0);
  });
});

describe('deploy: failures said plainly', () => {
  it('a failing build shows the rack log tail and keeps the build id', async () => {
    const s = await rack();
    s.faults.failBuild('pull access denied for registry.example.com/acme/shop');
    const req = await request(directTarget(s.url, s.password));
    const e = await failing(req);
    // The rack's own words head the message, not only the log tail below it.
    expect(e.message).toMatch(
      /^build B[A-Z]{10} failed on 127\.0\.0\.1:\d+: pull access denied for registry\.example\.com\/acme\/shop\nlast lines/,
    );
    expect(e.message).toContain('  | ERROR: pull access denied');
    expect(e.partial.buildId).toMatch(/^B/);
    expect(e.logTail.at(-1)).toBe('ERROR: pull access denied for registry.example.com/acme/shop');
    expect(e.place.phase).toBe('deploy');
    expect(posts(s, /\/promote$/)).toBe(0);
  });

  it.each(['rollback', 'fast-rollback'] as const)(
    'a %s is a failure naming the previous release, which stays active',
    async (outcome) => {
      const s = await rack();
      const previous = s.state.apps.get('shop')?.release ?? '';
      s.faults.nextPromote(outcome);
      const req = await request(directTarget(s.url, s.password));
      const e = await failing(req);
      expect(e.message).toContain('rolled back');
      expect(e.message).toContain(`rolled back to ${previous} (the release active before this deploy)`);
      expect(e.message).toContain('rack events:');
      expect(e.logTail.join('\n')).toContain(`release=${previous}`);
      expect(e.partial).toMatchObject({ previousReleaseId: previous });
      expect(e.partial.releaseId).toMatch(/^R/);
      expect(s.state.apps.get('shop')?.release).toBe(previous);
    },
  );

  it('a v2 rollback that fails for good says so', async () => {
    const s = await rack({ version: '20260418101514' });
    s.faults.nextPromote('failed');
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(e.message).toMatch(
      /shop is failed \(the update failed and so did its rollback\), active release R[A-Z]{10}\nrack events:/,
    );
    expect(e.message).toContain('UPDATE_ROLLBACK_FAILED');
  });

  it('another release promoted during ours is reported, not taken for success', async () => {
    const s = await rack();
    s.faults.nextPromote('superseded');
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(e.message).toMatch(/someone else promoted/);
  });

  it.each(['eof', 'hang'] as const)(
    'a build stuck running (log stream: %s) ends at the timeout, saying where it stuck',
    async (stream) => {
      const s = await rack();
      s.faults.stickBuild(stream);
      const req = await request(directTarget(s.url, s.password), { timeoutMs: 1500 });
      const started = Date.now();
      const e = await failing(req);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(e.message).toMatch(
        /^timed out after 2s \(the timeout input\): build B[A-Z]{10} was still running after \d+s?; last log line: /,
      );
      expect(e.partial.buildId).toMatch(/^B/);
    },
  );

  it('a wrong password names rack-password', async () => {
    const s = await rack();
    const e = await failing(await request(directTarget(s.url, 'wrong-password')));
    expect(e.message).toMatch(/rejected the credential from rack-password/);
    expect(e.fix).toBeTruthy();
  });

  it('an unknown app says so with the rack', async () => {
    const s = await rack();
    const e = await failing(await request(directTarget(s.url, s.password), { app: 'nope' }));
    expect(e.message).toBe('app not found: nope on 127.0.0.1:' + new URL(s.url).port);
  });

  it('a legacy rack is refused before anything is written', async () => {
    const s = await rack({ version: '20170101000000' });
    const e = await failing(await request(directTarget(s.url, s.password)));
    expect(e.message).toMatch(/unsupported rack version 20170101000000/);
    expect(s.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a rollout still going at the timeout says so, with the last rack event', async () => {
    const s = await rack({ timing: { promoteMs: 60_000 } });
    const e = await failing(await request(directTarget(s.url, s.password), { timeoutMs: 2000 }));
    expect(e.message).toMatch(
      /^timed out after 2s \(the timeout input\): release (R[A-Z]{10}) was still rolling out \(app status updating, active release \1\) after \d+s; last rack event: .*system\/k8s\//,
    );
    expect(e.partial.releaseId).toMatch(/^R/);
  });

  it('cancellation stops the deploy and says where it was', async () => {
    const s = await rack({ timing: { buildMs: 5000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('job cancelled')), 300);
    const e = await failing(await request(directTarget(s.url, s.password), { signal: controller.signal }));
    expect(e.message).toMatch(/^deploy cancelled while build B[A-Z]{10} was still running/);
  });

  it('a rack password inside rack output is masked in the log and the error', async () => {
    const s = await rack();
    s.faults.failBuild(`push to https://convox:${s.password}@api.rack.example.com refused`);
    const req = await request(directTarget(s.url, s.password));
    const e = await failing(req);
    expect(e.message).toContain('push to https://convox:***@api.rack.example.com refused');
    expect(req.log.text()).toContain('convox:***@');
  });
});

describe('deploy: a timeout or cancel says which step it stopped in', () => {
  const timedOut = /^timed out after 2s \(the timeout input\): /;

  async function envDeploy(s: RackServer, over: Partial<DeployRequest> = {}): Promise<DeployError> {
    return failing(await request(directTarget(s.url, s.password), { mode: 'env', tag: 'v9', timeoutMs: 1500, ...over }));
  }

  it('reading the env before the env release: nothing was written', async () => {
    const s = await rack();
    s.faults.slow('GET', '/apps/shop/releases', 60_000);
    const e = await envDeploy(s);
    expect(e.message).toMatch(timedOut);
    expect(e.message).toContain(
      "reading the app's environment (the newest release of shop) before setting IMAGE_VERSION; nothing was written yet",
    );
    expect(posts(s, /./)).toBe(0);
  });

  it('writing the env release: warns that it may have landed', async () => {
    const s = await rack();
    s.faults.slow('POST', '/apps/shop/releases', 60_000);
    const e = await envDeploy(s);
    expect(e.message).toMatch(timedOut);
    expect(e.message).toContain(
      'creating the env release with IMAGE_VERSION=v9 (it may have landed: check convox releases --app shop before re-running)',
    );
    expect(e.message).not.toContain('connecting to');
  });

  it('a cancel during the env release write says the same', async () => {
    const s = await rack();
    s.faults.slow('POST', '/apps/shop/releases', 60_000);
    const controller = new AbortController();
    void whenRequested(s, 'POST', '/apps/shop/releases').then(() => controller.abort(new Error('job cancelled')));
    const e = await envDeploy(s, { signal: controller.signal, timeoutMs: 20_000 });
    expect(e.message).toMatch(/^deploy cancelled while creating the env release with IMAGE_VERSION=v9 \(it may have landed/);
  });

  it('re-reading the env after a lost env release answer still warns that it may have landed', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/releases', reset: true, after: true });
    // Only the read of the new release, which comes after the write, is slow.
    const seed = s.state.apps.get('shop')?.release ?? '';
    s.faults.slow('GET', new RegExp(`^/apps/shop/releases/(?!${seed}$)[^/]+$`), 60_000);
    const e = await envDeploy(s);
    expect(e.message).toMatch(timedOut);
    expect(e.message).toContain(
      "reading the app's environment to see whether the env release with IMAGE_VERSION=v9 landed (it may have",
    );
  });

  it("checking the build's release for the variable: not the build's status, nothing promoted", async () => {
    const s = await rack();
    const e = await envDeploy(s, {
      onProgress: (p) => p.phase === 'build' && s.faults.slow('GET', '/apps/shop/releases/*', 60_000),
    });
    expect(e.message).toMatch(timedOut);
    expect(e.message).toMatch(
      /reading release R[A-Z]{10} of build B[A-Z]{10} to check that it carries IMAGE_VERSION=v9; nothing was promoted$/,
    );
    expect(e.message).not.toMatch(/was still complete/);
    expect(posts(s, /\/promote$/)).toBe(0);
  });

  it("the idle read before promoting: not the build's status, nothing promoted", async () => {
    const s = await rack();
    const e = await failing(
      await request(directTarget(s.url, s.password), {
        timeoutMs: 1500,
        onProgress: (p) => p.phase === 'promote' && s.faults.slow('GET', '/apps/shop', 60_000),
      }),
    );
    expect(e.message).toMatch(timedOut);
    expect(e.message).toMatch(/reading the status of app shop before promoting release R[A-Z]{10}; nothing was promoted$/);
    expect(e.message).not.toMatch(/was still complete/);
    expect(posts(s, /\/promote$/)).toBe(0);
  });
});

/** Resolves once the server has seen a matching request (it may still be handling it). */
async function whenRequested(s: RackServer, method: string, path: string): Promise<void> {
  while (!s.requests.some((r) => r.method === method && r.path === path)) await new Promise((r) => setTimeout(r, 10));
}
