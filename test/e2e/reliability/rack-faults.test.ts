/**
 * Rack faults through the whole action (real build and push, rack test server): 5xx answers and
 * timeouts on reads and on each write, lost answers, an app stuck updating, a build stuck
 * running, log sockets that drop, rollbacks, and the active release changing under us. For every
 * one, from the rack's own record of requests: no write is sent twice when the first may have
 * landed; and the final report (log and job summary) names the release the rack is running.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer, type RackServerOptions } from '../../rack-server/index.js';
import { runAction, type ActionRun } from '../../support/run-action.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectCleanFailure, expectNoSecrets, fault, GITHUB_TOKEN, RACK_PASSWORD, runSecrets } from './helpers.js';

const services = inject('services');
let rack: RackServer | undefined;
afterEach(async () => {
  await rack?.close();
  rack = undefined;
});

interface Deployed {
  run: ActionRun;
  rack: RackServer;
  /** The release active before the run. */
  before: string;
  ms: number;
}

/** Builds, pushes and deploys `shop` with `setup` applied to a fresh rack; `timeout` 5s unless given. */
async function deploy(
  name: string,
  setup: (r: RackServer) => void,
  extra: Record<string, string> = {},
  opts: Partial<RackServerOptions> = {},
): Promise<Deployed> {
  rack = await startRackServer({
    password: RACK_PASSWORD,
    registry: { host: services.registry, username: services.registryUser, password: services.registryPassword },
    apps: [{ name: 'shop', env: 'IMAGE_VERSION=old\nA=1', manifest: 'services:\n  web:\n    image: busybox\n' }],
    ...opts,
  });
  const before = rack.state.requireApp('shop').release;
  setup(rack);
  const repo = `rack-faults/${name}`;
  const image = extra.update === 'env' ? `${services.registry}/${repo}:\${IMAGE_VERSION}` : `${services.registry}/${repo}:old`;
  const ws = makeWorkspace({
    Dockerfile: 'FROM scratch\nCOPY a.txt /\n',
    'a.txt': `${name}\n`,
    'convox.yml': `services:\n  web:\n    image: ${image}\n`,
  });
  const started = Date.now();
  const run = await runAction({
    inputs: {
      image: `${services.registry}/${repo}`,
      tags: 't1',
      network: 'none',
      'registry-username': services.registryUser,
      'registry-password': services.registryPassword,
      app: 'shop',
      'rack-host': rack.url,
      // These faults are injected into the source route (upload, build, build log).
      'rack-build': 'source',
      'rack-password': RACK_PASSWORD,
      'github-token': GITHUB_TOKEN,
      timeout: '5s',
      ...extra,
    },
    env: { DOCKER_HOST: services.dockerHost },
    workspace: ws,
  });
  expectNoSecrets(`rack: ${name}`, run, { workspace: ws, secrets: runSecrets(services) });
  return { run, rack, before, ms: Date.now() - started };
}

/**
 * No write repeated once it may have landed: each POST path is sent once, except the object
 * upload (same key, so a repeat overwrites) and a promote the rack refused outright (403).
 */
function expectNoRepeatedWrites(r: RackServer): void {
  const byPath = new Map<string, number[]>();
  for (const q of r.requests)
    if (q.method === 'POST' && !q.path.includes('/objects/')) byPath.set(q.path, [...(byPath.get(q.path) ?? []), q.status]);
  for (const [p, statuses] of byPath)
    expect(
      statuses.slice(0, -1).filter((s) => s !== 403),
      `${p} was sent again after ${statuses.join(', ')}`,
    ).toEqual([]);
}

/** The rack's active release, named in the log and in the job summary; on a failure, in a `Rack now:` line. */
function expectActiveReleaseNamed(d: Deployed): string {
  const app = d.rack.state.requireApp('shop');
  const active = app.release;
  expect(d.run.stdout).toContain(active);
  expect(d.run.summary).toContain(active);
  if (d.run.code !== 0) {
    const now = new RegExp(`Rack now: shop on [^\\n]* is ${app.status}, active release ${active}`);
    expect(d.run.stdout.replace(/%0A/g, '\n')).toMatch(now);
    expect(d.run.summary).toMatch(now);
  }
  return active;
}

