/**
 * Test helpers for the tests that need the real Docker engine (and registry). They skip
 * themselves, saying why, when DOCKER_HOST names no socket here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const host = process.env.DOCKER_HOST;
const socket = host?.startsWith('unix://') ? host.slice('unix://'.length) : undefined;

/** Why the engine tests cannot run here, or undefined when they can. */
export const engineMissing: string | undefined = !socket
  ? `DOCKER_HOST is ${host ? `'${host}', not a unix socket` : 'unset'}`
  : !existsSync(socket)
    ? `DOCKER_HOST's socket ${socket} does not exist`
    : !existsSync('/usr/bin/docker')
      ? 'the docker CLI /usr/bin/docker is missing'
      : undefined;

export function engine(): Docker {
  return new Docker({ socketPath: socket ?? '' });
}

/**
 * Runs the docker CLI (or another docker client, `program`: buildx, say) against the engine;
 * resolves with stdout+stderr, whatever the exit code.
 */
export async function dockerCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string; program?: string } = {},
): Promise<{ code: number; output: string }> {
  const child = promisify(execFile)(opts.program ?? '/usr/bin/docker', args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', DOCKER_HOST: host ?? '', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? 1, output: (x.stdout ?? '') + (x.stderr ?? '') };
  }
}

/** POST /build with a tar body; resolves with the raw answer stream. */
export function postBuild(
  docker: Docker,
  body: NodeJS.ReadableStream,
  query: Record<string, unknown>,
): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        file: body,
        options: query,
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      } as never,
      (err: unknown, stream: unknown) => (err ? reject(err) : resolve(stream as NodeJS.ReadableStream)),
    );
  });
}
