/**
 * Docker credential helpers (`docker-credential-<name> get`, server URL on stdin, JSON
 * `{Username, Secret}` on stdout), as the Docker CLI calls them, run through @actions/exec.
 */
import type { ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { getExecOutput } from '@actions/exec';
import { ActionError } from '../errors.js';
import type { Secrets } from '../secrets.js';
import type { FoundSecret } from './docker-config.js';

export interface HelperResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the helper did not exit by itself: why it was stopped. */
  readonly stopped?: string;
}

/** Runs `docker-credential-<name> get` with `stdin`. Rejects with code `ENOENT` when not installed. */
export type HelperRunner = (name: string, stdin: string) => Promise<HelperResult>;

/** The username helpers return when the secret is an identity token rather than a password. */
const TOKEN_USERNAME = '<token>';
const HELPER_TIMEOUT_MS = 60_000;

async function isProgram(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    if (process.platform !== 'win32') await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on `env`'s PATH (@actions/exec would search this process's PATH, not the one we pass). */
async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (env['PATHEXT'] ?? '.COM;.EXE;.BAT;.CMD').split(';') : [''];
  for (const dir of dirs)
    for (const ext of exts) if (await isProgram(path.join(dir, name + ext))) return path.join(dir, name + ext);
  return undefined;
}

/**
 * The process @actions/exec is about to start for `program`, which it never hands out: we need it
 * to stop a helper that waits for a person, and to ignore EPIPE on its stdin (a helper that exits
 * without reading its input would otherwise crash the action with an unhandled 'error'). Node
 * announces every child on the `child_process` diagnostics channel before it is spawned; its file
 * is known on the next tick. Two concurrent runs of one helper may swap children (harmless: the
 * same program asked the same question).
 */
function claimChild(program: string): { readonly child: () => ChildProcess | undefined; readonly release: () => void } {
  let claimed: ChildProcess | undefined;
  const watch = (message: unknown): void => {
    const child = (message as { process: ChildProcess }).process;
    process.nextTick(() => {
      if (claimed || CLAIMED.has(child) || child.spawnfile !== program) return;
      claimed = child;
      CLAIMED.add(child);
      child.stdin?.on('error', () => {});
    });
  };
  diagnostics.subscribe('child_process', watch);
  return { child: () => claimed, release: () => diagnostics.unsubscribe('child_process', watch) };
}
const CLAIMED = new WeakSet<ChildProcess>();

/**
 * The real runner: `docker-credential-<name> get` from `env.PATH` through @actions/exec, silent
 * (its stdout is the secret), the server URL on stdin. A helper that waits for a person (a locked
 * keychain) is stopped after a minute rather than hanging the job.
 */
export function execHelper(env: NodeJS.ProcessEnv, timeoutMs = HELPER_TIMEOUT_MS): HelperRunner {
  return async (name, stdin) => {
    const program = await findOnPath(`docker-credential-${name}`, env);
    if (!program) throw Object.assign(new Error(`docker-credential-${name} is not on PATH`), { code: 'ENOENT' });
    const watcher = claimChild(program);
    let timer: NodeJS.Timeout | undefined;
    const ran = getExecOutput(`"${program.replace(/"/g, '\\"')}"`, ['get'], {
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      input: Buffer.from(stdin),
      silent: true,
      ignoreReturnCode: true,
    }).then(({ exitCode, stdout, stderr }): HelperResult => {
      const signal = watcher.child()?.signalCode;
      return { code: exitCode ?? 128, stdout, stderr, stopped: signal ? `was killed by ${signal}` : undefined };
    });
    const timedOut = new Promise<HelperResult>((resolve) => {
      timer = setTimeout(() => {
        const child = watcher.child();
        child?.kill('SIGTERM');
        // Its own children may hold the pipes open; do not wait for them.
        child?.stdout?.destroy();
        child?.stderr?.destroy();
        resolve({ code: 128, stdout: '', stderr: '', stopped: `did not answer within ${timeoutMs / 1000}s and was stopped` });
      }, timeoutMs);
    });
    try {
      return await Promise.race([ran, timedOut]);
    } finally {
      clearTimeout(timer);
      watcher.release();
    }
  };
}

function helperError(name: string, serverUrl: string, problem: string, cause?: unknown): ActionError {
  return new ActionError(
    `credential helper docker-credential-${name} ${problem} (asked for ${serverUrl})`,
    {},
    `check that docker-credential-${name} works on this runner (try: echo ${serverUrl} | docker-credential-${name} get), ` +
      'or set registry-username and registry-password',
    cause === undefined ? undefined : { cause },
  );
}

/** Outcome of asking a helper: found, nothing stored, or the helper is not installed. */
export type HelperAnswer = { readonly found: FoundSecret } | 'not-found' | 'missing';

function isMissing(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ENOENT';
}

function parseAnswer(name: string, serverUrl: string, stdout: string): FoundSecret | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (e) {
    throw helperError(name, serverUrl, 'printed something that is not JSON', e);
  }
  const { Username: user, Secret: secret } = (parsed ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof secret !== 'string' || secret === '') return undefined;
  const username = typeof user === 'string' ? user : '';
  return username === TOKEN_USERNAME ? { username: '', password: '', identitytoken: secret } : { username, password: secret };
}

/**
 * Asks helper `name` for `serverUrl`'s credentials. "credentials not found" and a missing helper
 * are answers, not failures; any other non-zero exit is an ActionError naming the helper.
 * Whatever secret comes back is registered with `secrets` before it is returned.
 */
export async function askHelper(name: string, serverUrl: string, run: HelperRunner, secrets: Secrets): Promise<HelperAnswer> {
  let result: HelperResult;
  try {
    result = await run(name, serverUrl);
  } catch (e) {
    if (isMissing(e)) return 'missing';
    throw helperError(name, serverUrl, `could not be run: ${(e as Error).message}`, e);
  }
  if (result.stopped) throw helperError(name, serverUrl, result.stopped);
  if (result.code === 127) return 'missing';
  const said = `${result.stdout}\n${result.stderr}`;
  if (result.code !== 0) {
    if (/credentials not found/i.test(said)) return 'not-found';
    const detail = secrets.redact(said.trim().split('\n').slice(0, 5).join(' ')) || 'no output';
    throw helperError(name, serverUrl, `failed with exit code ${result.code}: ${detail}`);
  }
  const found = parseAnswer(name, serverUrl, result.stdout);
  if (!found) return 'not-found';
  secrets.add(found.password, found.username);
  secrets.add(found.identitytoken);
  return { found };
}