function posts(r: RackServer, path: RegExp): number {
  return r.requests.filter((q) => q.method === 'POST' && path.test(q.path)).length;
}

/** A deploy that went through despite the fault: exit 0, our release active, said in log and summary. */
function expectDeployed(d: Deployed): void {
  expect(d.run.code, d.run.stdout.slice(-3000)).toBe(0);
  expect(d.rack.state.requireApp('shop').release).toBe(d.run.outputs['release-id']);
  expect(d.run.summary).toMatch(new RegExp(`^### ✅ Deployed release \`${d.run.outputs['release-id']}\``));
  expectNoRepeatedWrites(d.rack);
  expectActiveReleaseNamed(d);
}

/**
 * A deploy that failed cleanly: the reason and fix, no write repeated, the active release named.
 * A failure in the plan phase happened before anything was sent to the rack (only reads, which
 * failed): there it is the rack that could not be read, and nothing on it changed.
 */
function expectFailed(d: Deployed, reason: RegExp, phase = 'deploy'): void {
  expectCleanFailure(d.run, reason, new RegExp(`failed in phase ${phase}`));
  expectNoRepeatedWrites(d.rack);
  if (phase === 'plan') expect(d.rack.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  else expectActiveReleaseNamed(d);
}

describe('reads', () => {
  it('5xx answers on every kind of read are retried', async () => {
    const d = await deploy(
      'read-5xx',
      (r) => {
        r.faults.fail({ method: 'GET', path: '/system', status: 500, times: 2 });
        r.faults.fail({ method: 'GET', path: '/apps/shop', status: 502, times: 2 });
        r.faults.fail({ method: 'GET', path: '/apps/shop/releases', status: 503, times: 1 });
        r.faults.fail({ method: 'GET', path: '/apps/shop/builds/*', status: 503, times: 2, body: 'upstream unavailable' });
      },
      { timeout: '1m' },
    );
    await fault('rack', '5xx on reads', 'survived', () => {
      expectDeployed(d);
      expect(d.run.stdout).toMatch(/rack: GET \/apps\/shop\/builds\/B[A-Z]{10} answered 503; retrying/);
    });
  });

  it('a read that keeps failing ends with the rack words, nothing promoted', async () => {
    const d = await deploy(
      'read-fails',
      (r) => r.faults.fail({ method: 'GET', path: '/apps/shop/builds/*', status: 500, times: Infinity, body: 'etcd is gone' }),
      { timeout: '1m' },
    );
    await fault('rack', 'a read keeps failing', 'failed-cleanly', () => {
      expectFailed(
        d,
        /could not read build B[A-Z]{10} on [^\n]*: etcd is gone \(GET \/apps\/shop\/builds\/B[A-Z]{10} answered 500\)/,
      );
      expect(posts(d.rack, /\/promote$/)).toBe(0);
      expect(d.rack.state.requireApp('shop').release).toBe(d.before);
    });
  });

  it('a read that never answers in the plan is bounded by the timeout input, before anything is built', async () => {
    const d = await deploy('read-hangs-plan', (r) => r.faults.slow('GET', '/apps/shop', 120_000));
    await fault('rack', 'read timeout before the build', 'failed-cleanly', () => {
      expectFailed(
        d,
        /timed out after 5s \(the timeout input\) reading app shop on [^\n]*; nothing was built, pushed or deployed/,
        'plan',
      );
      expect(d.ms).toBeLessThan(15_000);
      expect(d.run.outputs['image-id']).toBeUndefined();
      expect(d.rack.state.requireApp('shop').release).toBe(d.before);
    });
  });

  it('a read that never answers during the deploy ends at the timeout, saying where', async () => {
    const d = await deploy('read-hangs-build', (r) => r.faults.slow('GET', '/apps/shop/builds/*', 120_000, 1));
    await fault('rack', 'read timeout during the deploy', 'failed-cleanly', () => {
      expectFailed(
        d,
        /timed out after 5s \(the timeout input\): build B[A-Z]{10}: the rack did not answer a read of its status within 5s/,
      );
      expect(posts(d.rack, /\/promote$/)).toBe(0);
    });
  });
});

describe('writes', () => {
  it('upload answered 5xx twice: repeated with the same key, deployed', async () => {
    const d = await deploy(
      'upload-5xx',
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/objects/**', status: 503, times: 2 }),
      { timeout: '1m' },
    );
    await fault('rack', '5xx on the upload', 'survived', () => {
      expectDeployed(d);
      const uploads = d.rack.requests.filter((q) => q.method === 'POST' && q.path.includes('/objects/')).map((q) => q.path);
      expect(uploads).toHaveLength(3);
      expect(new Set(uploads).size).toBe(1);
    });
  });

  it('upload that never answers: ends at the timeout, no build created', async () => {
    const d = await deploy('upload-hangs', (r) => r.faults.slow('POST', '/apps/shop/objects/**', 120_000));
    await fault('rack', 'upload timeout', 'failed-cleanly', () => {
      expectFailed(d, /timed out after 5s \(the timeout input\): uploading the source to the rack/);
      expect(posts(d.rack, /^\/apps\/shop\/builds$/)).toBe(0);
    });
  });

  it('build create answered 500: not repeated, said to maybe have landed', async () => {
    const d = await deploy(
      'build-5xx',
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/builds', status: 500, body: 'database melted' }),
      { timeout: '1m' },
    );
    await fault('rack', '5xx on build create', 'failed-cleanly', () => {
      expectFailed(
        d,
        /could not create the build on [^\n]*: database melted \(POST \/apps\/shop\/builds answered 500\); the rack may have acted on it anyway, so it was not repeated/,
      );
      expect(posts(d.rack, /^\/apps\/shop\/builds$/)).toBe(1);
    });
  });

  it('build create whose answer was lost after it landed: not repeated', async () => {
    const d = await deploy(
      'build-lost',
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/builds', reset: true, after: true }),
      { timeout: '1m' },
    );
    await fault('rack', 'lost answer to build create', 'failed-cleanly', () => {
      expectFailed(
        d,
        /could not create the build on [^\n]* after the request was sent, so the rack may have acted on it; it was not repeated/,
      );
      expect(posts(d.rack, /^\/apps\/shop\/builds$/)).toBe(1);
    });
  });

  it('build create that never answers: ends at the timeout, not repeated', async () => {
    const d = await deploy('build-hangs', (r) => r.faults.slow('POST', '/apps/shop/builds', 120_000));
    await fault('rack', 'build create timeout', 'failed-cleanly', () => {
      expectFailed(
        d,
        /timed out after 5s \(the timeout input\): creating the build \(the request may have reached the rack: check convox builds --app shop before re-running\)/,
      );
      expect(posts(d.rack, /^\/apps\/shop\/builds$/)).toBe(1);
    });
  });

  it('env release answered 502 after it landed: confirmed by reading, not re-created', async () => {
    const d = await deploy(
      'env-5xx',
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/releases', status: 502, after: true }),
      { update: 'env', timeout: '1m' },
    );
    await fault('rack', '5xx on the env release (landed)', 'survived', () => {
      expectDeployed(d);
      expect(posts(d.rack, /^\/apps\/shop\/releases$/)).toBe(1);
      expect(d.run.stdout).toMatch(/The rack's answer was 502, but release R[A-Z]{10} has IMAGE_VERSION=t1; continuing/);
    });
  });

  it('env release whose answer was lost after it landed: confirmed by reading', async () => {
    const d = await deploy(
      'env-lost',
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/releases', reset: true, after: true }),
      { update: 'env', timeout: '1m' },
    );
    await fault('rack', 'lost answer to the env release', 'survived', () => {
      expectDeployed(d);
      expect(posts(d.rack, /^\/apps\/shop\/releases$/)).toBe(1);
    });
  });

  it('promote answered 502 after it landed: watched, not repeated, deployed', async () => {
    const d = await deploy(
      'promote-5xx-landed',
      (r) => r.faults.fail({ method: 'POST', path: /\/promote$/, status: 502, after: true }),
      { timeout: '1m' },
    );
    await fault('rack', '5xx on promote (landed)', 'survived', () => {
      expectDeployed(d);
      expect(posts(d.rack, /\/promote$/)).toBe(1);
      expect(d.run.stdout).toMatch(
        /the rack answered 502 to the promote of R[A-Z]{10} \(Bad Gateway\); it may have acted on it anyway, so it is not repeated/,
      );
    });
  });

  it('promote answered 500 that did not land: not repeated, reported with the rack words', async () => {
    const d = await deploy(
      'promote-5xx',
      (r) => r.faults.fail({ method: 'POST', path: /\/promote$/, status: 500, body: 'promote exploded' }),
      { timeout: '1m' },
    );
    await fault('rack', '5xx on promote (not landed)', 'failed-cleanly', () => {
      expectFailed(
        d,
        /the rack answered 500 to the promote of R[A-Z]{10} \(promote exploded\) and shop shows no sign of that deploy \(active release R[A-Z]{10}\); the promote was not repeated/,
      );
      expect(posts(d.rack, /\/promote$/)).toBe(1);
      expect(d.rack.state.requireApp('shop').release).toBe(d.before);
    });
  });

  it('promote whose answer was lost after it landed: watched, not repeated, deployed', async () => {
    const d = await deploy(
      'promote-lost',
      (r) => r.faults.fail({ method: 'POST', path: /\/promote$/, reset: true, after: true }),
      { timeout: '1m' },
    );
    await fault('rack', 'lost answer to promote', 'survived', () => {
      expectDeployed(d);
      expect(posts(d.rack, /\/promote$/)).toBe(1);
    });
  });

  it('promote that never answers: ends at the timeout, not repeated, the rack state named', async () => {
    const d = await deploy('promote-hangs', (r) => r.faults.slow('POST', /\/promote$/, 120_000));
    await fault('rack', 'promote timeout', 'failed-cleanly', () => {
      expectFailed(
        d,
        /timed out after 5s \(the timeout input\): promoting release (R[A-Z]{10}) \(the request may have reached the rack, so \1 may still become active\)/,
      );
      expect(posts(d.rack, /\/promote$/)).toBe(1);
    });
  });
});

describe('the rack in a bad state', () => {
  it('an app stuck updating (someone else): nothing promoted, ends at the timeout', async () => {
    const d = await deploy('stuck-updating', (r) => r.faults.appUpdating('shop', 600_000));
    await fault('rack', 'app stuck updating', 'failed-cleanly', () => {
      expectFailed(
        d,
        /timed out after 5s \(the timeout input\): app shop was still updating \(someone else's update\) after 5s; nothing was promoted/,
      );
      expect(posts(d.rack, /\/promote$/)).toBe(0);
    });
  });

  it('a build stuck running whose log ends: ends at the timeout naming the build', async () => {
    const d = await deploy('stuck-build', (r) => r.faults.stickBuild('eof'));
    await fault('rack', 'build stuck running (log ended)', 'failed-cleanly', () => {
      expectFailed(d, /timed out after 5s \(the timeout input\): build B[A-Z]{10} was still running after \d+s; last log line: /);
    });
  });

  it('a build stuck running whose log hangs open', async () => {
    const d = await deploy('stuck-build-hang', (r) => r.faults.stickBuild('hang'));
    await fault('rack', 'build stuck running (log hangs)', 'failed-cleanly', () => {
      expectFailed(d, /timed out after 5s \(the timeout input\): build B[A-Z]{10} was still running/);
    });
  });

  it('the build log socket drops mid-log: the deploy still completes', async () => {
    const d = await deploy('build-socket-drop', (r) => r.faults.dropSocket('/apps/shop/builds/*/logs', 2), { timeout: '1m' });
    await fault('rack', 'build log socket dropped', 'survived', () => {
      expectDeployed(d);
      expect(d.rack.faults.sockets[0]?.hits).toBe(1);
    });
  });

  it('the app log socket drops during the rollout: the deploy still completes', async () => {
    const d = await deploy('app-socket-drop', (r) => r.faults.dropSocket('/apps/shop/logs', 1), { timeout: '1m' });
    await fault('rack', 'rollout log socket dropped', 'survived', () => {
      expectDeployed(d);
      expect(d.rack.faults.sockets[0]?.hits).toBe(1);
    });
  });

  it('a rollback: failed, naming the release the rack went back to', async () => {
    const d = await deploy('rollback', (r) => r.faults.nextPromote('rollback'), { timeout: '1m' });
    await fault('rack', 'rollback', 'failed-cleanly', () => {
      expectFailed(
        d,
        new RegExp(`release R[A-Z]{10} was rolled back to ${d.before} \\(the release active before this deploy\\)`),
      );
      expect(d.rack.state.requireApp('shop').release).toBe(d.before);
    });
  });

  it('a rollback that itself fails: failed, naming the state and the release', async () => {
    const d = await deploy('rollback-failed', (r) => r.faults.nextPromote('failed'), { timeout: '1m' });
    await fault('rack', 'failed rollback', 'failed-cleanly', () => {
      expectFailed(
        d,
        new RegExp(
          `release R[A-Z]{10} did not roll out on [^\\n]*: shop is failed \\(the update failed and so did its rollback\\), active release ${d.before}`,
        ),
      );
    });
  });

  it('the active release changes under us: reported, not taken for success', async () => {
    const d = await deploy('superseded', (r) => r.faults.nextPromote('superseded'), { timeout: '1m' });
    await fault('rack', 'active release changed under us', 'failed-cleanly', () => {
      const other = d.rack.state.requireApp('shop').release;
      expect(other).not.toBe(d.run.outputs['release-id']);
      expectFailed(
        d,
        new RegExp(
          `release R[A-Z]{10} is not active on [^\\n]*: shop is running ${other}, which someone else promoted during this deploy`,
        ),
      );
    });
  });

  it('the rack build fails: failed with the rack log', async () => {
    const d = await deploy('rack-build-fails', (r) => r.faults.failBuild('pull access denied, injected'), { timeout: '1m' });
    await fault('rack', 'rack build fails', 'failed-cleanly', () => {
      expectFailed(d, /pull access denied, injected/);
      expect(posts(d.rack, /\/promote$/)).toBe(0);
    });
  });
});

describe('the import route (a 3.24.6 rack, rack-build: auto)', () => {
  const importRoute = { 'rack-build': 'auto', timeout: '1m' };
  const v3246 = { version: '3.24.6' };
  const imports = (r: RackServer): number => posts(r, /\/builds\/B[A-Z]{10}\/image$/);

  it.each([
    ['answered 502 after it landed', { status: 502 }, '502'],
    ['whose answer was lost after it landed', { reset: true }, 'lost'],
  ])('an import %s: the build shows it started, followed, not repeated, deployed', async (name, f, said) => {
    const d = await deploy(
      `import-${said}`,
      (r) => r.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', after: true, ...f }),
      importRoute,
      v3246,
    );
    await fault('rack', `import ${name}`, 'survived', () => {
      expectDeployed(d);
      expect(d.run.stdout).toContain('Route: import');
      expect(imports(d.rack)).toBe(1);
      expect(d.run.stdout).toMatch(new RegExp(`answer to the import was ${said}, but build B[A-Z]{10} is \\w+: following it`));
    });
  });

  it('an import the rack refuses (422): failed with the rack words, nothing promoted', async () => {
    const d = await deploy(
      'import-422',
      (r) =>
        r.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', status: 422, body: 'invalid image ref: injected' }),
      importRoute,
      v3246,
    );
    await fault('rack', 'import refused (422)', 'failed-cleanly', () => {
      expectFailed(d, /the rack refused to import into build B[A-Z]{10}: invalid image ref: injected/);
      expect(posts(d.rack, /\/promote$/)).toBe(0);
    });
  });
});
