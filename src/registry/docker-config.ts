/**
 * Reading the Docker CLI config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) that
 * `docker login` and docker/login-action write, and matching its keys to a registry the way the
 * CLI does: exact key first, then by host name, with every Docker Hub spelling meaning docker.io.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionError } from '../errors.js';

/** One `auths` entry as the CLI writes it. */
export interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

export interface DockerConfig {
  /** Where it was read from, for messages. */
  readonly path: string;
  readonly auths: Readonly<Record<string, AuthEntry>>;
  readonly credHelpers: Readonly<Record<string, string>>;
  readonly credsStore?: string;
}

/** Username/password or identity token, before the server address is attached. */
export interface FoundSecret {
  readonly username: string;
  readonly password: string;
  readonly identitytoken?: string;
}

/** The key the Docker CLI uses for Docker Hub in `auths` and when asking credential helpers. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** The config file the CLI would read for this environment. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, homedir: string): string {
  const dir = env['DOCKER_CONFIG'];
  return join(dir ? dir : join(homedir, '.docker'), 'config.json');
}

/**
 * The host[:port] a config key or registry names, lowercased, scheme and path dropped
 * (`https://index.docker.io/v1/` → `docker.io`, `http://127.0.0.1:5055` → `127.0.0.1:5055`).
 */
export function hostKey(serverAddress: string): string {
  const host = (serverAddress.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '').toLowerCase();
  return HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/** The server address the CLI would send for `registry`: Docker Hub's legacy URL, else host[:port]. */
export function serverAddressFor(registry: string): string {
  return hostKey(registry) === 'docker.io' ? DOCKER_HUB_SERVER : registry;
}

function configError(path: string, problem: string, cause?: unknown): ActionError {
  return new ActionError(
    `Docker config ${path} ${problem}`,
    {},
    'repair the file or remove it and log in again (docker/login-action writes it), or set registry-username and registry-password',
    cause === undefined ? undefined : { cause },
  );
}

function record<T>(value: unknown, path: string, field: string): Record<string, T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw configError(path, `has a "${field}" that is not an object`);
  return value as Record<string, T>;
}

/** Reads and shape-checks the config; undefined when there is none. */
export async function readDockerConfig(env: NodeJS.ProcessEnv, homedir: string): Promise<DockerConfig | undefined> {
  const path = dockerConfigPath(env, homedir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw configError(path, `cannot be read: ${(e as Error).message}`, e);
  }
  if (text.trim() === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // Only the position: V8's message quotes the file's text, which may hold a password.
    const at = /position \d+(?: \(line \d+ column \d+\))?/.exec((e as Error).message)?.[0];
    throw configError(path, `is not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  const top = record<unknown>(raw, path, 'top level');
  const credsStore = typeof top['credsStore'] === 'string' && top['credsStore'] !== '' ? top['credsStore'] : undefined;
  return {
    path,
    auths: record<AuthEntry>(top['auths'], path, 'auths'),
    credHelpers: record<string>(top['credHelpers'], path, 'credHelpers'),
    credsStore,
  };
}

/** Finds `registry`'s entry in a key → value map: exact key, then the same host (CLI order). */
export function lookup<T>(map: Readonly<Record<string, T>>, registry: string): [string, T] | undefined {
  for (const key of [serverAddressFor(registry), registry]) {
    if (Object.hasOwn(map, key)) return [key, map[key] as T];
  }
  const host = hostKey(registry);
  return Object.entries(map).find(([key]) => hostKey(key) === host);
}

/** The credential helper for `registry`: its `credHelpers` entry, else the `credsStore` default. */
export function helperFor(config: DockerConfig, registry: string): string | undefined {
  const specific = lookup(config.credHelpers, registry)?.[1];
  return typeof specific === 'string' && specific !== '' ? specific : config.credsStore;
}

/**
 * The credentials in an `auths` entry: the base64 `auth` (`user:password`) wins over
 * `username`/`password`, as in the CLI. Undefined for the empty marker entries `docker login`
 * leaves when a credential store holds the secret.
 */
export function decodeAuthEntry(config: DockerConfig, key: string, entry: AuthEntry): FoundSecret | undefined {
  const token = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw configError(config.path, `has an "auth" value for "${key}" that is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!password && !token) return undefined;
  return { username, password, identitytoken: token };
}
