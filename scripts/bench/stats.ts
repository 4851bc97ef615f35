/** Small helpers for medians, ratios and the final table. */
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

export const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export interface Row {
  bench: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}

export function table(rows: readonly Row[]): string {
  const lines = ['| Benchmark | Ours | Reference | Ratio | Target | Met |', '| --- | ---: | --- | ---: | --- | :---: |'];
  for (const r of rows) lines.push(`| ${r.bench} | ${r.ours} | ${r.reference} | ${r.ratio} | ${r.target} | ${r.met === undefined ? '–' : r.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}
