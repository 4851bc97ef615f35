/**
 * 6. Rack deploy latency. In process, through the benchmark the rack client ships
 * (test/unit/convox/bench.ts): deploy() against the rack test server, timed from the app first
 * reading `running` on the new release to deploy() returning, with and without the rack's event
 * stream. End to end: the bundle builds, pushes and deploys (manifest mode) to the same server,
 * timed from the rack's final state to the action's process exiting; requests counted on the server.
 */
import { rmSync } from 'node:fs';
import { startRackServer } from '../../test/rack-server/index.js';
import { benchConvoxDeploy, formatBench } from '../../test/unit/convox/bench.js';
import { act, pushInputs, tree, type Bench } from './run.js';
import { median, ms, type Row } from './stats.js';

export async function deploy(b: Bench): Promise<Row[]> {
  const result = await benchConvoxDeploy({ promoteMs: [200, 2000], runs: Math.min(b.rounds, 3) });
  console.log(formatBench(result));
  const rows: Row[] = result.map((r) => ({
    bench: `Deploy in process: rack's final state → deploy() returns (rollout ${r.promoteMs} ms, ${r.events ? 'with rack events' : 'polling only'})`,
    ours: `${ms(r.addedLatencyMs.median)} (max ${ms(r.addedLatencyMs.max)})`,
    reference: `${r.requestsPerDeploy.median} requests per deploy (max ${r.requestsPerDeploy.max})`,
    ratio: '–',
    target: '< 2 s added',
    met: r.addedLatencyMs.max < 2000,
  }));
  for (const route of ['import', 'source'] as const) {
    const e2e = { added: [] as number[], requests: [] as number[], total: [] as number[] };
    for (let i = 0; i < Math.min(b.rounds, 3); i++) {
      const one = await bundleDeploy(b, i, route);
      e2e.added.push(one.added);
      e2e.requests.push(one.requests);
      e2e.total.push(one.total);
    }
    const added = median(e2e.added);
    console.log(
      `the bundle, build + push + deploy (${route} route): rack's final state → process exit ${e2e.added.map(ms).join(', ')}; requests ${e2e.requests.join(', ')}; whole run median ${ms(median(e2e.total))}`,
    );
    rows.push({
      bench: `Deploy end to end (the bundle, manifest mode, ${route} route, rollout ~2 s): rack's final state → action exits`,
      ours: `${ms(added)} (max ${ms(Math.max(...e2e.added))})`,
      reference: `${median(e2e.requests)} rack requests per deploy; whole run ${ms(median(e2e.total))}`,
      ratio: '–',
      target: '< 2 s added',
      met: Math.max(...e2e.added) < 2000,
    });
  }
  return rows;
}

const MANIFEST = (image: string): string => `services:\n  web:\n    image: ${image}\n    port: 3000\n`;

async function bundleDeploy(
  b: Bench,
  round: number,
  route: 'import' | 'source',
): Promise<{ added: number; requests: number; total: number }> {
  const { s } = b;
  const image = `${s.registry}/bench/deploy`;
  const rack = await startRackServer({
    password: 'bench-rack-pass',
    registry: { host: s.registry, username: s.registryUser, password: s.registryPassword },
    apps: [{ name: 'shop', env: 'PORT=3000', manifest: MANIFEST('busybox') }],
    // Jitter, so the rack's finish does not fall at the same point of the poll schedule each run.
    timing: { buildMs: 300 + Math.random() * 1000, promoteMs: 2000 + Math.random() * 1500, statusLagMs: 200 },
  });
  const ws = tree({
    Dockerfile: 'FROM scratch\nCOPY app.txt /app.txt\n',
    'app.txt': `round ${round} ${Date.now()}\n`,
    'convox.yml': MANIFEST(`${image}:old`),
  });
  const app = rack.state.requireApp('shop');
  const before = app.release;
  let doneAt = 0;
  const watch = setInterval(() => {
    if (!doneAt && app.status === 'running' && app.release !== before) doneAt = Date.now();
  }, 1);
  try {
    const started = Date.now();
    const run = await act(
      {
        image,
        tags: `deploy-${round}`,
        ...pushInputs(s),
        update: 'manifest',
        app: 'shop',
        'rack-host': rack.url,
        'rack-password': 'bench-rack-pass',
        'rack-build': route,
        timeout: '2m',
      },
      { DOCKER_HOST: s.dockerHost },
      ws,
    );
    const exited = Date.now();
    if (app.release !== run.outputs['release-id'] || !doneAt)
      throw new Error(`the rack did not end on our release:\n${run.stdout.slice(-2000)}`);
    return { added: exited - doneAt, requests: rack.requests.length, total: exited - started };
  } finally {
    clearInterval(watch);
    await rack.close();
    rmSync(ws, { recursive: true, force: true });
  }
}
