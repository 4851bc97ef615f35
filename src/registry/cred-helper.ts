/**
 * Docker credential helpers (`docker-credential-<name> get`, server URL on stdin, JSON
 * `{Username, Secret}` on stdout), as the Docker CLI calls them.
 */
import { spawn } from 'node:child_process';
import { ActionError } from '../errors.js';
import type { Secrets } from '../secrets.js';
import type { FoundSecret } from './docker-config.js';

export interface HelperResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `docker-credential-<name> get` with `stdin`. Rejects with code `ENOENT` when not installed. */
export type HelperRunner = (name: string, stdin: string) => Promise<HelperResult>;

/** The username helpers return when the secret is an identity token rather than a password. */
const TOKEN_USERNAME = '<token>';
const HELPER_TIMEOUT_MS = 60_000;

/**
 * The real runner: spawns the helper found on `env.PATH`. A helper that waits for a person
 * (a locked keychain) is killed after a minute rather than hanging the job.
 */
export function spawnHelper(env: NodeJS.ProcessEnv): HelperRunner {
  return (name, stdin) =>
    new Promise((resolve, reject) => {
      const child = spawn(`docker-credential-${name}`, ['get'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: HELPER_TIMEOUT_MS,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code, signal) =>
        resolve({
          code: code ?? 128,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n(killed by ${signal})` : ''),
        }),
      );
      // A helper that exits without reading stdin makes this write fail with EPIPE; its exit says more.
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    });
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
