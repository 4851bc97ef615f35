/**
 * Starts the real parts the e2e tests run against: a Docker engine (as root, on a private socket
 * with its data-root under a temp dir and no bridge network, so no build step can reach beyond
 * this machine) and a real registry (over plain HTTP on 127.0.0.1). A tiny base image made from
 * busybox-static is imported so Dockerfiles can `RUN` without pulling anything from the internet.
 *
 * Which engine and registry (docs/testing.md):
 * - CID_ENGINE=debian (default): Debian's dockerd 20.10. `current`: Engine 29 built by
 *   scripts/ci/real-parts.sh, with the graph-driver image store; `current-containerd`: the same
 *   engine with the containerd image store (`features.containerd-snapshotter`), Engine 29's default.
 * - CID_REGISTRY_KIND=debian (default): Debian's docker-registry 2.8 with htpasswd (Basic) auth;
 *   `v3`: distribution v3 with htpasswd; `v3-token`: distribution v3 with Bearer-token auth
 *   answered by ./token-server.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { createServer } from 'node:net';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTokenIssuer } from './token-server.js';

export type EngineKind = 'debian' | 'current' | 'current-containerd';
export type RegistryKind = 'debian' | 'v3' | 'v3-token';
const ENGINE_KINDS: readonly EngineKind[] = ['debian', 'current', 'current-containerd'];
const REGISTRY_KINDS: readonly RegistryKind[] = ['debian', 'v3', 'v3-token'];

function kindFrom<T extends string>(name: string, kinds: readonly T[]): T {
  const value = process.env[name] || kinds[0]!;
  if (!(kinds as readonly string[]).includes(value)) throw new Error(`${name}=${value}: expected one of ${kinds.join(', ')}`);
  return value as T;
}

/** CID_ENGINE: which dockerd the e2e tests start. */
export const engineKind = (): EngineKind => kindFrom('CID_ENGINE', ENGINE_KINDS);
/** CID_REGISTRY_KIND: which registry, and which auth, the e2e tests start. */
export const registryKind = (): RegistryKind => kindFrom('CID_REGISTRY_KIND', REGISTRY_KINDS);

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
let builtParts: Record<string, string> | undefined;

/**
 * The current parts' binaries (CID_DOCKERD_CURRENT, CID_RUNC_CURRENT, CID_REGISTRY_V3, …), from
 * the environment when .ci/run set them, else from scripts/ci/real-parts.sh, which builds what
 * its cache lacks (minutes, once per machine) and prints their paths.
 */
export function realParts(): Record<string, string> {
  if (process.env.CID_DOCKERD_CURRENT && process.env.CID_REGISTRY_V3 && process.env.CID_BUILDX)
    return process.env as Record<string, string>;
  builtParts ??= Object.fromEntries(
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/ci/real-parts.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
      .toString()
      .split('\n')
      .flatMap((line) => (/^CID_\w+=/.test(line) ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]] : [])),
  );
  return builtParts;
}

function part(name: string): string {
  const file = realParts()[name];
  if (!file) throw new Error(`scripts/ci/real-parts.sh named no ${name}`);
  return file;
}

export interface Services {
  /** `unix:///…/docker.sock` */
  dockerHost: string;
  /** `127.0.0.1:<port>` */
  registry: string;
  registryUser: string;
  registryPassword: string;
  /** Local base image with a shell: `local/busybox:test`. */
  baseImage: string;
  engine: EngineKind;
  registryKind: RegistryKind;
  /** Directory holding the services' files; logs are there for failure reports. */
  root: string;
  stop(): Promise<void>;
}

export const REGISTRY_USER = 'ci-user';
export const REGISTRY_PASSWORD = 'Reg1stry-Pa55-e2e';
export const BASE_IMAGE = 'local/busybox:test';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, logFile: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '(no log)';
  throw new Error(`${what} did not start within ${ms / 1000}s. Its log:\n${log}`);
}

function startProcess(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  writeFileSync(logFile, '');
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: false, env });
  child.unref();
  return child;
}

/**
 * Starts a dockerd under `root`. With `dataMb`, its data-root is a tmpfs of that size: a real
 * engine with a small disk, for the disk-full test.
 */
export async function startDockerd(
  root: string,
  dataMb?: number,
  kind: EngineKind = engineKind(),
): Promise<{ host: string; proc: ChildProcess }> {
  const sock = path.join(root, 'docker.sock');
  for (const d of ['data', 'exec']) mkdirSync(path.join(root, d), { recursive: true });
  if (dataMb) execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${dataMb}m`, 'tmpfs', path.join(root, 'data')]);
  const current = kind === 'debian' ? undefined : currentEngine(root, kind);
  const proc = startProcess(
    current?.dockerd ?? 'dockerd',
    [
      ...(current ? ['--config-file', current.config] : []),
      '--host',
      `unix://${sock}`,
      '--data-root',
      path.join(root, 'data'),
      '--exec-root',
      path.join(root, 'exec'),
      '--pidfile',
      path.join(root, 'docker.pid'),
      '--bridge',
      'none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--userland-proxy=false',
    ],
    path.join(root, 'dockerd.log'),
    current?.env,
  );
  const host = `unix://${sock}`;
  await waitFor(
    'dockerd',
    () => {
      execFileSync('/usr/bin/docker', ['version'], { env: { ...process.env, DOCKER_HOST: host }, stdio: 'ignore' });
      return true;
    },
    path.join(root, 'dockerd.log'),
  );
  return { host, proc };
}

