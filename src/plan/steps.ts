/**
 * The steps a run can take: one list, the single source of truth for step ids, which phase
 * carries each out, and how a step fared. The plan lists steps by these ids, the runner executes
 * them phase by phase, the recorder notes each outcome against them, and every report (outputs,
 * job summary, PR comment) reads that record: nothing maps ids anywhere else.
 *
 * To add a step (say `rack-import`, in the deploy phase):
 *   1. add its id to STEP_PHASE below, with the phase that executes it (tsc then names every
 *      place that must know it);
 *   2. list it in `planSteps` (src/plan/plan.ts), running or skipped with the reason;
 *   3. in the phase that executes it (src/phases/*), do the work when the plan says the step
 *      runs (`recorder.stepsOf(phase)` lists them), and tell the recorder as it finishes
 *      (`recorder.done(step)`); a phase that fails marks its first unfinished step failed, and
 *      one that succeeds marks its running steps done, so a single-step phase needs nothing more.
 *   4. add a row to the table tests: test/unit/phases/recorder.test.ts (the summary shows the
 *      record) and test/e2e/plan-drives-run.test.ts (what the world saw is what the plan ran).
 */
import type { PhaseName } from './types.js';

/** Which phase executes each step. Its keys are the step ids. */
export const STEP_PHASE = {
  build: 'build',
  'check-image': 'push',
  push: 'push',
  'write-manifest': 'manifest',
  'env-release': 'deploy',
  'rack-import': 'deploy',
  upload: 'deploy',
  'rack-build': 'deploy',
  promote: 'deploy',
  wait: 'deploy',
  /** Stands for the whole deploy when there is none to do (no `app`): always skipped. */
  deploy: 'deploy',
} as const satisfies Record<string, PhaseName>;

export type StepId = keyof typeof STEP_PHASE;

export const STEP_IDS = Object.keys(STEP_PHASE) as readonly StepId[];

/** How one step fared in a run. */
export type StepStatus = 'done' | 'failed' | 'skipped' | 'not-reached';

export interface StepOutcome {
  readonly id: StepId;
  readonly status: StepStatus;
  /** Why a step was skipped (the plan's reason, or the run's: "no Docker engine"). */
  readonly reason?: string;
}

export function phaseOf(id: StepId): PhaseName {
  return STEP_PHASE[id];
}
