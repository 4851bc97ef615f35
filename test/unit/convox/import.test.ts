/**
 * The import route, staged releases and `release:` against the rack test server. The call
 * sequence is held to the Convox CLI's `builds import-image` (convox/convox pkg/cli/builds.go
 * `BuildsImportImage`, commit 9e0245260): external build create, PUT manifest, POST image, GET
 * build polls, POST releases build=, PUT build release=.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, DeployError } from '../../../src/convox/deploy.js';
import type { DeployRequest } from '../../../src/convox/deploy.js';
import { realSleep } from '../../../src/convox/timing.js';
import { startRackServer } from '../../rack-server/index.js';
import type { RackServer, RackServerOptions } from '../../rack-server/index.js';
import { directTarget, leakedSecrets, MANIFEST_PINNED, request } from './harness.js';

let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  expect(leakedSecrets()).toEqual([]);
});

async function rack(opts: RackServerOptions = {}): Promise<RackServer> {
  server = await startRackServer({ version: '3.24.6', apps: [{ name: 'shop', manifest: MANIFEST_PINNED, env: 'A=1' }], ...opts });
  return server;
}

/** The 2 s import polls and the rollout's waits, shortened: the sequence is what is tested. */
const fast = (ms: number, signal?: AbortSignal): Promise<void> => realSleep(Math.min(ms, 25), signal);

const IMPORTABLE = { image: 'registry.example.com/acme/shop:20260101120000', manifest: MANIFEST_PINNED };

async function importing(s: RackServer, over: Partial<DeployRequest> = {}) {
  return request(directTarget(s.url, s.password), { rackBuild: 'auto', importable: IMPORTABLE, sleep: fast, ...over });
}

async function failing(req: DeployRequest): Promise<DeployError> {
  try {
    await deploy(req);
  } catch (e) {
    if (e instanceof DeployError) return e;
    throw e;
  }
  throw new Error('deploy succeeded');
}

/** `METHOD path` of each request, ids replaced, polls collapsed. */
function sequence(s: RackServer): string[] {
  const out: string[] = [];
  for (const r of s.requests) {
    const line = `${r.method} ${r.path.replace(/\/B[A-Z]{10}/, '/{B}').replace(/\/R[A-Z]{10}/, '/{R}')}`;
    if (out.at(-1) !== line) out.push(line);
  }
  return out;
}

