// Child process for the memory benchmark: packs a context to a byte-counting sink and reports
// its own peak RSS, so nothing else in the benchmark process inflates the figure.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { packContext } from '../../src/context/pack.js';

async function main(): Promise<void> {
  const [dir, mode] = process.argv.slice(2);
  let bytes = 0;
  if (mode !== 'idle') {
    const packed = await packContext({ contextDir: dir!, dockerfile: `${dir}/Dockerfile`, reader: 'buildkit' });
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        cb();
      },
    });
    await Promise.all([pipeline(packed.stream as NodeJS.ReadableStream, sink), packed.done]);
  }
  process.stdout.write(JSON.stringify({ bytes, maxRssKb: process.resourceUsage().maxRSS }));
}
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
