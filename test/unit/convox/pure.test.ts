import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeForm, parseSessionChallenge } from '../../../src/convox/wire.js';
import { buildDescription } from '../../../src/convox/deploy.js';
import { formatEnv, parseEnv, withVariable } from '../../../src/convox/env-text.js';
import { LogPrinter } from '../../../src/convox/log-printer.js';
import { rackError, rackErrorText } from '../../../src/convox/rack-error.js';
import type { RackTarget } from '../../../src/convox/target.js';
import { BUILD_POLL, pollDelayMs, retryDelayMs, ROLLOUT_POLL } from '../../../src/convox/timing.js';
import { judge, startRollout } from '../../../src/convox/verdict.js';
import type { Verdict } from '../../../src/convox/verdict.js';
import { rackGeneration, v3AtLeast } from '../../../src/convox/version.js';
import { ErrorLines, LineBuffer } from '../../../src/convox/websocket.js';
import { MemoryLog } from '../../../src/log.js';
import { Secrets } from '../../../src/secrets.js';

describe('env text', () => {
  it('sets one variable and keeps every other exactly (spaces, = in values, order normalised)', () => {
    const text = 'B= spaced \nA=x=y\nnoequals\n=empty\r\nC=\nIMAGE_VERSION=old';
    const out = withVariable(text, 'IMAGE_VERSION', '20260101');
    expect(out).toEqual({ text: 'A=x=y\nB= spaced \nC=\nIMAGE_VERSION=20260101', changed: true, previous: 'old' });
  });

  it('reports no change when the value is already there', () => {
    expect(withVariable('A=1\nV=t', 'V', 't').changed).toBe(false);
  });

  it('round-trips any env the rack could hold', () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
    const value = fc.string().filter((v) => !/[\r\n]/.test(v));
    fc.assert(
      fc.property(fc.dictionary(key, value), (obj) => {
        const env = new Map(Object.entries(obj));
        expect(Object.fromEntries(parseEnv(formatEnv(env)))).toEqual(obj);
      }),
    );
  });
});

describe('rack versions', () => {
  it.each([
    ['3.24.9', 'v3'],
    ['3.0.0', 'v3'],
    ['20260418101514', 'v2'],
    ['20180708231845', 'v2'],
  ])('%s is %s', (v, g) => expect(rackGeneration(v, 'r')).toBe(g));

  it.each(['20180708231844', '20170101000000', '2.1', '', 'latest'])('rejects %j as unsupported', (v) => {
    expect(() => rackGeneration(v, 'r')).toThrow(/unsupported rack version/);
  });

  it('compares v3 versions numerically', () => {
    expect(v3AtLeast('3.22.0', '3.22.0')).toBe(true);
    expect(v3AtLeast('3.9.9', '3.22.0')).toBe(false);
    expect(v3AtLeast('3.24.9-4', '3.22.0')).toBe(true);
  });
});

describe('rack error answers', () => {
  const target: RackTarget = {
    baseUrl: 'https://r.example.com',
    password: 'pw',
    username: 'convox',
    insecureTls: false,
    source: 'rack-host, rack-password',
    passwordSource: 'rack-password',
  };
  const label = { method: 'GET', path: '/apps/shop', what: 'read app shop', app: 'shop' };
  const id = (t: string): string => t;

  it('parses JSON, text and empty bodies', () => {
    expect(rackErrorText('{"error":"app not found: shop"}\n', 404)).toBe('app not found: shop');
    expect(rackErrorText('invalid authentication\n', 401)).toBe('invalid authentication');
    expect(rackErrorText('', 404)).toBe('response status 404');
  });

  it('maps 401 to the credential and where it came from', () => {
    const e = rackError(401, 'invalid authentication\n', label, target, id);
    expect(e.message).toContain('rack-password');
    expect(e.fix).toMatch(/rack password/);
  });

  it('maps an app 404 to "app not found: X on rack Y"', () => {
    expect(rackError(404, 'app not found: shop', label, target, id).message).toBe('app not found: shop on r.example.com');
  });

  it('maps an empty 404 to an unsupported route', () => {
    expect(rackError(404, '', label, target, id).message).toMatch(/does not support read app shop/);
  });

  it('redacts the rack words', () => {
    expect(rackError(500, 'boom pw-secret', label, target, (t) => t.replace('pw-secret', '***')).message).not.toContain(
      'pw-secret',
    );
  });
});

