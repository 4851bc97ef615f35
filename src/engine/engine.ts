import Docker from 'dockerode';
import { ActionError } from '../errors.js';

/** What the build engine told us about itself. */
export interface EngineInfo {
  readonly serverVersion: string;
  readonly apiVersion: string;
  readonly os: string;
  /** BuildKit builds (`version=2`): API ≥ 1.39 on a Linux daemon, and DOCKER_BUILDKIT not false. */
  readonly buildkit: boolean;
  /** Why the classic builder is used, when it is: the engine has no BuildKit, or DOCKER_BUILDKIT said so. */
  readonly classicBecause?: 'no-buildkit' | 'DOCKER_BUILDKIT';
}

/**
 * DOCKER_BUILDKIT as the docker CLI reads it (cli/command/cli.go, BuildKitEnabled): unset or
 * empty leaves the choice to us (BuildKit when the engine has it); otherwise a Go
 * strconv.ParseBool spelling, and anything else is refused as the CLI refuses it.
 */
export function buildkitWanted(env: NodeJS.ProcessEnv): boolean | undefined {
  const v = env.DOCKER_BUILDKIT;
  if (v === undefined || v === '') return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ActionError(
    `DOCKER_BUILDKIT=${v} is not a boolean`,
    { phase: 'build' },
    'set DOCKER_BUILDKIT to 1 (BuildKit, the default) or 0 (the classic builder), or leave it unset',
  );
}

/**
 * Connects to the engine named by DOCKER_HOST (unix, tcp with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
 * ssh), as the docker CLI does; docker-modem reads those variables itself.
 */
export function connectEngine(): Docker {
  return new Docker();
}

function where(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : 'the default socket /var/run/docker.sock (DOCKER_HOST is not set)';
}

/** Asks the engine for its version; an unreachable engine fails with a message naming DOCKER_HOST. */
export async function inspectEngine(docker: Docker, env: NodeJS.ProcessEnv): Promise<EngineInfo> {
  const wanted = buildkitWanted(env);
  let version: Docker.DockerVersion;
  try {
    version = await docker.version();
  } catch (e) {
    throw new EngineUnreachable(
      `cannot reach the Docker engine at ${where(env)}: ${(e as Error).message}`,
      { phase: 'build' },
      'start Docker on the runner, or point DOCKER_HOST at a reachable engine (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, or ssh://)',
      { cause: e },
    );
  }
  const [major = 0, minor = 0] = version.ApiVersion.split('.').map(Number);
  const available = version.Os === 'linux' && (major > 1 || (major === 1 && minor >= 39));
  const info = { serverVersion: version.Version, apiVersion: version.ApiVersion, os: version.Os };
  // DOCKER_BUILDKIT=1 on an engine without BuildKit: the classic builder, with the warning that says why.
  if (!available) return { ...info, buildkit: false, classicBecause: 'no-buildkit' };
  if (wanted === false) return { ...info, buildkit: false, classicBecause: 'DOCKER_BUILDKIT' };
  return { ...info, buildkit: true };
}

/** The engine did not answer at all (as opposed to refusing a build). */
export class EngineUnreachable extends ActionError {}
