/** Plans and run reports shaped like the ones `makePlan` and `run()` produce. */
import type { StepId, StepOutcome, StepStatus } from '../../../src/plan/steps.js';
import type { Plan, PlanStep, RunReport } from '../../../src/plan/types.js';

export const REPO = '127.0.0.1:5000/acme/shop';
export const TAG = '20261122220501';
export const OLD = `${REPO}:20261101090000`;
export const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
export const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';

export const DIFF = [
  '--- a/convox.yml',
  '+++ b/convox.yml',
  '@@ -2,3 +2,3 @@',
  ' services:',
  '   web:',
  `-    image: ${OLD}`,
  `+    image: ${REPO}:${TAG}`,
  '',
].join('\n');

function steps(dry: boolean): PlanStep[] {
  const skip = (id: StepId, title: string): PlanStep =>
    dry ? { id, title, runs: false, skipped: 'dry run' } : { id, title, runs: true };
  return [
    { id: 'build', title: 'Build Dockerfile (context .)', runs: true },
    skip('push', `Push ${REPO}:${TAG}`),
    skip('push', `Push ${REPO}:sha-9fceb02`),
    skip('write-manifest', 'Rewrite image: in convox.yml'),
    skip('upload', 'Upload the source of app shop to the rack'),
    skip('rack-build', `Build on the rack (pulls ${REPO}:${TAG})`),
    skip('promote', 'Promote the new release of app shop'),
    skip('wait', 'Wait until app shop runs the new release'),
  ];
}

/** A manifest-mode plan for app `shop` on `acme/production` through console.convox.com. */
export function manifestPlan(dry: boolean): Plan {
  return {
    dryRun: dry,
    dryRunReason: dry ? 'pull_request event (dry-run: auto)' : 'push event (dry-run: auto)',
    image: {
      repository: REPO,
      references: [`${REPO}:${TAG}`, `${REPO}:sha-9fceb02`],
      tags: [TAG, 'sha-9fceb02'],
      primaryTag: TAG,
    },
    manifest: {
      file: 'convox.yml',
      mode: 'manifest',
      services: [{ service: 'web', line: 4, before: OLD, after: `${REPO}:${TAG}` }],
      diff: DIFF,
    },
    deploy: {
      app: 'shop',
      rack: 'acme/production',
      host: 'console.convox.com',
      route: { route: 'source', why: 'rack-build: source' },
      promote: true,
      wait: true,
      timeoutMs: 600_000,
      current: { status: 'running', release: 'RPREVIOUS01' },
    },
    steps: steps(dry),
    notes: [],
  };
}

/** An env-mode plan whose current IMAGE_VERSION could not be read. */
export function envPlan(): Plan {
  const base = manifestPlan(true);
  return {
    ...base,
    manifest: { file: 'convox.yml', mode: 'env', services: [], diff: '' },
    env: { name: 'IMAGE_VERSION', after: TAG, unknownBecause: 'the credential cannot read releases (a Console deploy key)' },
    steps: [
      { id: 'build', title: 'Build Dockerfile (context .)', runs: true },
      { id: 'push', title: `Push ${REPO}:${TAG}`, runs: false, skipped: 'dry run' },
      {
        id: 'env-release',
        title: `Set IMAGE_VERSION=${TAG} on app shop (new release, other variables kept)`,
        runs: false,
        skipped: 'dry run',
      },
    ],
    notes: ["IMAGE_VERSION cannot be set with a deploy key: it cannot read the app's other variables."],
  };
}

/**
 * A run's step record as the recorder keeps it: steps the plan skips are skipped with its reason,
 * the others fare as `status` says (done unless told otherwise).
 */
export function recordOf(plan: Plan, status: (step: PlanStep) => StepStatus = () => 'done'): StepOutcome[] {
  return plan.steps.map((s) =>
    s.runs ? { id: s.id, status: status(s) } : { id: s.id, status: 'skipped', reason: s.skipped ?? 'not needed' },
  );
}

/** A successful real run. */
export function successReport(): RunReport {
  const plan = manifestPlan(false);
  return {
    plan,
    steps: recordOf(plan),
    phases: [
      { name: 'inputs', status: 'ok', durationMs: 4 },
      { name: 'plan', status: 'ok', durationMs: 320 },
      { name: 'build', status: 'ok', durationMs: 41_200 },
      { name: 'push', status: 'ok', durationMs: 8_450 },
      { name: 'manifest', status: 'ok', durationMs: 12 },
      { name: 'deploy', status: 'ok', durationMs: 185_000 },
    ],
    outcome: 'success',
    digest: DIGEST,
    imageId: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
    buildId: 'BNEWBUILD01',
    releaseId: 'RNEWRELEASE',
    previousReleaseId: 'RPREVIOUS01',
    sha: SHA,
    runUrl: 'https://github.com/acme/shop/actions/runs/42',
  };
}
