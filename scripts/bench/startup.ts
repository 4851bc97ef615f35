/**
 * 3. Start-up of the bundle on Node 24 to its first Engine API call: DOCKER_HOST points at a
 * unix socket we listen on; the clock runs from spawn to the first connection accepted, which
 * is then closed (the run fails, as expected). `node -e 0` on the same binary is the reference.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAction } from '../../test/support/run-action.js';
import { NODE, ROOT } from './run.js';
import { median, ms, ratio, type Row } from './stats.js';

export async function startup(rounds: number): Promise<Row[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-sock-'));
  const sock = path.join(dir, 'docker.sock');
  let firstCall: (() => void) | undefined;
  const server = createServer((c) => {
    firstCall?.();
    c.destroy();
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const samples = { ours: [] as number[], node: [] as number[] };
  try {
    // Run 0 is an untimed warm-up (the binary and the bundle's first read from disk).
    for (let i = 0; i <= rounds; i++) {
      const t0 = process.hrtime.bigint();
      const seen = new Promise<number>((resolve) => (firstCall = () => resolve(Number(process.hrtime.bigint() - t0) / 1e6)));
      const run = runAction({
        inputs: { image: 'example/app', update: 'none', network: 'none' },
        env: { DOCKER_HOST: `unix://${sock}` },
        workspace: path.join(ROOT, 'examples/app'),
        timeoutMs: 60_000,
      });
      const first = await Promise.race([seen, run.then(() => undefined)]);
      if (first === undefined)
        throw new Error(`the bundle ended without calling the engine:\n${(await run).stdout.slice(-2000)}`);
      firstCall = undefined;
      await run;
      const node = await nodeStartup();
      if (i === 0) continue;
      samples.ours.push(first);
      samples.node.push(node);
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const [o, n] = [median(samples.ours), median(samples.node)];
  console.log(
    `start-up to the first Engine API call, median of ${rounds}: ${ms(o)} (node -e 0: ${ms(n)}; all: ${samples.ours.map(ms).join(', ')})`,
  );
  return [
    {
      bench: 'Start-up of the bundle (Node 24) to its first Engine API call',
      ours: ms(o),
      reference: `\`node -e 0\` ${ms(n)}`,
      ratio: ratio(o, n),
      target: '< 300 ms',
      met: o < 300,
    },
  ];
}

/** spawn → exit of `node -e 0`, timed the same way (asynchronous spawn, same binary). */
function nodeStartup(): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const c = spawn(NODE, ['-e', '0'], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}
