/**
 * The action's images against the docker CLI's on the same engine (test/support/differential.ts):
 * every case of differential-cases.ts built by buildx, by Debian's 20.10 CLI (BuildKit and classic)
 * and by the bundle three ways (session, tar upload, classic builder), the images' trees and
 * configs compared entry by entry.
 */
import { afterAll, describe, it } from 'vitest';
import { cleanUp, expectSameAsCli } from '../../support/differential.js';
import { CASES } from './differential-cases.js';

const started = Date.now();

afterAll(async () => {
  await cleanUp();
  console.log(`differential suite: ${CASES.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

// Every case runs on every engine: the one known difference is the 20.10 client's (the engine
// under it does not matter), measured on Debian's 20.10 engine and on Engine 29 alike.
describe('images built by the action against the docker CLI on the same engine', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectSameAsCli(c);
  });
});
