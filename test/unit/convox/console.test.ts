/**
 * deploy() and inspectApp() through a Console: the Rack header, deploy keys and their limits,
 * and the Session challenge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, DeployError } from '../../../src/convox/deploy.js';
import { inspectApp } from '../../../src/convox/inspect.js';
import { MemoryLog } from '../../../src/log.js';
import { startRackServer } from '../../rack-server/index.js';
import type { ConsoleOptions, RackServer } from '../../rack-server/index.js';
import { consoleTarget, directTarget, leakedSecrets, MANIFEST, MANIFEST_PINNED, request } from './harness.js';
import type { TestRequest } from './harness.js';

const KEY = 'deploykey-0123456789abcdef';
const TOKEN = 'clitoken-fedcba9876543210';
let server: RackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  expect(leakedSecrets()).toEqual([]);
});

async function consoleServer(over: Partial<ConsoleOptions> = {}): Promise<RackServer> {
  server = await startRackServer({
    console: { racks: ['acme/staging', 'acme/production'], deployKeys: [KEY], passwords: [TOKEN], ...over },
    apps: [{ name: 'shop', manifest: MANIFEST, env: 'A=1\nIMAGE_VERSION=old' }],
  });
  return server;
}

async function failing(req: TestRequest): Promise<DeployError> {
  const e = await deploy(req).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof DeployError) return e;
  throw e ?? new Error(`deploy succeeded:\n${req.log.text()}`);
}

describe('through a Console', () => {
  it('a deploy key deploys in manifest mode to the named rack only', async () => {
    const s = await consoleServer();
    const req = await request(consoleTarget(s.url, KEY, 'acme/production'));
    const result = await deploy(req);
    expect(s.racks['acme/production']?.apps.get('shop')?.release).toBe(result.releaseId);
    expect(s.racks['acme/staging']?.apps.get('shop')?.builds).toHaveLength(1); // the seed build only
    expect(s.requests.filter((r) => !r.path.startsWith('/racks')).every((r) => r.headers.rack === 'acme/production')).toBe(true);
    expect(req.log.text()).not.toContain(KEY);
  });

  it('env mode with a deploy key fails before writing, naming the two ways forward', async () => {
    const s = await consoleServer();
    const req = await request(consoleTarget(s.url, KEY, 'acme/staging'), { mode: 'env' });
    const e = await failing(req);
    expect(e.message).toMatch(/cannot read the releases of shop on acme\/staging .*Command not supported for deploy key/);
    expect(e.fix).toMatch(/rack password/);
    expect(e.fix).toMatch(/update: manifest/);
    expect(e.place.input).toBe('rack-password');
    expect(s.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('env mode with a CLI token works', async () => {
    const s = await consoleServer();
    const result = await deploy(await request(consoleTarget(s.url, TOKEN, 'staging'), { mode: 'env', tag: 't2' }));
    const release = s.racks['acme/staging']?.apps.get('shop')?.releases.find((r) => r.id === result.releaseId);
    expect(release?.env).toBe('A=1\nIMAGE_VERSION=t2');
  });

  it('answers a Session challenge and carries the session on every later request and socket', async () => {
    const s = await consoleServer({ session: 'session' });
    const req = await request(consoleTarget(s.url, KEY, 'acme/staging'));
    await deploy(req);
    const sessions = s.requests.filter((r) => r.path === '/session');
    expect(sessions.map((r) => r.method)).toEqual(['POST']);
    const after = s.requests.slice(s.requests.indexOf(sessions[0]!) + 1);
    expect(after.length).toBeGreaterThan(5);
    expect(after.every((r) => r.headers.session && r.status < 400)).toBe(true);
    expect(after.some((r) => r.websocket)).toBe(true);
  });

  it('a hardware-key challenge fails with what to use instead', async () => {
    const s = await consoleServer({ session: 'hardware' });
    const e = await failing(await request(consoleTarget(s.url, TOKEN, 'acme/staging')));
    expect(e.message).toMatch(/hardware security key/);
    expect(e.fix).toMatch(/deploy key/);
  });

  it('a wrong key names where it came from', async () => {
    const s = await consoleServer();
    const e = await failing(
      await request({ ...consoleTarget(s.url, 'nope-nope', 'acme/staging'), passwordSource: 'CONVOX_PASSWORD' }),
    );
    expect(e.message).toMatch(/rejected the credential from CONVOX_PASSWORD/);
    expect(e.fix).toMatch(/deploy key/);
  });
});

describe('a rack name the Console does not resolve', () => {
  const RACKS = ['acme/staging', 'beta/staging', 'acme/production'];
  const racksCalls = (s: RackServer): RackServer['requests'] => s.requests.filter((r) => r.path === '/racks');

  it('an ambiguous bare name lists the org/rack names it could mean and suggests one', async () => {
    const s = await consoleServer({ racks: RACKS });
    const e = await failing(await request(consoleTarget(s.url, KEY, 'staging')));
    expect(e.message).toBe(
      `the rack input "staging" is ambiguous on the Console 127.0.0.1:${new URL(s.url).port} (it answered: ambiguous rack name: staging); it matches: acme/staging, beta/staging`,
    );
    expect(e.fix).toBe('write the rack as org/rack, e.g. rack: acme/staging');
    expect(e.place.input).toBe('rack');
    // Listed as the CLI does, without a Rack header, and only after the refusal.
    expect(racksCalls(s)).toHaveLength(1);
    expect(racksCalls(s)[0]?.headers.rack).toBeUndefined();
    expect(s.requests.indexOf(racksCalls(s)[0]!)).toBeGreaterThan(0);
    expect(s.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('an unknown name lists every rack the credential can see', async () => {
    const s = await consoleServer({ racks: RACKS });
    const e = await failing(await request(consoleTarget(s.url, TOKEN, 'qa')));
    expect(e.message).toMatch(
      /^the rack input "qa" names no rack on the Console .* \(it answered: rack not found: qa\); the racks this credential can see: acme\/production, acme\/staging, beta\/staging$/,
    );
    expect(e.fix).toMatch(/org\/rack, e\.g\. rack: acme\/production/);
    expect(e.place.input).toBe('rack');
  });

  it('a near miss names the racks like it', async () => {
    const s = await consoleServer({ racks: RACKS });
    const e = await failing(await request(consoleTarget(s.url, TOKEN, 'acme/stag')));
    expect(e.message).toMatch(/names no rack .*; racks with a similar name: acme\/staging$/);
    expect(e.fix).toBe('write the rack as org/rack, e.g. rack: acme/staging');
  });

  it('says where the name came from when it was CONVOX_RACK', async () => {
    const s = await consoleServer({ racks: RACKS });
    const e = await failing(
      await request({ ...consoleTarget(s.url, TOKEN, 'staging'), source: 'CONVOX_HOST, CONVOX_PASSWORD, CONVOX_RACK' }),
    );
    expect(e.message).toMatch(/^the rack name from CONVOX_RACK "staging" is ambiguous/);
  });

  it('when the racks cannot be listed, still names the input and suggests org/rack', async () => {
    const s = await consoleServer({ racks: RACKS });
    s.faults.fail({ method: 'GET', path: '/racks', status: 503, body: 'console busy\n' });
    const e = await failing(await request(consoleTarget(s.url, KEY, 'staging')));
    expect(e.message).toMatch(
      /^the rack input "staging" is ambiguous .*; the racks could not be listed \(GET \/racks answered 503: console busy\)$/,
    );
    expect(e.fix).toMatch(/org\/rack, as convox racks lists it/);
    expect(racksCalls(s)).toHaveLength(1);
  });

  it('the dry-run inspection reports it the same way', async () => {
    const s = await consoleServer({ racks: RACKS });
    await expect(inspectApp(consoleTarget(s.url, TOKEN, 'staging'), 'shop', 'IMAGE_VERSION', new MemoryLog())).rejects.toThrow(
      /is ambiguous .*it matches: acme\/staging, beta\/staging/,
    );
  });

  it('an unambiguous bare name needs no listing', async () => {
    const s = await consoleServer({ racks: RACKS });
    await deploy(await request(consoleTarget(s.url, KEY, 'production')));
    expect(racksCalls(s)).toEqual([]);
  });
});

describe('inspectApp (dry run)', () => {
  it('reads status, release and the image variable without writing', async () => {
    server = await startRackServer({ apps: [{ name: 'shop', manifest: MANIFEST_PINNED, env: 'IMAGE_VERSION=v1' }] });
    const info = await inspectApp(directTarget(server.url, server.password), 'shop', 'IMAGE_VERSION', new MemoryLog());
    expect(info).toMatchObject({ status: 'running', envValue: 'v1', canReadReleases: true, version: '3.24.9', generation: 'v3' });
    expect(info.release).toBe(server.state.apps.get('shop')?.release);
    expect(server.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('says a deploy key cannot read releases', async () => {
    const s = await consoleServer();
    const info = await inspectApp(consoleTarget(s.url, KEY, 'acme/staging'), 'shop', 'IMAGE_VERSION', new MemoryLog());
    expect(info.canReadReleases).toBe(false);
    expect(info.envValue).toBeUndefined();
  });
});