/**
 * Engine 29's dockerd, its daemon.json and environment: the runc and docker-proxy built beside it
 * come first on its PATH (containerd's shim finds runc there), the image store is chosen
 * explicitly (a fresh Engine 29 data-root defaults to containerd's), and the API floor is lowered
 * to 1.41 so Debian's 20.10 CLI, which the tests drive the engine with, is still served (Engine 29
 * refuses clients older than API 1.44 by default).
 */
function currentEngine(
  root: string,
  kind: Exclude<EngineKind, 'debian'>,
): { dockerd: string; config: string; env: NodeJS.ProcessEnv } {
  const bin = path.join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(part('CID_RUNC_CURRENT'), path.join(bin, 'runc'));
  symlinkSync(part('CID_DOCKER_PROXY_CURRENT'), path.join(bin, 'docker-proxy'));
  const config = path.join(root, 'daemon.json');
  writeFileSync(config, JSON.stringify({ features: { 'containerd-snapshotter': kind === 'current-containerd' } }));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DOCKER_MIN_API_VERSION: '1.41' };
  return { dockerd: part('CID_DOCKERD_CURRENT'), config, env };
}

/** The status of a plain GET, through node:http: fetch refuses some ports a registry may use. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

export interface StartedRegistry {
  addr: string;
  proc: ChildProcess;
  kind: RegistryKind;
  /** Ends the registry and its token issuer, if any. */
  stop(): Promise<void>;
}

/** The `auth:` section: htpasswd (Basic), or Bearer tokens from an issuer started here. */
async function registryAuth(dir: string, kind: RegistryKind): Promise<{ lines: string[]; close?: () => Promise<void> }> {
  if (kind !== 'v3-token') {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD]).toString();
    writeFileSync(path.join(dir, 'htpasswd'), htpasswd);
    return { lines: ['auth:', '  htpasswd:', '    realm: e2e', `    path: ${dir}/htpasswd`] };
  }
  const issuer = await startTokenIssuer(dir, { [REGISTRY_USER]: REGISTRY_PASSWORD });
  return {
    lines: [
      'auth:',
      '  token:',
      `    realm: ${issuer.realm}`,
      `    service: ${issuer.service}`,
      `    issuer: ${issuer.issuer}`,
      `    rootcertbundle: ${issuer.certFile}`,
    ],
    close: () => issuer.close(),
  };
}

/**
 * Starts a registry of `kind` (CID_REGISTRY_KIND unless given) under `root` on `port` (default: a
 * free one): Debian's docker-registry 2.8 or distribution v3, with htpasswd or token auth.
 */
export async function startRegistry(root: string, port?: number, kind: RegistryKind = registryKind()): Promise<StartedRegistry> {
  const dir = path.join(root, port === undefined ? 'registry' : `registry-${port}`);
  mkdirSync(dir, { recursive: true });
  const auth = await registryAuth(dir, kind);
  const addr = `127.0.0.1:${port ?? (await freePort())}`;
  writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dir}/data`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${addr}`,
      '  secret: e2e-not-a-secret',
      ...auth.lines,
      '',
    ].join('\n'),
  );
  const binary = kind === 'debian' ? 'docker-registry' : part('CID_REGISTRY_V3');
  const log = path.join(dir, 'registry.log');
  const proc = startProcess(binary, ['serve', path.join(dir, 'config.yml')], log);
  await waitFor(`registry (${kind})`, async () => (await httpStatus(`http://${addr}/v2/`)) === 401, log);
  return {
    addr,
    proc,
    kind,
    async stop() {
      proc.kill('SIGTERM');
      await auth.close?.();
    },
  };
}

export function importBaseImage(root: string, dockerHost: string): void {
  const fsRoot = path.join(root, 'busybox-root');
  mkdirSync(path.join(fsRoot, 'bin'), { recursive: true });
  mkdirSync(path.join(fsRoot, 'tmp'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(fsRoot, 'bin', 'busybox'));
  for (const applet of [
    'sh',
    'ls',
    'cat',
    'echo',
    'sleep',
    'mkdir',
    'rm',
    'cp',
    'true',
    'false',
    'find',
    'sort',
    'test',
    'wc',
    'head',
    'dd',
    'seq',
    'touch',
    'env',
  ]) {
    symlinkSync('busybox', path.join(fsRoot, 'bin', applet));
  }
  const tar = execFileSync('tar', ['-C', fsRoot, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('/usr/bin/docker', ['import', '-', BASE_IMAGE], { input: tar, env: { ...process.env, DOCKER_HOST: dockerHost } });
}

/** Starts everything; `stop()` ends the processes and removes the temp dir. */
export async function startServices(): Promise<Services> {
  const root = mkdtempSync(path.join(tmpdir(), 'cid-e2e-'));
  const docker = await startDockerd(root);
  const registry = await startRegistry(root);
  importBaseImage(root, docker.host);
  return {
    dockerHost: docker.host,
    registry: registry.addr,
    registryUser: REGISTRY_USER,
    registryPassword: REGISTRY_PASSWORD,
    baseImage: BASE_IMAGE,
    root,
    engine: engineKind(),
    registryKind: registry.kind,
    async stop() {
      await registry.stop();
      await stopDockerd(docker.proc, root);
    },
  };
}

/** Stops a dockerd started by startDockerd and removes its files (and tmpfs, if any). */
export async function stopDockerd(proc: ChildProcess, root: string): Promise<void> {
  proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  try {
    execFileSync('umount', ['-R', path.join(root, 'data')], { stdio: 'ignore' });
  } catch {
    // nothing mounted
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
