// npm run bench [-- part ...]: bundles the TypeScript benchmark with esbuild and runs it.
// Parts: build-push, pack, startup, memory, cache, deploy (all by default). BENCH_ROUNDS=n
// changes the number of rounds (default 5; the cache and deploy parts use at most 3).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// A CommonJS bundle has no import.meta: give each of our TypeScript files its own directory
// and URL, so helpers such as test/support/run-action.ts find the repository as they do in tests.
const importMeta = {
  name: 'import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const text = readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      return { contents: text, loader: 'ts' };
    });
  },
};

mkdirSync('.tmp', { recursive: true });
for (const entry of ['main', 'pack-child']) {
  await build({
    plugins: [importMeta],
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
