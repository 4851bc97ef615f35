/**
 * Starts the real parts the e2e tests run against: a Docker engine (Debian's dockerd, as root,
 * on a private socket with its data-root under a temp dir and no bridge network, so no build
 * step can reach beyond this machine) and a real registry (Debian's docker-registry with
 * htpasswd auth over plain HTTP on 127.0.0.1). A tiny base image made from busybox-static is
 * imported so Dockerfiles can `RUN` without pulling anything from the internet.
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

export interface Services {
  /** `unix:///…/docker.sock` */
  dockerHost: string;
  /** `127.0.0.1:<port>` */
  registry: string;
  registryUser: string;
  registryPassword: string;
  /** Local base image with a shell: `local/busybox:test`. */
  baseImage: string;
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

function startProcess(cmd: string, args: string[], logFile: string): ChildProcess {
  writeFileSync(logFile, '');
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: false });
  child.unref();
  return child;
}

/**
 * Starts a dockerd under `root`. With `dataMb`, its data-root is a tmpfs of that size: a real
 * engine with a small disk, for the disk-full test.
 */
export async function startDockerd(root: string, dataMb?: number): Promise<{ host: string; proc: ChildProcess }> {
  const sock = path.join(root, 'docker.sock');
  for (const d of ['data', 'exec']) mkdirSync(path.join(root, d), { recursive: true });
  if (dataMb) execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${dataMb}m`, 'tmpfs', path.join(root, 'data')]);
  const proc = startProcess(
    'dockerd',
    [
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

/** The status of a plain GET, through node:http: fetch refuses some ports a registry may use. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** Starts Debian's docker-registry under `root` on `port` (default: a free one), htpasswd auth. */
export async function startRegistry(root: string, port?: number): Promise<{ addr: string; proc: ChildProcess }> {
  const dir = path.join(root, port === undefined ? 'registry' : `registry-${port}`);
  mkdirSync(dir, { recursive: true });
  const htpasswd = execFileSync('htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD]).toString();
  writeFileSync(path.join(dir, 'htpasswd'), htpasswd);
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
      'auth:',
      '  htpasswd:',
      '    realm: e2e',
      `    path: ${dir}/htpasswd`,
      '',
    ].join('\n'),
  );
  const proc = startProcess('docker-registry', ['serve', path.join(dir, 'config.yml')], path.join(dir, 'registry.log'));
  await waitFor('docker-registry', async () => (await httpStatus(`http://${addr}/v2/`)) === 401, path.join(dir, 'registry.log'));
  return { addr, proc };
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
    async stop() {
      registry.proc.kill('SIGTERM');
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
