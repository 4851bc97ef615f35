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
    const e = await failing(await request({ ...consoleTarget(s.url, 'nope-nope', 'acme/staging'), passwordSource: 'CONVOX_PASSWORD' }));
    expect(e.message).toMatch(/rejected the credential from CONVOX_PASSWORD/);
    expect(e.fix).toMatch(/deploy key/);
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
