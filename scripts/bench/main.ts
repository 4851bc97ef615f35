/**
 * Benchmarks, each against references timed in the same run on the same daemon and registry.
 * Prints medians, ratios and a Markdown table; never asserts. See README "Performance".
 */
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startServices, type Services } from '../../test/support/services.js';
import { benchConvoxDeploy, formatBench } from '../../test/unit/convox/bench.js';
import { packContext } from '../../src/docker/context.js';
import { median, ms, ratio, table, timed, type Row } from './stats.js';
import { NODE, ROOT, runBundle, sh } from './run.js';

const rows: Row[] = [];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-ctx-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function smallFiles(n: number, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`${prefix}/d${i % 50}/f${i}.txt`] = `file ${i} `.repeat(10);
  return out;
}

function cliEnv(s: Services, config: string): Record<string, string> {
  return { DOCKER_HOST: s.dockerHost, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: config };
}

/** 1. Our build+push vs the docker CLI vs bare Engine API requests with curl. */
async function buildPush(s: Services, config: string): Promise<void> {
  const ctx = tree({ Dockerfile: 'FROM scratch\nCOPY . /app\n', ...smallFiles(3000, 'src') });
  const sock = s.dockerHost.replace('unix://', '');
  const auth = Buffer.from(JSON.stringify({ username: s.registryUser, password: s.registryPassword, serveraddress: s.registry })).toString('base64');
  const t = { ours: [] as number[], cli: [] as number[], floor: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    writeFileSync(path.join(ctx, 'round.txt'), `ours ${i} ${Date.now()}`);
    t.ours.push(await timed(async () => {
      const r = await runBundle({ image: `${s.registry}/bench/ours`, tags: `r${i}`, update: 'none', network: 'none', 'registry-username': s.registryUser, 'registry-password': s.registryPassword }, { DOCKER_HOST: s.dockerHost }, ctx);
      if (r.code !== 0) throw new Error(`our run failed:\n${r.out}`);
    }));
    writeFileSync(path.join(ctx, 'round.txt'), `cli ${i} ${Date.now()}`);
    const cliRef = `${s.registry}/bench/cli:r${i}`;
    t.cli.push(await timed(() => sh(`cd ${ctx} && /usr/bin/docker build -q -t ${cliRef} . >/dev/null && /usr/bin/docker push ${cliRef} >/dev/null`, cliEnv(s, config))));
    writeFileSync(path.join(ctx, 'round.txt'), `floor ${i} ${Date.now()}`);
    const repo = `${s.registry}/bench/floor`;
    t.floor.push(await timed(() => sh([
      `tar -C ${ctx} -c . | curl -sf --unix-socket ${sock} -X POST -H 'Content-Type: application/x-tar' --data-binary @- 'http://d/v1.41/build?version=2&networkmode=none&t=${encodeURIComponent(`${repo}:r${i}`)}' >/dev/null`,
      `curl -sf --unix-socket ${sock} -X POST -H 'X-Registry-Auth: ${auth}' 'http://d/v1.41/images/${encodeURIComponent(repo)}/push?tag=r${i}' >/dev/null`,
    ].join(' && '))));
  }
  const [o, c, f] = [median(t.ours), median(t.cli), median(t.floor)];
  console.log(`build+push, 3000-file context, ${ROUNDS} rounds: ours ${ms(o)}, docker CLI ${ms(c)}, curl floor ${ms(f)}`);
  rows.push({ bench: 'Build + push, 3000 files (median)', ours: ms(o), reference: `floor (curl) ${ms(f)}; docker CLI ${ms(c)}`, ratio: `${ratio(o, f)} floor; ${ratio(o, c)} CLI`, target: '≤ 1.15× floor', met: o / f <= 1.15 });
  rmSync(ctx, { recursive: true, force: true });
}