describe('request encoding', () => {
  it('encodes forms like the Convox SDK', () => {
    expect(encodeForm({ force: false, 'build-args': ['A=1', 'B=2'], description: 'a b&c', skip: undefined })).toBe(
      'force=false&build-args=A%3D1%2CB%3D2&description=a+b%26c',
    );
  });

  it('reads Session challenges', () => {
    expect(parseSessionChallenge('Session path="/session" token="false"')).toEqual({ path: '/session', token: false });
    expect(parseSessionChallenge('Session path="/auth/u2f" token="true"')).toEqual({ path: '/auth/u2f', token: true });
    expect(parseSessionChallenge('Basic realm="convox"')).toBeUndefined();
    expect(parseSessionChallenge(undefined)).toBeUndefined();
  });
});

describe('log streams', () => {
  it('re-splits arbitrary chunks into lines, multi-byte characters intact', () => {
    const text = Buffer.from('step 1 ✓\r\nstep 2 — done\nlast');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 6 }), (cuts) => {
        const buf = new LineBuffer();
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const lines: string[] = [];
        let from = 0;
        for (const p of [...points, text.length]) {
          lines.push(...buf.push(text.subarray(from, p)));
          from = p;
        }
        lines.push(...buf.flush());
        expect(lines).toEqual(['step 1 ✓', 'step 2 — done', 'last']);
      }),
    );
  });

  /** Feeds `text` to an ErrorLines cut at `cuts`; returns the failure it ends with. */
  function errorAtEnd(text: Buffer, cuts: number[]): ReturnType<ErrorLines['end']> {
    const found = new ErrorLines();
    let from = 0;
    for (const p of [...[...new Set(cuts)].sort((a, b) => a - b), text.length]) {
      found.push(text.subarray(from, p));
      from = p;
    }
    return found.end();
  }

  it('finds the ERROR line a stream ends with wherever frames cut it, and its exact size', () => {
    const text = Buffer.from('Step 1/2 : FROM x ✓\nERROR: pull — denied\n');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 8 }), (cuts) => {
        expect(errorAtEnd(text, cuts)).toEqual({ text: 'pull — denied', bytes: Buffer.byteLength('ERROR: pull — denied\n') });
      }),
    );
  });

  it.each([
    ['one frame starting mid-line', ['building\nERROR: boom\n'], { text: 'boom', bytes: 12 }],
    ['the prefix cut in three', ['ok\nERR', 'OR', ': boom'], { text: 'boom', bytes: 11 }],
    ['CRLF endings', ['ok\r\nERROR: boom\r\n'], { text: 'boom', bytes: 13 }],
    ['output after it (ordinary log text)', ['ERROR: pip said so\n', 'Successfully built\n'], undefined],
    ['ERROR not at a line start', ['build ERROR: x\n'], undefined],
    ['a near miss', ['ERROR:x\n'], undefined],
    ['only a prefix of the prefix', ['ERRO'], undefined],
  ])('ERROR lines: %s', (_name, frames, expected) => {
    const found = new ErrorLines();
    for (const f of frames) found.push(Buffer.from(f));
    expect(found.end()).toEqual(expected);
  });

  it('a re-read after uncounting the stream-only ERROR line prints what the stored log has there', () => {
    const log = new MemoryLog();
    const printer = new LogPrinter(log, new Secrets());
    printer.write(Buffer.from('one\nERROR: stream gone\n'));
    printer.uncount(Buffer.byteLength('ERROR: stream gone\n'));
    printer.resume()(Buffer.from('one\ntwo\nthree\n'));
    expect(log.lines).toEqual(['one', 'ERROR: stream gone', 'two', 'three']);
  });

  it('prints only what a re-read adds beyond the bytes already printed, redacted', () => {
    const log = new MemoryLog();
    const secrets = new Secrets();
    secrets.add('hunter22');
    const printer = new LogPrinter(log, secrets);
    printer.write(Buffer.from('one\ntw'));
    const rest = printer.resume();
    rest(Buffer.from('one\n'));
    rest(Buffer.from('two\nthree hunter22\n'));
    printer.end();
    expect(log.lines).toEqual(['one', 'two', 'three ***']);
    expect(printer.tail()).toEqual(['one', 'two', 'three ***']);
  });
});

