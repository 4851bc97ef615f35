/** Test helper: run a snippet of TypeScript in a fresh Node process (another user, a clean memory count). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Bundles `code` (ESM TypeScript; absolute imports) with esbuild and runs it; resolves with its stdout. */
export async function runProbe(code: string, opts: { uid?: number; gid?: number; timeoutMs?: number } = {}): Promise<string> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-'));
  try {
    const entry = path.join(dir, 'probe.ts');
    writeFileSync(entry, code);
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      nodePaths: [path.resolve('node_modules')],
      banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
    });
    const run = spawnSync(process.execPath, ['--input-type=module'], {
      input: out.outputFiles[0]?.text,
      encoding: 'utf8',
      cwd: '/',
      timeout: opts.timeoutMs ?? 60_000,
      uid: opts.uid,
      gid: opts.gid,
    });
    if (run.status !== 0) throw new Error(`probe failed (${run.status ?? run.signal}): ${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
