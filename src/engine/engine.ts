import Docker from 'dockerode';
import { ActionError } from '../errors.js';

/** What the build engine told us about itself. */
export interface EngineInfo {
  readonly serverVersion: string;
  readonly apiVersion: string;
  readonly os: string;
  /** BuildKit builds (`version=2`) are available: API ≥ 1.39 on a Linux daemon. */
  readonly buildkit: boolean;
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
  return {
    serverVersion: version.Version,
    apiVersion: version.ApiVersion,
    os: version.Os,
    buildkit: version.Os === 'linux' && (major > 1 || (major === 1 && minor >= 39)),
  };
}

/** The engine did not answer at all (as opposed to refusing a build). */
export class EngineUnreachable extends ActionError {}