describe('timing', () => {
  it('polls fast first, then backs off to a ceiling', () => {
    const delays = Array.from({ length: 12 }, (_, n) => pollDelayMs(ROLLOUT_POLL, n, 0));
    expect(delays[0]).toBe(250);
    expect(Math.max(...delays)).toBe(1500);
    expect(pollDelayMs(BUILD_POLL, 30, 11 * 60_000)).toBe(5000);
  });

  it('retry delays grow, are capped and jittered', () => {
    expect(retryDelayMs(1, () => 0)).toBe(125);
    expect(retryDelayMs(1, () => 1)).toBe(250);
    expect(retryDelayMs(10, () => 1)).toBe(4000);
  });
});

describe('rollout verdicts', () => {
  const limits = { graceMs: 1000, rollbackSettleMs: 500, unknownMs: 2000 };
  function run(observations: Array<[number, string, string]>): Verdict[] {
    const state = startRollout('RNEW', 'ROLD', 0);
    return observations.map(([t, status, release]) => judge(state, { status, release }, t, limits));
  }

  it('succeeds after two running reads on our release', () => {
    expect(
      run([
        [10, 'running', 'ROLD'],
        [20, 'updating', 'RNEW'],
        [30, 'running', 'RNEW'],
        [40, 'running', 'RNEW'],
      ]).map((v) => v.kind),
    ).toEqual(['wait', 'wait', 'confirm', 'deployed']);
  });

  it('a slow rollback is a failure naming the previous release', () => {
    const v = run([
      [10, 'updating', 'RNEW'],
      [20, 'rollback', 'RNEW'],
      [900, 'running', 'ROLD'],
    ]);
    expect(v[2]).toEqual({ kind: 'rolled-back', active: 'ROLD', settled: true, observed: true });
  });

  it('a rollback that never settles is reported after a while', () => {
    expect(
      run([
        [10, 'rollback', 'RNEW'],
        [600, 'rollback', 'RNEW'],
      ])[1],
    ).toMatchObject({ kind: 'rolled-back', settled: false });
  });

  it('a fast rollback (never seen as rollback) is caught after the grace period', () => {
    expect(
      run([
        [10, 'running', 'ROLD'],
        [500, 'running', 'ROLD'],
        [1100, 'running', 'ROLD'],
      ]).map((v) => v.kind),
    ).toEqual(['wait', 'wait', 'rolled-back']);
  });

  it('a fast rollback after a seen update is caught at once', () => {
    expect(
      run([
        [10, 'updating', 'RNEW'],
        [20, 'running', 'ROLD'],
      ])[1],
    ).toMatchObject({ kind: 'rolled-back', active: 'ROLD' });
  });

  it('another release becoming active is "replaced"', () => {
    expect(
      run([
        [10, 'updating', 'RNEW'],
        [20, 'running', 'ROTHER'],
      ])[1],
    ).toEqual({ kind: 'replaced', active: 'ROTHER' });
  });

  it('v2 failed and deleting stop at once; unknown only after a while', () => {
    expect(run([[10, 'failed', 'ROLD']])[0]).toEqual({ kind: 'stopped', status: 'failed', active: 'ROLD' });
    expect(run([[10, 'deleting', 'RNEW']])[0]).toEqual({ kind: 'stopped', status: 'deleting', active: 'RNEW' });
    expect(
      run([
        [10, 'unknown', ''],
        [1000, 'unknown', ''],
        [2100, 'unknown', ''],
      ]).map((v) => v.kind),
    ).toEqual(['wait', 'wait', 'stopped']);
  });

  it('an updating read between two running reads resets the confirmation', () => {
    expect(
      run([
        [10, 'running', 'RNEW'],
        [20, 'updating', 'RNEW'],
        [30, 'running', 'RNEW'],
      ]).map((v) => v.kind),
    ).toEqual(['confirm', 'wait', 'confirm']);
  });
});

describe('build description', () => {
  it.each([
    ['deploy from CI', 'abcdef1234567890', 'deploy from CI (abcdef1234)'],
    ['', 'abcdef1234567890', 'build abcdef1234'],
    ['release abcdef1', 'abcdef1234567890', 'release abcdef1'],
    ['just text', '', 'just text'],
    ['', '', 'convox-image-deploy'],
  ])('%j + %j → %j', (d, sha, out) => expect(buildDescription(d, sha)).toBe(out));
});
