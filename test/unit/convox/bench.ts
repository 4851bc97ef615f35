/**
 * How long deploy() takes to notice that the rack is done, and how many requests a deploy
 * costs. For `npm run bench` (the lead wires it in) and a smoke assertion in bench.test.ts.
 *
 * "Added latency" = the moment deploy() returns minus the moment the rack's app first reads
 * `running` on the new release (watched in-process on the test server's state every ms).
 * "Build notice" = the promote request's arrival minus the build's end on the rack.
 * Rollout and build lengths get random jitter so the figures are not locked to one phase of
 * the poll schedule.
 */
import { deploy } from '../../../src/convox/deploy.js';
import { startRackServer } from '../../rack-server/index.js';
import type { RackTiming } from '../../rack-server/index.js';
import { directTarget, MANIFEST_PINNED, request } from './harness.js';

export interface ConvoxBenchRow {
  promoteMs: number;
  /** False: the app log socket was refused, so only polling saw the end. */
  events: boolean;
  runs: number;
  addedLatencyMs: { median: number; max: number };
  buildNoticeMs: { median: number; max: number };
  requestsPerDeploy: { median: number; max: number };
  deployMs: { median: number };
}

export interface ConvoxBenchOptions {
  /** Rollout durations to try (how long the app stays `updating`; up to 1.5 s of jitter is added). */
  promoteMs?: number[];
  runs?: number;
  timing?: RackTiming;
  /** Also measure with the app log socket refused (no rack events to react to). Default true. */
  withoutEvents?: boolean;
}

/** Runs deploys against the in-process rack test server and reports the figures per rollout length. */
export async function benchConvoxDeploy(opts: ConvoxBenchOptions = {}): Promise<ConvoxBenchRow[]> {
  const rows: ConvoxBenchRow[] = [];
  for (const events of opts.withoutEvents === false ? [true] : [true, false]) {
    for (const promoteMs of opts.promoteMs ?? [200, 2000, 8000]) rows.push(await benchRow(promoteMs, events, opts));
  }
  return rows;
}

async function benchRow(promoteMs: number, events: boolean, opts: ConvoxBenchOptions): Promise<ConvoxBenchRow> {
  const samples = { added: [] as number[], notice: [] as number[], requests: [] as number[], total: [] as number[] };
  for (let i = 0; i < (opts.runs ?? 5); i++) {
    // Jitter, so the rack's finish does not fall at the same point of our poll schedule every run.
    const timing = {
      buildMs: 300 + Math.random() * 1000,
      statusLagMs: 200,
      ...opts.timing,
      promoteMs: promoteMs + Math.random() * 1500,
    };
    const one = await benchOnce(timing, events);
    samples.added.push(one.added);
    samples.notice.push(one.notice);
    samples.requests.push(one.requests);
    samples.total.push(one.total);
  }
  return {
    promoteMs,
    events,
    runs: samples.added.length,
    addedLatencyMs: stats(samples.added),
    buildNoticeMs: stats(samples.notice),
    requestsPerDeploy: stats(samples.requests),
    deployMs: { median: stats(samples.total).median },
  };
}

async function benchOnce(
  timing: RackTiming,
  events: boolean,
): Promise<{ added: number; notice: number; requests: number; total: number }> {
  const s = await startRackServer({ apps: [{ name: 'shop', manifest: MANIFEST_PINNED }], timing });
  if (!events) s.faults.fail({ method: 'GET', path: '/apps/shop/logs', status: 404, body: '', times: Infinity });
  const app = s.state.apps.get('shop');
  const before = app?.release;
  let doneAt = 0;
  const watch = setInterval(() => {
    if (!doneAt && app?.status === 'running' && app.release !== before) doneAt = Date.now();
  }, 1);
  try {
    const started = Date.now();
    const result = await deploy(await request(directTarget(s.url, s.password), { timeoutMs: 300_000 }));
    const returned = Date.now();
    const build = app?.builds.find((b) => b.id === result.buildId);
    const ended = build?.ended ? Number(build.ended / 1_000_000n) : started;
    const promote = s.requests.find((r) => r.path.endsWith('/promote'));
    return {
      added: returned - doneAt,
      notice: (promote?.at ?? ended) - ended,
      requests: result.requests,
      total: returned - started,
    };
  } finally {
    clearInterval(watch);
    await s.close();
  }
}

function stats(values: number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

/** The rows as a small text table for the bench output. */
export function formatBench(rows: ConvoxBenchRow[]): string {
  const head =
    'events  rollout  runs  added latency (median/max)  build notice (median/max)  requests (median/max)  deploy (median)';
  return [
    head,
    ...rows.map(
      (r) =>
        `${(r.events ? 'yes' : 'no').padEnd(8)}${`${r.promoteMs}ms`.padEnd(9)}${String(r.runs).padEnd(6)}${`${r.addedLatencyMs.median}/${r.addedLatencyMs.max} ms`.padEnd(28)}${`${r.buildNoticeMs.median}/${r.buildNoticeMs.max} ms`.padEnd(27)}${`${r.requestsPerDeploy.median}/${r.requestsPerDeploy.max}`.padEnd(23)}${r.deployMs.median} ms`,
    ),
  ].join('\n');
}
