/**
 * 4. Peak RSS with a 1 GiB context of random bytes (four 256 MiB files, made once per run and
 * deleted afterwards): packContext in a child process that reports its own maxRSS, against the
 * same child doing nothing; and the whole bundle building that context (served over the
 * session, and as a tar upload), its maxRSS written by a preloaded hook on exit, against the
 * bundle on a one-file context and the docker CLI on the same context.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { act, cliEnv, emptyDaemon, NODE, ROOT, sh, type Bench } from './run.js';
import { mb, ms, timed, type Row } from './stats.js';

export async function memory(b: Bench): Promise<Row[]> {
  const ctx = mkdtempSync(path.join(tmpdir(), 'cid-bench-1g-'));
  const work = mkdtempSync(path.join(tmpdir(), 'cid-bench-rss-'));
  try {
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /data/\n');
    // BENCH_MEMORY_MB scales the context (default 1024), to see whether the peak grows with it.
    const blobs = Math.max(1, Math.ceil(Number(process.env.BENCH_MEMORY_MB ?? 1024) / 256));
    sh(`for i in $(seq ${blobs}); do head -c 268435456 /dev/urandom > ${ctx}/blob$i; done`);
    const idle = child(ctx, 'idle');
    const packed = child(ctx, 'pack');
    const gb = (packed.bytes / 1e9).toFixed(2);
    console.log(`packing ${gb} GB in a child: peak RSS ${mb(packed.maxRssKb)} (the same child idle: ${mb(idle.maxRssKb)})`);
    const rows: Row[] = [
      {
        bench: `Peak RSS packing a ${gb} GB context (packContext, in a child)`,
        ours: mb(packed.maxRssKb),
        reference: `the same child idle ${mb(idle.maxRssKb)}`,
        ratio: '–',
        target: '< 200 MB',
        met: packed.maxRssKb / 1024 < 200,
      },
    ];
    // References for the whole bundle: itself on a one-file context, and the docker CLI on this one.
    const tiny = mkdtempSync(path.join(tmpdir(), 'cid-bench-tiny-'));
    writeFileSync(path.join(tiny, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    const small = await bundleRss(b, tiny, work, {}).finally(() => rmSync(tiny, { recursive: true, force: true }));
    const cli = cliRss(b, ctx, work);
    console.log(
      `references: the bundle on a one-file context ${mb(small.kb)}; the docker CLI building the ${gb} GB context ${mb(cli.kb)} in ${ms(cli.took)}`,
    );
    const refs = `the bundle on a 1-file context ${mb(small.kb)}; docker CLI ${mb(cli.kb)}`;
    for (const [label, env] of [
      ['session', {}],
      ['tar upload', { CID_CONTEXT_TRANSFER: 'tar' }],
    ] as const) {
      const { kb, took } = await bundleRss(b, ctx, work, env);
      console.log(`the bundle building the ${gb} GB context (${label}): peak RSS ${mb(kb)} in ${ms(took)}`);
      rows.push({
        bench: `Peak RSS of the bundle building a ${gb} GB context (${label})`,
        ours: mb(kb),
        reference: refs,
        ratio: '–',
        target: '< 200 MB',
        met: kb / 1024 < 200,
      });
    }
    return rows;
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    // The 1 GB image and its build cache would slow every later part.
    emptyDaemon(b);
  }
}

/** The docker CLI's peak RSS building the same context (GNU time's %M, in KiB). */
function cliRss(b: Bench, ctx: string, work: string): { kb: number; took: number } {
  const out = path.join(work, 'cli-rss');
  const t0 = Date.now();
  sh(`cd ${ctx} && /usr/bin/time -o ${out} -f %M /usr/bin/docker build -q -t bench/mem:cli . >/dev/null`, cliEnv(b));
  const took = Date.now() - t0;
  emptyDaemon(b);
  return { kb: Number(readFileSync(out, 'utf8').trim()), took };
}

function child(ctx: string, mode: 'idle' | 'pack'): { bytes: number; maxRssKb: number } {
  const r = spawnSync(NODE, [path.join(ROOT, '.tmp/bench-pack-child.cjs'), ctx, mode], { maxBuffer: 1024 * 1024 });
  if (r.status !== 0) throw new Error(`the packing child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as { bytes: number; maxRssKb: number };
}

/** Runs the bundle with a preloaded hook that writes process.resourceUsage().maxRSS on exit. */
async function bundleRss(
  b: Bench,
  ctx: string,
  work: string,
  env: Record<string, string>,
): Promise<{ kb: number; took: number }> {
  const hook = path.join(work, 'rss-hook.cjs');
  const out = path.join(work, 'rss');
  writeFileSync(
    hook,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  rmSync(out, { force: true });
  const took = await timed(() =>
    act(
      { image: 'bench/mem', tags: `m${Date.now()}`, push: 'false', update: 'none', network: 'none' },
      { DOCKER_HOST: b.s.dockerHost, NODE_OPTIONS: `--require ${hook}`, ...env },
      ctx,
    ),
  );
  emptyDaemon(b);
  return { kb: Number(readFileSync(out, 'utf8')), took };
}
