/** Running the bundle (as the runner does), the docker CLI and shell commands for the benchmarks. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAction, NODE24, REPO_ROOT, type ActionRun } from '../../test/support/run-action.js';
import { realParts, type Services } from '../../test/support/services.js';

export const ROOT = REPO_ROOT;
/** The runner's runtime (Node 24), as runAction uses it. */
export const NODE = existsSync(NODE24) ? NODE24 : process.execPath;

/** What every part gets: the services (when it needs them) and a logged-in docker CLI config. */
export interface Bench {
  s: Services;
  /** A throwaway DOCKER_CONFIG, logged in to the registry. */
  dockerConfig: string;
  rounds: number;
}

/** Runs dist/index.cjs through runAction; throws with its output unless it succeeded. */
export async function act(inputs: Record<string, string>, env: Record<string, string>, workspace: string): Promise<ActionRun> {
  const r = await runAction({ inputs, env, workspace, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`the action failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  return r;
}

/** Registry credentials and the offline network mode, as inputs. */
export function pushInputs(s: Services): Record<string, string> {
  return { 'registry-username': s.registryUser, 'registry-password': s.registryPassword, network: 'none', update: 'none' };
}

/** Environment for /usr/bin/docker against the bench daemon (BuildKit on, throwaway config). */
export function cliEnv(b: Bench): Record<string, string> {
  return { DOCKER_HOST: b.s.dockerHost, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: b.dockerConfig };
}

/**
 * The current docker client's build path: standalone buildx (scripts/ci/real-parts.sh builds it
 * from its Go module) on the docker driver, what `docker build` runs since Docker 23. Its builder
 * state goes in a throwaway BUILDX_CONFIG inside the bench's docker config.
 */
export function buildx(b: Bench): { program: string; env: Record<string, string> } {
  const program = realParts().CID_BUILDX;
  if (!program) throw new Error('scripts/ci/real-parts.sh named no CID_BUILDX');
  return { program, env: { ...cliEnv(b), BUILDX_CONFIG: path.join(b.dockerConfig, 'buildx') } };
}

/** Runs a bash command line; throws with its output when it fails; returns stdout + stderr. */
export function sh(cmd: string, env: Record<string, string> = {}, input?: string): string {
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, ...env }, input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** sh(), without blocking this process: needed when a part of the bench serves the command (a proxy). */
export function shAsync(cmd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} failed (${code}):\n${out}`))));
  });
}

/** A fresh temp directory holding `files`. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-ctx-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** n small text files (~100 bytes) spread over 50 directories under `prefix`. */
export function smallFiles(n: number, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`${prefix}/d${i % 50}/f${i}.txt`] = `file ${i} `.repeat(10);
  return out;
}

/**
 * Removes every image but the base image (kept, not re-imported: a re-import gets a new image
 * ID, which would change BuildKit's cache keys) and all build cache.
 */
export function emptyDaemon(b: Bench): void {
  sh(
    `keep=$(/usr/bin/docker images -q ${b.s.baseImage}); ids=$(/usr/bin/docker images -aq | sort -u | grep -v "^$keep$" || true); [ -z "$ids" ] || /usr/bin/docker rmi -f $ids >/dev/null; /usr/bin/docker builder prune -af >/dev/null`,
    cliEnv(b),
  );
}
