/**
 * 5. A rebuild on an emptied daemon with and without `cache-from`: an image with a slow RUN
 * step is pushed once by the action (inline cache metadata is on by default); before every
 * timed rebuild all images but the base and all build cache are removed.
 */
import { rmSync } from 'node:fs';
import { act, emptyDaemon, pushInputs, tree, type Bench } from './run.js';
import { interleave, medians, ms, ratio, type Row } from './stats.js';
import { stepCached } from './steps.js';

const SLOW = 'RUN sleep 3 && echo x > /x';

export async function cache(b: Bench): Promise<Row[]> {
  const { s } = b;
  const ctx = tree({ Dockerfile: `FROM ${s.baseImage}\n${SLOW}\nCOPY a.txt /a.txt\n`, 'a.txt': 'x\n' });
  const image = `${s.registry}/bench/cached`;
  const env = { DOCKER_HOST: s.dockerHost };
  const cached = { with: [] as (boolean | undefined)[], without: [] as (boolean | undefined)[] };
  try {
    await act({ image, tags: 'seed', ...pushInputs(s) }, env, ctx);
    const rebuild = async (k: 'with' | 'without', round: number): Promise<void> => {
      const from: Record<string, string> = k === 'with' ? { 'cache-from': `${image}:seed` } : {};
      const r = await act({ image, tags: `${k}-${round}`, ...from, ...pushInputs(s) }, env, ctx);
      cached[k].push(stepCached(r.stdout, SLOW));
    };
    // Emptying is not timed: it happens in its own untimed contender right before each rebuild.
    const t = await interleave(
      Math.min(b.rounds, 3),
      {
        with: async (i) => rebuild('with', i),
        without: async (i) => rebuild('without', i),
      },
      () => emptyDaemon(b),
    );
    const m = medians(t);
    const hit = cached.with.every((c) => c === true);
    const miss = cached.without.every((c) => c === false);
    console.log(
      `rebuild + push on an emptied daemon, medians of ${t.with.length}: with cache-from ${ms(m.with)} (RUN cached: ${cached.with.join(', ')}), without ${ms(m.without)} (RUN cached: ${cached.without.join(', ')})`,
    );
    return [
      {
        bench: 'Rebuild + push on an emptied daemon, slow `RUN` step',
        ours: `${ms(m.with)} with \`cache-from\` (RUN ${hit ? 'CACHED' : 'not cached'})`,
        reference: `${ms(m.without)} without (RUN ${miss ? 'ran' : 'cached?'})`,
        ratio: ratio(m.with, m.without),
        target: 'cache-from skips the RUN',
        met: hit && miss,
      },
    ];
  } finally {
    emptyDaemon(b);
    rmSync(ctx, { recursive: true, force: true });
  }
}
