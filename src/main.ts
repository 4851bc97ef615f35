import { describeError } from './errors.js';
import { PhaseRecorder } from './phases/recorder.js';
import { reportRun } from './phases/report.js';
import { cancelled, execute, runUrl, type Progress, type RunnerDeps } from './phases/runner.js';
import type { RunReport } from './plan/types.js';
import { realWorld } from './world.js';

/** The world, handed in by index.ts (real) or by tests (recording fakes). */
export interface Deps extends RunnerDeps {
  readonly now: () => Date;
  /** Marks the step failed, with an annotation at the file/line or input when known. */
  readonly fail: (error: unknown) => void;
  /** Told when a phase starts, so a cancellation can say where it stopped. */
  readonly onPhase?: (phase: string) => void;
}

/**
 * Reads config, plans, executes the plan's steps phase by phase, and reports. Returns the exit
 * code. Without `deps`, the real world (world.ts): what GitHub's local runner calls.
 */
export async function run(deps: Deps = realWorld().deps): Promise<number> {
  const phases = new PhaseRecorder(deps.log, Date.now, deps.onPhase);
  const progress: Progress = {};
  let failure: unknown;
  try {
    await execute(deps, phases, progress, deps.now());
  } catch (e) {
    failure = deps.signal?.aborted ? cancelled(deps.signal.reason, e, phases, progress) : e;
  }
  await report(deps, phases, progress, failure);
  if (failure === undefined) return 0;
  deps.fail(failure);
  return 1;
}

/** The job summary, PR comment and GitHub deployment, all read from the recorder's record. */
async function report(deps: Deps, phases: PhaseRecorder, progress: Progress, failure: unknown): Promise<void> {
  const { config, plan } = progress;
  if (!config || !plan) {
    // Nothing was planned (bad inputs): the error itself is the report.
    if (failure !== undefined)
      await deps
        .writeSummary(
          `### ❌ convox-image-deploy: nothing was done\n\n\`\`\`\n${deps.secrets.redact(describeError(failure))}\n\`\`\`\n`,
        )
        .catch(() => {});
    return;
  }
  const d = progress.deploy;
  const url = runUrl(config);
  const run: RunReport = {
    plan,
    phases: phases.records,
    steps: phases.steps,
    outcome: failure === undefined ? 'success' : 'failure',
    sha: config.github.sha,
    digest: progress.digest,
    imageId: progress.imageId,
    buildId: d?.buildId,
    releaseId: d?.releaseId,
    previousReleaseId: d?.previousReleaseId,
    error: failure === undefined ? undefined : deps.secrets.redact(describeError(failure)),
    rackLogTail: d?.logTail,
    runUrl: url,
  };
  try {
    await reportRun(config, run, deps, progress.deployment);
  } catch (e) {
    // Reporting must never turn a good deploy into a failed step, nor hide the real failure.
    deps.log.warning(`Could not write the report: ${deps.secrets.redact(describeError(e))}`);
  }
}

export { ActionError } from './errors.js';
