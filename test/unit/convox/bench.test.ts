import { expect, it } from 'vitest';
import { benchConvoxDeploy, formatBench } from './bench.js';

it('notices the end of a rollout within 2 s, with or without rack events, in a bounded number of requests', async () => {
  const rows = await benchConvoxDeploy({ promoteMs: [1000], runs: 2 });
  console.log(formatBench(rows));
  for (const row of rows) {
    expect(row.addedLatencyMs.max).toBeLessThan(2000);
    expect(row.requestsPerDeploy.max).toBeLessThan(40);
  }
});
