/** Medians, ratios, interleaved rounds and the final Markdown table. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * Times every contender once per round, in an order that rotates each round, so drift on a
 * shared machine (page cache, the daemon's garbage collection, other jobs) hits all of them
 * alike instead of always penalising whoever runs first or last. Round 0 is an untimed warm-up
 * (a fresh tree's first read, the daemon's first build and push are outliers of up to 2×);
 * the timed rounds are 1..rounds.
 */
export async function interleave<K extends string>(
  rounds: number,
  contenders: Record<K, (round: number) => Promise<unknown> | unknown>,
  /** Untimed preparation before every run (for example emptying the daemon). */
  before?: (key: K, round: number) => Promise<unknown> | unknown,
): Promise<Record<K, number[]>> {
  const keys = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round <= rounds; round++) {
    const order = [...keys.slice(round % keys.length), ...keys.slice(0, round % keys.length)];
    for (const k of order) {
      await before?.(k, round);
      const took = await timed(() => contenders[k](round));
      if (round > 0) samples[k].push(took);
    }
  }
  return samples;
}

/**
 * The median of the per-round ratios a[i] / b[i]. Contenders of one round run back to back, so
 * a slow spell of this shared machine (its disk is throttled in bursts: a whole round can run 3×
 * slower) hits both sides of a pair; the ratio of the two medians mixes rounds and does not.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** Medians of every contender's samples. */
export function medians<K extends string>(samples: Record<K, number[]>): Record<K, number> {
  return Object.fromEntries(Object.entries<number[]>(samples).map(([k, v]) => [k, median(v)])) as Record<K, number>;
}

export const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
export const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

export interface Row {
  bench: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  /** undefined: informational, no target. */
  met: boolean | undefined;
}

export function table(rows: readonly Row[]): string {
  const lines = ['| Benchmark | Ours | Reference(s) | Ratio | Target | Met? |', '| --- | ---: | --- | ---: | --- | :---: |'];
  for (const r of rows)
    lines.push(
      `| ${r.bench} | ${r.ours} | ${r.reference} | ${r.ratio} | ${r.target} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} |`,
    );
  return lines.join('\n');
}

/** Every contender's samples as `a, b, c` in run order, so the spread behind a median shows. */
export function samplesLine<K extends string>(samples: Record<K, number[]>): string {
  return Object.entries<number[]>(samples)
    .map(([k, v]) => `${k}: ${v.map(ms).join(', ')}`)
    .join('; ');
}
