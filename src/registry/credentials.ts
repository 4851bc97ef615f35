/**
 * Which credentials to use for a registry: the `registry-username`/`registry-password` inputs
 * (for the pushed image's registry), else whatever `docker login` / docker/login-action left in
 * the Docker config: a per-registry credential helper, the default credential store, or `auths`.
 */
import { homedir as osHomedir } from 'node:os';
import { ActionError } from '../errors.js';
import { definedFields } from '../net/defined-fields.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { askHelper, execHelper, type HelperRunner } from './cred-helper.js';
import {
  decodeAuthEntry,
  helperFor,
  lookup,
  readDockerConfig,
  serverAddressFor,
  type DockerConfig,
  type FoundSecret,
} from './docker-config.js';

/** Credentials for one registry. `username`/`password` are empty when only a token is known. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
  /** `https://index.docker.io/v1/` for Docker Hub, else host[:port]: what the Docker CLI sends. */
  readonly serveraddress: string;
  readonly identitytoken?: string;
}

export interface ResolveOptions {
  /** The `registry-username` / `registry-password` inputs; pass them only for the pushed registry. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: Secrets;
  /** Home directory for `~/.docker/config.json`; defaults to the user's. */
  readonly homedir?: string;
  /** Runs a credential helper; defaults to `docker-credential-<name>` on `env.PATH` through @actions/exec. */
  readonly runHelper?: HelperRunner;
  /** Told when the config names a helper that is not installed, which otherwise surfaces as a 401. */
  readonly log?: Log;
}

function fromInputs(username: string | undefined, password: string | undefined): FoundSecret | undefined {
  if (!username && !password) return undefined;
  if (!password) {
    throw new ActionError(
      'registry-username is set but registry-password is empty',
      { input: 'registry-password' },
      'pass the password or token, e.g. ${{ secrets.REGISTRY_PASSWORD }}; secrets are empty in pull requests from forks',
    );
  }
  if (!username) {
    throw new ActionError(
      'registry-password is set but registry-username is empty',
      { input: 'registry-username' },
      'set registry-username too (for token-only registries, any non-empty name the registry documents)',
    );
  }
  return { username, password };
}

async function fromHelper(config: DockerConfig, registry: string, opts: ResolveOptions): Promise<FoundSecret | undefined> {
  const helper = helperFor(config, registry);
  if (!helper) return undefined;
  const serverUrl = serverAddressFor(registry);
  const answer = await askHelper(helper, serverUrl, opts.runHelper ?? execHelper(opts.env), opts.secrets);
  if (answer === 'missing') {
    opts.log?.warning(
      `${config.path} names credential helper "${helper}" for ${registry}, but docker-credential-${helper} is not installed; continuing without its credentials`,
    );
    return undefined;
  }
  return answer === 'not-found' ? undefined : answer.found;
}

/**
 * Resolves credentials for `registry` (normalised: `docker.io` or host[:port]). Inputs win;
 * then the Docker config's helper or store; then its `auths` entry (also when the helper has
 * nothing, which the CLI would not do, but a stored secret is better than an anonymous 401).
 * Every secret is registered with `opts.secrets` before it is returned. Undefined: anonymous.
 */
export async function resolveCredentials(registry: string, opts: ResolveOptions): Promise<RegistryCredentials | undefined> {
  const serveraddress = serverAddressFor(registry);
  const given = fromInputs(opts.username, opts.password);
  if (given) {
    opts.secrets.add(given.password, given.username);
    return { ...given, serveraddress };
  }
  const config = await readDockerConfig(opts.env, opts.homedir ?? osHomedir());
  if (!config) return undefined;
  let found = await fromHelper(config, registry, opts);
  if (!found) {
    const entry = lookup(config.auths, registry);
    found = entry ? decodeAuthEntry(config, entry[0], entry[1]) : undefined;
  }
  if (!found) return undefined;
  opts.secrets.add(found.password, found.username);
  opts.secrets.add(found.identitytoken);
  return { ...found, serveraddress };
}

/**
 * The Engine API `AuthConfig` (dockerode's `authconfig`, sent as X-Registry-Auth) for these
 * credentials; `{}` when anonymous, which the push endpoint still requires.
 */
export function engineAuthConfig(c: RegistryCredentials | undefined): Record<string, string> {
  if (!c) return {};
  // A token login (ACR, ECR's helpers) may have no username; the header carries none then.
  if (c.identitytoken)
    return definedFields({ username: c.username || undefined, identitytoken: c.identitytoken, serveraddress: c.serveraddress });
  return { username: c.username, password: c.password, serveraddress: c.serveraddress };
}