describe('import route (rack-build: auto on a 3.24.6 rack)', () => {
  it("makes the CLI's calls in the CLI's order, then promotes and waits; no upload, no build pod", async () => {
    const s = await rack();
    const req = await importing(s);
    const result = await deploy(req);
    expect(result).toMatchObject({ outcome: 'deployed', route: 'import' });
    expect(sequence(s).slice(0, 7)).toEqual([
      'GET /system',
      'POST /apps/shop/builds',
      'PUT /apps/shop/builds/{B}',
      'POST /apps/shop/builds/{B}/image',
      'GET /apps/shop/builds/{B}',
      'POST /apps/shop/releases',
      'PUT /apps/shop/builds/{B}',
    ]);
    const [create, manifest, image, release, link] = s.requests.filter((r) => r.method !== 'GET');
    expect(create?.form).toMatchObject({ external: 'true', description: 'deploy from test (0123456789)' });
    expect(manifest?.form).toEqual({ manifest: MANIFEST_PINNED });
    expect(image?.form).toEqual({ image: IMPORTABLE.image });
    expect(release?.form).toEqual({ build: result.buildId });
    expect(link?.form).toEqual({ release: result.releaseId });
    expect(s.requests.some((r) => r.path.includes('/objects/'))).toBe(false);
    const app = s.state.apps.get('shop');
    expect(app?.release).toBe(result.releaseId);
    expect(app?.builds.find((b) => b.id === result.buildId)).toMatchObject({ status: 'complete', release: result.releaseId });
    expect(req.log.text()).toContain(`Import ${result.buildId} started`);
  });

  it('passes source credentials in the form only, masked in the log', async () => {
    const s = await rack();
    const req = await importing(s, {
      importable: { ...IMPORTABLE, credentials: { username: 'ci-bot', password: 's3cr3t-token' } },
    });
    req.secrets.add('s3cr3t-token');
    await deploy(req);
    const image = s.requests.find((r) => r.path.endsWith('/image'));
    expect(image?.form).toEqual({ image: IMPORTABLE.image, 'src-creds-user': 'ci-bot', 'src-creds-pass': 's3cr3t-token' });
    expect(req.log.text()).not.toContain('s3cr3t-token');
  });

  it('an older rack (3.24.5): the source build, said once, and no import attempted', async () => {
    const s = await rack({ version: '3.24.5' });
    const req = await importing(s);
    const result = await deploy(req);
    expect(result).toMatchObject({ route: 'source', outcome: 'deployed' });
    expect(result.fallback).toMatch(/runs 3\.24\.5; importing an image needs v3 3\.24\.6 or later: building from source/);
    expect(req.log.lines.filter((l) => l.includes('building from source instead')).length).toBe(1);
    expect(s.requests.some((r) => r.path.endsWith('/image'))).toBe(false);
    expect(s.requests.some((r) => r.path.includes('/objects/'))).toBe(true);
  });

  it('a rack that reports 3.24.9 yet answers 404 (no route): falls back once', async () => {
    const s = await rack({ version: '3.24.9' });
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', status: 404, body: '' });
    const req = await importing(s);
    const result = await deploy(req);
    expect(result.route).toBe('source');
    expect(result.fallback).toMatch(/no import-image route \(404\)/);
    expect(s.state.apps.get('shop')?.release).toBe(result.releaseId);
  });

  it('rack-build: import on an older rack is an input error naming rack-build', async () => {
    const s = await rack({ version: '3.24.5' });
    const e = await failing(await importing(s, { rackBuild: 'import' }));
    expect(e.message).toMatch(/rack-build is import, but .* runs 3\.24\.5/);
    expect(e.place.input).toBe('rack-build');
  });

  it('rack-build: source never imports', async () => {
    const s = await rack();
    const result = await deploy(await importing(s, { rackBuild: 'source' }));
    expect(result.route).toBe('source');
    expect(s.requests.some((r) => r.path.endsWith('/image'))).toBe(false);
  });

  it('409 at the concurrent-import cap: retried with backoff, then imported', async () => {
    const s = await rack();
    const cap = s.faults.fail({
      method: 'POST',
      path: '/apps/shop/builds/*/image',
      status: 409,
      body: 'rack at concurrent-import cap (4 in flight); wait and retry\n',
      times: 2,
    });
    const req = await importing(s);
    const result = await deploy(req);
    expect(cap.hits).toBe(2);
    expect(result.route).toBe('import');
    expect(req.log.text()).toContain('rack at concurrent-import cap (4 in flight); wait and retry; retrying the import');
  });

  it('422 manifest parse failed (empty env): the rack words, and rack-build: source as the fix', async () => {
    const s = await rack();
    const manifest = 'services:\n  web:\n    image: registry.example.com/acme/shop:1\n    environment:\n      - SECRET\n';
    const e = await failing(await importing(s, { importable: { ...IMPORTABLE, manifest } }));
    expect(e.message).toMatch(/refused to import into build B[A-Z]{10}: manifest parse failed: required env: SECRET/);
    expect(e.fix).toContain('rack-build: source');
    expect(s.requests.some((r) => r.path.endsWith('/promote'))).toBe(false);
  });

  it("a failed relay: the build's reason heads the error; nothing is promoted", async () => {
    const s = await rack();
    const manifest = 'services:\n  web:\n    image: "registry.example.com/acme/shop:${TAG}"\n';
    const e = await failing(await importing(s, { importable: { ...IMPORTABLE, manifest } }));
    expect(e.message).toMatch(/^import B[A-Z]{10} failed on .*: invalid image ref for service web/);
    expect(e.partial.buildId).toMatch(/^B/);
    expect(s.requests.some((r) => r.path.endsWith('/promote'))).toBe(false);
  });

  const imports = (s: RackServer): number => s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/image')).length;

  it.each([
    ['answered 502 after it landed', { status: 502 }, '502'],
    ['whose answer was lost after it landed', { reset: true }, 'lost'],
  ])('an import POST %s: the build shows it started, so it is followed, not repeated', async (_name, fault, said) => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', after: true, ...fault });
    const req = await importing(s);
    const result = await deploy(req);
    expect(result.route).toBe('import');
    expect(imports(s)).toBe(1);
    expect(req.log.text()).toMatch(
      new RegExp(`answer to the import was ${said}, but build B[A-Z]{10} is (running|complete): following it`),
    );
  });

  it('an import POST answered 500 before it landed: the build is still created, so it is asked once more', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', status: 500, body: 'etcd hiccup' });
    const req = await importing(s);
    const result = await deploy(req);
    expect(result.route).toBe('import');
    expect(imports(s)).toBe(2);
    expect(req.log.text()).toMatch(/answer to the import was 500, and build B[A-Z]{10} has not started: asking again/);
  });

  it('an import POST that fails twice without landing: the rack words, nothing promoted', async () => {
    const s = await rack();
    s.faults.fail({ method: 'POST', path: '/apps/shop/builds/*/image', status: 500, body: 'etcd down', times: 2 });
    const e = await failing(await importing(s));
    expect(e.message).toContain('etcd down');
    expect(imports(s)).toBe(2);
    expect(s.requests.some((r) => r.path.endsWith('/promote'))).toBe(false);
  });

  it('tolerates failed polls (the CLI allows 5 in a row)', async () => {
    const s = await rack({ timing: { importMs: 150 } });
    s.faults.fail({ method: 'GET', path: '/apps/shop/builds/*', status: 502, times: 7 });
    const result = await deploy(await importing(s));
    expect(result.route).toBe('import');
  });
});

describe('staged releases', () => {
  it('promote: false builds the release and stops; the active release is unchanged', async () => {
    const s = await rack();
    const before = s.state.apps.get('shop')?.release;
    const req = await importing(s, { promote: false });
    const result = await deploy(req);
    expect(result).toMatchObject({ outcome: 'staged', route: 'import' });
    expect(result.releaseId).toMatch(/^R/);
    expect(s.state.apps.get('shop')?.release).toBe(before);
    expect(s.requests.some((r) => r.path.endsWith('/promote'))).toBe(false);
  });

  it('release: promotes that release and waits, with the same verdict', async () => {
    const s = await rack();
    const staged = await deploy(await importing(s, { promote: false }));
    const req = await request(directTarget(s.url, s.password), { release: staged.releaseId, sleep: fast });
    const result = await deploy(req);
    expect(result).toMatchObject({ outcome: 'deployed', route: 'release', releaseId: staged.releaseId });
    expect(s.state.apps.get('shop')?.release).toBe(staged.releaseId);
    expect(s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/builds')).length).toBe(1);
  });

  it('release: a rollback is a failure, as for a full deploy', async () => {
    const s = await rack();
    const staged = await deploy(await importing(s, { promote: false }));
    s.faults.nextPromote('rollback');
    const e = await failing(await request(directTarget(s.url, s.password), { release: staged.releaseId, sleep: fast }));
    expect(e.message).toContain('rolled back');
  });
});
