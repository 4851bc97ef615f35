/**
 * `npm run bench [-- part ...]`: each figure against references timed in the same run on the
 * same daemon and registry, contenders interleaved round by round. Prints medians, ratios and
 * a Markdown table (also written to .tmp/performance.md, for docs/performance.md); never
 * asserts. Parts: build-push, pack, startup, memory, cache, deploy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServices } from '../../test/support/services.js';
import { buildPush } from './build-push.js';
import { cache } from './cache.js';
import { deploy } from './deploy.js';
import { memory } from './memory.js';
import { pack } from './pack.js';
import { cliEnv, NODE, sh, type Bench } from './run.js';
import { ms, table, timed, type Row } from './stats.js';
import { startup } from './startup.js';

const PARTS: Record<string, (b: Bench) => Promise<Row[]>> = {
  'build-push': buildPush,
  pack,
  startup: (b) => startup(b.rounds),
  memory,
  cache,
  deploy,
};
const NEEDS_SERVICES = new Set(['build-push', 'pack', 'memory', 'cache', 'deploy']);

async function main(): Promise<number> {
  const parts = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(PARTS);
  const unknown = parts.filter((p) => !(p in PARTS));
  if (unknown.length) throw new Error(`unknown part(s) ${unknown.join(', ')} (parts: ${Object.keys(PARTS).join(', ')})`);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const s = parts.some((p) => NEEDS_SERVICES.has(p)) ? await startServices() : undefined;
  const dockerConfig = mkdtempSync(path.join(tmpdir(), 'cid-bench-cfg-'));
  // Parts without services never touch `s`.
  const b: Bench = { s: s!, dockerConfig, rounds };
  const rows: Row[] = [];
  let failed = 0;
  try {
    if (s) {
      sh(
        `/usr/bin/docker login ${s.registry} -u ${s.registryUser} --password-stdin >/dev/null 2>&1`,
        cliEnv(b),
        s.registryPassword,
      );
      console.log(
        `${sh('/usr/bin/docker version --format "engine {{.Server.Version}}, CLI {{.Client.Version}}"', cliEnv(b)).trim()}; action on ${sh(`${NODE} --version`).trim()}; ${sh('nproc').trim()} CPUs`,
      );
    }
    for (const part of parts) {
      console.log(`\n== ${part}`);
      const took = await timed(async () => {
        try {
          rows.push(...(await PARTS[part]!(b)));
        } catch (e) {
          // One broken part should not cost the figures of the others.
          failed++;
          console.error(`${part} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          rows.push({ bench: part, ours: 'failed', reference: '–', ratio: '–', target: '–', met: false });
        }
      });
      console.log(`(${part}: ${ms(took)})`);
    }
  } finally {
    rmSync(dockerConfig, { recursive: true, force: true });
    await s?.stop();
  }
  // docs/performance.md compiles the ranges of separate runs from this table.
  const out = path.resolve(import.meta.dirname, '../../.tmp/performance.md');
  writeFileSync(out, `${table(rows)}\n`);
  console.log(`\n${table(rows)}\n\n(also in .tmp/performance.md, for docs/performance.md)`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
