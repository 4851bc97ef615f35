import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs the docker CLI (Debian's, matching the engine) against the test engine. */
export function docker(dockerHost: string, args: string[], opts: { input?: string; dockerConfig?: string } = {}): string {
  return execFileSync('/usr/bin/docker', args, {
    env: {
      PATH: process.env.PATH ?? '',
      DOCKER_HOST: dockerHost,
      DOCKER_BUILDKIT: '1',
      DOCKER_CONFIG: opts.dockerConfig,
    },
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

/** Runs `fn` with a throwaway DOCKER_CONFIG logged in to the registry; the login never touches ~/.docker. */
export function withLogin<T>(dockerHost: string, registry: string, user: string, password: string, fn: (config: string) => T): T {
  const config = mkdtempSync(path.join(tmpdir(), 'cid-dockercfg-'));
  try {
    docker(dockerHost, ['login', registry, '-u', user, '--password-stdin'], { input: password, dockerConfig: config });
    return fn(config);
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