/** 2. Packing a 50k-file tree, most of it ignored, vs the CLI. */
async function pack(s: Services, config: string): Promise<void> {
  const files = { Dockerfile: 'FROM scratch\nCOPY . /ctx\n', '.dockerignore': 'node_modules\n**/*.log\n', ...smallFiles(45_000, 'node_modules'), ...smallFiles(5_000, 'src') };
  const ctx = tree(files);
  const t = { packOnly: [] as number[], ours: [] as number[], cli: [] as number[] };
  for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
    t.packOnly.push(await timed(async () => {
      const packed = await packContext({ contextDir: ctx, dockerfile: path.join(ctx, 'Dockerfile') });
      await Promise.all([pipeline(packed.stream as NodeJS.ReadableStream, new Writable({ write: (_c, _e, cb) => cb() })), packed.done]);
    }));
    writeFileSync(path.join(ctx, 'src/round.txt'), `ours ${i}`);
    t.ours.push(await timed(async () => {
      const r = await runBundle({ image: `${s.registry}/bench/pack`, tags: `p${i}`, push: 'false', update: 'none', network: 'none' }, { DOCKER_HOST: s.dockerHost }, ctx);
      if (r.code !== 0) throw new Error(`our run failed:\n${r.out}`);
    }));
    writeFileSync(path.join(ctx, 'src/round.txt'), `cli ${i}`);
    t.cli.push(await timed(() => sh(`cd ${ctx} && /usr/bin/docker build -q -t bench/pack-cli:p${i} . >/dev/null`, cliEnv(s, config))));
  }
  const [p, o, c] = [median(t.packOnly), median(t.ours), median(t.cli)];
  console.log(`50k files (45k ignored): our packing alone ${ms(p)}; build end to end: ours ${ms(o)}, docker CLI ${ms(c)}`);
  rows.push({ bench: 'Context of 50k files, 45k ignored: build end to end', ours: ms(o), reference: `docker CLI ${ms(c)} (our packing alone: ${ms(p)})`, ratio: ratio(o, c), target: '≤ CLI', met: o <= c });
  rmSync(ctx, { recursive: true, force: true });
}

/** 3. Start-up of the bundle to its first Engine API call. */
async function startup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-sock-'));
  const sock = path.join(dir, 'docker.sock');
  let firstCall: (() => void) | undefined;
  const server = createServer((c) => {
    firstCall?.();
    c.destroy();
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const ws = path.join(ROOT, 'examples/app');
  const samples: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    const seen = new Promise<number>((resolve) => (firstCall = () => resolve(Number(process.hrtime.bigint() - t0) / 1e6)));
    const run = runBundle({ image: 'example/app', context: '.', manifest: 'convox.yml', update: 'none' }, { DOCKER_HOST: `unix://${sock}` }, ws);
    samples.push(await seen);
    await run;
    baseline.push(await timed(() => spawnSync(NODE, ['-e', '0'])));
  }
  server.close();
  rmSync(dir, { recursive: true, force: true });
  const [o, b] = [median(samples), median(baseline)];
  console.log(`start-up to first Engine API call: ${ms(o)} (node -e 0: ${ms(b)})`);
  rows.push({ bench: 'Start-up to first Engine API call (Node 24)', ours: ms(o), reference: `node -e 0: ${ms(b)}`, ratio: ratio(o, b), target: '< 300 ms', met: o < 300 });
}

/** 4. Peak memory while packing a 1 GB context. */
async function memory(): Promise<void> {
  const ctx = tree({ Dockerfile: 'FROM scratch\nCOPY . /\n' });
  sh(`for i in 1 2 3 4; do head -c 268435456 /dev/urandom > ${ctx}/blob$i; done`);
  const child = (mode: string): { bytes: number; maxRssKb: number } => {
    const r = spawnSync(NODE, [path.join(ROOT, '.tmp/bench-pack-child.cjs'), ctx, mode], { maxBuffer: 1024 * 1024 });
    return JSON.parse(r.stdout.toString()) as { bytes: number; maxRssKb: number };
  };
  const idle = child('idle');
  const packed = child('pack');
  rmSync(ctx, { recursive: true, force: true });
  const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
  console.log(`packing ${(packed.bytes / 1e9).toFixed(2)} GB: peak RSS ${mb(packed.maxRssKb)} (idle process ${mb(idle.maxRssKb)})`);
  rows.push({ bench: `Peak RSS packing a ${(packed.bytes / 1e9).toFixed(2)} GB context`, ours: mb(packed.maxRssKb), reference: `same process idle: ${mb(idle.maxRssKb)}`, ratio: '–', target: '< 200 MB', met: packed.maxRssKb / 1024 < 200 });
}

