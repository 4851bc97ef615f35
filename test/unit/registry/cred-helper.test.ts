/**
 * The credential helper runner (@actions/exec underneath) against real executables: what reaches
 * the helper, what must never reach the log, and helpers that misbehave.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { askHelper, execHelper } from '../../../src/registry/cred-helper.js';
import { Secrets } from '../../../src/secrets.js';

const HELPERS: Record<string, string> = {
  // Echoes what it was given, as JSON, and the secret.
  echo: `read -r url || true; printf '{"Username":"u","Secret":"s3cret-%s","Args":"%s"}' "$url" "$*"`,
  // Exits before reading its input.
  quick: 'exit 1',
  // Waits for a person who never comes; records its pid first. `exec`: the helper is the sleep.
  stuck: 'echo $$ > "$PID_FILE"; exec sleep 30',
  // Dies of a signal.
  suicidal: 'kill -9 $$',
};

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cred-helper-'));
  const bin = join(root, 'dir with space');
  await mkdir(bin);
  for (const [name, body] of Object.entries(HELPERS)) {
    await writeFile(join(bin, `docker-credential-${name}`), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, `docker-credential-${name}`), 0o755);
  }
  // Only the env handed to the runner knows where the helpers are, not this process's PATH.
  env = { PATH: `${bin}:/usr/bin:/bin`, PID_FILE: join(root, 'pid') };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('execHelper', () => {
  it('runs `get` from the PATH it is given, the URL on stdin, and prints nothing', async () => {
    const written = vi.spyOn(process.stdout, 'write');
    try {
      const result = await execHelper(env)('echo', 'https://index.docker.io/v1/');
      expect(result).toEqual({
        code: 0,
        stdout: '{"Username":"u","Secret":"s3cret-https://index.docker.io/v1/","Args":"get"}',
        stderr: '',
      });
      expect(written.mock.calls.map((c) => String(c[0])).filter((t) => /s3cret|\[command\]/.test(t))).toEqual([]);
    } finally {
      written.mockRestore();
    }
  });

  it('says ENOENT for a helper that is not installed, which askHelper reads as missing', async () => {
    await expect(execHelper(env)('nope', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await askHelper('nope', 'x', execHelper(env), new Secrets())).toBe('missing');
  });

  it('survives a helper that exits without reading a large input (EPIPE)', async () => {
    for (let i = 0; i < 5; i++) expect(await execHelper(env)('quick', 'x'.repeat(1 << 20))).toMatchObject({ code: 1 });
  });

  it('stops a helper that never answers, and the message names it', async () => {
    const run = execHelper(env, 400);
    const e = await askHelper('stuck', 'ghcr.io', run, new Secrets()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(
      'credential helper docker-credential-stuck did not answer within 0.4s and was stopped (asked for ghcr.io)',
    );
    expect((e as ActionError).fix).toContain('echo ghcr.io | docker-credential-stuck get');
    const pid = Number(await readFile(join(root, 'pid'), 'utf8'));
    await sleep(200);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('reports a helper killed by a signal', async () => {
    const e = await askHelper('suicidal', 'quay.io', execHelper(env), new Secrets()).catch((x: unknown) => x);
    expect((e as ActionError).message).toBe(
      'credential helper docker-credential-suicidal was killed by SIGKILL (asked for quay.io)',
    );
  });
});
