import { describe, expect, it } from 'vitest';
import { readInputs } from '../../../src/config/inputs.js';
import { MemoryLog } from '../../../src/log.js';
import { PhaseRecorder } from '../../../src/phases/recorder.js';
import { makePlan } from '../../../src/plan/plan.js';
import type { StepOutcome } from '../../../src/plan/steps.js';
import type { Plan } from '../../../src/plan/types.js';
import { renderSummary } from '../../../src/report/summary.js';
import { Secrets } from '../../../src/secrets.js';
import { pushContext } from '../support/github.js';

const github = pushContext();

function plan(inputs: Record<string, string>): Plan {
  const env = {
    INPUT_IMAGE: 'acme/shop',
    INPUT_CONTEXT: 'examples/app',
    INPUT_MANIFEST: 'examples/app/convox.yml',
    INPUT_TAGS: 'v1,{{short_sha}}',
    ...inputs,
  };
  return makePlan({ config: readInputs(env, github, new Date('2026-11-22T20:55:00Z'), new Secrets()) });
}

const fail = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = (): Promise<void> => Promise.resolve();

/** The summary's marker for each step, in order. */
const icons = (md: string): string[] => [...md.matchAll(/^\d+\. (\S+) /gm)].map((m) => m[1]!);
const ICON: Record<StepOutcome['status'], string> = { done: '✅', failed: '❌', skipped: '⏭️', 'not-reached': '⏸️' };

describe('PhaseRecorder: one record of how each plan step fared', () => {
  it('build: false and a missing tag: the check failed, not "not reached" (the seen bug)', async () => {
    const p = plan({ INPUT_BUILD: 'false', INPUT_UPDATE: 'none' });
    const rec = new PhaseRecorder(new MemoryLog());
    rec.planned(p);
    rec.skip('build');
    await expect(rec.run('push', 'Check', fail)).rejects.toThrow('boom');
    expect(rec.steps.map((s) => [s.id, s.status])).toEqual([
      ['build', 'skipped'],
      ['check-image', 'failed'],
      ['deploy', 'skipped'],
    ]);
  });

  it('a failed phase keeps the steps it finished, fails the next, leaves the rest not reached', async () => {
    const p = plan({ INPUT_APP: 'shop', 'INPUT_RACK-PASSWORD': 'x' });
    const rec = new PhaseRecorder(new MemoryLog());
    rec.planned(p);
    await rec.run('build', 'Build', ok);
    await rec.run('push', 'Push', ok);
    await rec.run('manifest', 'Manifest', ok);
    await expect(
      rec.run('deploy', 'Deploy', () => {
        for (const s of rec.stepsOf('deploy').slice(0, 2)) rec.done(s);
        return fail();
      }),
    ).rejects.toThrow();
    expect(rec.steps.map((s) => `${s.id} ${s.status}`)).toEqual([
      'build done',
      'push done',
      'push done',
      'write-manifest done',
      'upload done',
      'rack-build done',
      'promote failed',
      'wait not-reached',
    ]);
  });

  it.each<[string, Record<string, string>]>([
    ['build and push only', { INPUT_UPDATE: 'none' }],
    ['manifest deploy', { INPUT_APP: 'shop', 'INPUT_RACK-PASSWORD': 'x' }],
    ['env deploy', { INPUT_APP: 'shop', INPUT_UPDATE: 'env', 'INPUT_RACK-PASSWORD': 'x' }],
    ['existing tag', { INPUT_BUILD: 'false', INPUT_UPDATE: 'none' }],
    ['no wait, no push', { INPUT_APP: 'shop', INPUT_WAIT: 'false', INPUT_PUSH: 'false', 'INPUT_RACK-PASSWORD': 'x' }],
  ])('%s: the summary shows each step as the record says, whichever phase fails', async (_name, inputs) => {
    const p = plan(inputs);
    for (const failing of [undefined, 'build', 'push', 'manifest', 'deploy'] as const) {
      const rec = new PhaseRecorder(new MemoryLog());
      rec.planned(p);
      let failed = false;
      for (const phase of ['build', 'push', 'manifest', 'deploy'] as const) {
        if (failed) break;
        if (rec.stepsOf(phase).length === 0) rec.skip(phase);
        else if (phase === failing)
          failed = await rec.run(phase, phase, fail).then(
            () => false,
            () => true,
          );
        else await rec.run(phase, phase, ok);
      }
      const md = renderSummary({
        plan: p,
        phases: rec.records,
        steps: rec.steps,
        outcome: failed ? 'failure' : 'success',
        sha: github.sha,
      });
      expect(icons(md), `${failing ?? 'none'} failing`).toEqual(rec.steps.map((s) => ICON[s.status]));
      // Steps the plan skips stay skipped; the rest are done unless a phase failed.
      p.steps.forEach((s, i) => {
        if (!s.runs) expect(rec.steps[i]).toEqual({ id: s.id, status: 'skipped', reason: s.skipped });
        else if (!failed) expect(rec.steps[i]?.status).toBe('done');
      });
    }
  });
});