/** 5. A rebuild on an emptied daemon, with and without cache-from. */
async function cache(s: Services, config: string): Promise<void> {
  const ctx = tree({ Dockerfile: `FROM ${s.baseImage}\nRUN sleep 3 && echo slow > /slow\nCOPY a.txt /a.txt\n`, 'a.txt': 'x\n' });
  const creds = { 'registry-username': s.registryUser, 'registry-password': s.registryPassword, network: 'none', update: 'none' };
  const env = { DOCKER_HOST: s.dockerHost };
  const image = `${s.registry}/bench/cached`;
  const first = await runBundle({ image, tags: 'seed', ...creds }, env, ctx);
  if (first.code !== 0) throw new Error(`seed run failed:\n${first.out}`);
  const base = path.join(ctx, '..', `base-${Date.now()}.tar`);
  sh(`/usr/bin/docker save -o ${base} ${s.baseImage}`, cliEnv(s, config));
  const empty = (): void => {
    sh(`ids=$(/usr/bin/docker images -aq); [ -z "$ids" ] || /usr/bin/docker rmi -f $ids >/dev/null; /usr/bin/docker builder prune -af >/dev/null; /usr/bin/docker load -q -i ${base} >/dev/null`, cliEnv(s, config));
  };
  empty();
  let withCacheLog = '';
  const withCache = await timed(async () => {
    const r = await runBundle({ image, tags: 'with-cache', 'cache-from': `${image}:seed`, ...creds }, env, ctx);
    withCacheLog = r.out;
  });
  empty();
  const without = await timed(() => runBundle({ image, tags: 'without-cache', ...creds }, env, ctx));
  rmSync(base, { force: true });
  rmSync(ctx, { recursive: true, force: true });
  const cachedSlow = /RUN sleep 3[^\n]*\n(#\d+ )?CACHED/.test(withCacheLog) || /#\d+ CACHED/.test(withCacheLog);
  console.log(`rebuild on an emptied daemon: with cache-from ${ms(withCache)} (slow RUN step cached: ${cachedSlow}), without ${ms(without)}`);
  rows.push({ bench: 'Rebuild + push on an emptied daemon (slow RUN)', ours: `${ms(withCache)} with cache-from`, reference: `${ms(without)} without`, ratio: ratio(withCache, without), target: 'cache-from skips the RUN', met: cachedSlow });
}

/** 6. The rack deploy: time from the rack's final state to deploy() returning, and requests. */
async function deploy(): Promise<void> {
  const result = await benchConvoxDeploy({ promoteMs: [200, 2000], runs: 3 });
  console.log(formatBench(result));
  for (const r of result) {
    rows.push({
      bench: `Deploy: rack done → action done (rollout ${r.promoteMs} ms, ${r.events ? 'with' : 'without'} rack events)`,
      ours: `${ms(r.addedLatencyMs.median)} (max ${ms(r.addedLatencyMs.max)})`,
      reference: `${r.requestsPerDeploy.median} requests per deploy`,
      ratio: '–',
      target: '< 2 s added',
      met: r.addedLatencyMs.max < 2000,
    });
  }
}

async function main(): Promise<void> {
  const all = ['build-push', 'pack', 'startup', 'memory', 'cache', 'deploy'];
  const parts = process.argv.slice(2).length ? process.argv.slice(2) : all;
  const needServices = parts.some((p) => ['build-push', 'pack', 'cache'].includes(p));
  const s = needServices ? await startServices() : undefined;
  const config = mkdtempSync(path.join(tmpdir(), 'cid-bench-cfg-'));
  try {
    if (s) sh(`/usr/bin/docker login ${s.registry} -u ${s.registryUser} --password-stdin >/dev/null 2>&1`, cliEnv(s, config), s.registryPassword);
    for (const part of parts) {
      console.log(`\n== ${part}`);
      if (part === 'build-push') await buildPush(s!, config);
      else if (part === 'pack') await pack(s!, config);
      else if (part === 'startup') await startup();
      else if (part === 'memory') await memory();
      else if (part === 'cache') await cache(s!, config);
      else if (part === 'deploy') await deploy();
      else throw new Error(`unknown part '${part}' (parts: ${all.join(', ')})`);
    }
  } finally {
    rmSync(config, { recursive: true, force: true });
    await s?.stop();
  }
  console.log(`\n${table(rows)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
