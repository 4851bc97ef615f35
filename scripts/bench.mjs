// npm run bench [-- part ...]: bundles the TypeScript benchmark with esbuild and runs it.
// Parts: build-push, pack, startup, memory, cache, deploy (all by default).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('.tmp', { recursive: true });
for (const entry of ['main', 'pack-child']) {
  await build({
    entryPoints: [`scripts/bench/${entry}.ts`],
    outfile: `.tmp/bench-${entry}.cjs`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
    logLevel: 'warning',
  });
}
const r = spawnSync(process.execPath, ['.tmp/bench-main.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
