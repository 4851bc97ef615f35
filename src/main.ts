import type Docker from 'dockerode';
import type { Config } from './config/config.js';
import { readGitHubContext } from './config/github.js';
import { readInputs } from './config/inputs.js';
import { ActionError, describeError } from './errors.js';
import type { Log } from './log.js';
import type { Secrets } from './secrets.js';
import type { ManifestPlan } from './manifest/index.js';
import { EngineUnreachable } from './engine/engine.js';
import { ContextPrefetch } from './context/prefetch.js';
import { buildPhase, credentialsForImage, existingImagePhase, pushPhase, type ImageContext } from './phases/image.js';
import { planManifest, writeManifest } from './phases/manifest.js';
import { deployPhase, lookAtRack, type DeployOutcome } from './phases/deploy.js';
import { PhaseRecorder } from './phases/recorder.js';
import { reportRun, startGitHubDeployment } from './phases/report.js';
import type { DeploymentHandle } from './report/deployment.js';
import { imageReferences, makePlan } from './plan/plan.js';
import type { Plan, RunReport } from './plan/types.js';
import { renderPlanText } from './plan/text.js';

/** The world, handed in by index.ts (real) or by tests (recording fakes). */
export interface Deps {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  readonly log: Log;
  readonly secrets: Secrets;
  readonly docker: () => Docker;
  readonly setOutput: (name: string, value: string) => void;
  readonly writeSummary: (markdown: string) => Promise<void>;
  /** Marks the step failed, with an annotation at the file/line or input when known. */
  readonly fail: (error: unknown) => void;
  readonly signal?: AbortSignal;
  /** Told when a phase starts, so a cancellation can say where it stopped. */
  readonly onPhase?: (phase: string) => void;
}

/** Mutable facts gathered while running, so outputs and reports exist even after a failure. */
interface Progress {
  config?: Config;
  plan?: Plan;
  manifest?: ManifestPlan;
  imageId?: string;
  digest?: string;
  deploy?: Partial<DeployOutcome>;
  deployment?: DeploymentHandle;
  /** Titles of the plan's push steps whose tag reached the registry (a partial push reports them). */
  pushed: string[];
}

/** Reads config, plans, executes each phase in a log group, and reports. Returns the exit code. */
export async function run(deps: Deps): Promise<number> {
  const phases = new PhaseRecorder(deps.log, Date.now, deps.onPhase);
  const progress: Progress = { pushed: [] };
  const started = deps.now();
  let failure: unknown;
  try {
    await execute(deps, phases, progress, started);
  } catch (e) {
    failure = deps.signal?.aborted ? cancelled(deps.signal.reason, e, phases, progress) : e;
  }
  await report(deps, phases, progress, failure);
  if (failure === undefined) return 0;
  deps.fail(failure);
  return 1;
}

async function execute(deps: Deps, phases: PhaseRecorder, progress: Progress, now: Date): Promise<void> {
  const config = readInputs(deps.env, readGitHubContext(deps.env, deps.cwd), now, deps.secrets);
  progress.config = config;
  // The build context is read ahead (read only) while the plan reads the manifest and the rack
  // and while the engine answers; BuildKit's request for it is then answered from memory.
  const contextPrefetch = config.build.enabled ? new ContextPrefetch(config.build.context, config.build.dockerfile) : undefined;
  try {
    await executePhases(deps, phases, progress, now, config, contextPrefetch);
  } finally {
    contextPrefetch?.stop();
  }
}

async function executePhases(
  deps: Deps,
  phases: PhaseRecorder,
  progress: Progress,
  now: Date,
  config: Config,
  contextPrefetch: ContextPrefetch | undefined,
): Promise<void> {
  const references = imageReferences(config);
  setImageOutputs(deps, config, references);
  const planned = await planPhase(deps, phases, config);
  progress.plan = planned.plan;
  progress.manifest = planned.manifest;
  deps.setOutput('manifest-diff', changeText(planned.plan, planned.manifest));

  const ctx: ImageContext = {
    config,
    references,
    docker: deps.docker,
    env: deps.env,
    log: deps.log,
    secrets: deps.secrets,
    now,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(contextPrefetch ? { contextPrefetch } : {}),
  };
  await imagePhases(deps, phases, progress, ctx);
  if (config.dryRun) {
    deps.log.info(`Dry run (${config.dryRunReason}): nothing was pushed, written or deployed.`);
    return;
  }
  const final = await phases.run('manifest', 'Update manifest', async () => {
    const m = config.update.pinDigest && progress.digest ? planManifest(config, progress.digest) : planned.manifest;
    if (m && (await writeManifest(config, m))) deps.log.info(`Wrote ${m.file}:\n${m.diff}`);
    return m;
  });
  if (final) {
    progress.manifest = final;
    deps.setOutput('manifest-diff', changeText(planned.plan, final));
  }
  if (!config.deploy) return phases.skip('deploy');
  // The release the plan saw active is the one to roll back to, even if the rack build fails
  // before the promote reads it again (which then replaces it).
  const before = planned.plan.deploy?.current?.release;
  progress.deploy = before ? { previousReleaseId: before } : {};
  setDeployOutputs(deps, progress.deploy);
  progress.deployment = await startGitHubDeployment(config, deps, runUrl(config));
  await phases.run('deploy', `Deploy to ${config.deploy.app}`, () =>
    deployPhase(config, final, deps, (p) => {
      Object.assign(progress.deploy!, p);
      setDeployOutputs(deps, progress.deploy!);
    }),
  );
}

/** Validates the manifest edit and looks at the rack (reads only), then prints the plan. */
function planPhase(
  deps: Deps,
  phases: PhaseRecorder,
  config: Config,
): Promise<{ plan: Plan; manifest: ManifestPlan | undefined }> {
  return phases.run('plan', 'Plan', async () => {
    const manifest = planManifest(config);
    const look = await lookAtRack(config, deps);
    const plan = makePlan({ config, ...(manifest ? { manifest } : {}), ...look });
    deps.log.info(renderPlanText(plan));
    return { manifest, plan };
  });
}

/** Build (dry runs too), then push every tag — or, with `build: false`, check the tag exists. */
async function imagePhases(deps: Deps, phases: PhaseRecorder, progress: Progress, ctx: ImageContext): Promise<void> {
  const { config } = ctx;
  const creds = await credentialsForImage(ctx);
  if (!config.build.enabled) {
    phases.skip('build');
    // Nothing was built, so nothing is pushed: the tag must already be in the registry.
    progress.digest = await phases.run('push', 'Check the existing image', () => existingImagePhase(ctx, creds));
    deps.setOutput('digest', progress.digest);
    return;
  }
  const built = await phases
    .run('build', 'Build', () => buildPhase(ctx, creds))
    .catch((e: unknown) => {
      // A newcomer's local dry run has no engine: say so plainly and still show the plan.
      if (!(config.dryRun && e instanceof EngineUnreachable)) throw e;
      deps.log.warning(`Skipped the build: ${e.message}. Everything else in the plan above holds.`);
      return undefined;
    });
  if (built) {
    progress.imageId = built.imageId;
    deps.setOutput('image-id', built.imageId);
  }
  if (config.dryRun || !config.push) {
    phases.skip('push');
    if (!config.dryRun) deps.log.info('push: false: nothing is pushed.');
    return;
  }
  const pushStep = (ref: string): string | undefined =>
    progress.plan?.steps.find((s) => s.id === 'push' && s.title.endsWith(` ${ref}`))?.title;
  progress.digest = await phases.run('push', 'Push', () =>
    pushPhase(ctx, creds, (ref) => progress.pushed.push(pushStep(ref) ?? ref)),
  );
  deps.setOutput('digest', progress.digest);
}

/**
 * A cancellation (the runner's SIGINT/SIGTERM) said plainly: which phase stopped, what the
 * interrupted step said, and what state the manifest and the rack were left in.
 */
function cancelled(reason: unknown, inner: unknown, phases: PhaseRecorder, progress: Progress): ActionError {
  const what = reason instanceof Error ? reason.message : 'cancelled';
  const phase = phases.records.at(-1)?.name ?? 'start';
  const lines = [`${what} during the ${phase} phase: ${describeError(inner).split('\n')[0]}`];
  const wrote = phases.records.some((r) => r.name === 'manifest' && r.status === 'ok');
  if (progress.config?.update.manifestFile)
    lines.push(
      wrote
        ? `${progress.config.update.manifestFile} had already been rewritten (completely).`
        : `${progress.config.update.manifestFile} was not changed.`,
    );
  const d = progress.deploy;
  if (d) {
    const before = d.previousReleaseId ?? progress.plan?.deploy?.current?.release;
    lines.push(
      `Rack: build ${d.buildId ?? 'not created'}, release ${d.releaseId ?? 'not created'}; the release active before this deploy was ${before ?? 'not read'}.`,
    );
    if (d.rackNow) lines.push(`Rack now: ${d.rackNow}.`);
    else if (d.releaseId && d.stepsDone?.includes('rack-build') && !d.stepsDone.includes('wait'))
      lines.push(`Check which release is active: convox apps info ${progress.config?.deploy?.app ?? ''}`.trim());
  } else lines.push('Nothing was sent to the rack.');
  return new ActionError(lines.join('\n'), { phase }, 're-run the job when ready; nothing is half-written');
}

/** The `manifest-diff` output: the unified diff, or `NAME: old -> new` in env mode. */
function changeText(plan: Plan, manifest: ManifestPlan | undefined): string {
  if (plan.env) return `${plan.env.name}: ${plan.env.before ?? '(unknown)'} -> ${plan.env.after}`;
  return manifest?.diff ?? '';
}

function setImageOutputs(deps: Deps, config: Config, references: readonly string[]): void {
  deps.setOutput('dry-run', String(config.dryRun));
  deps.setOutput('image', references[0] ?? '');
  deps.setOutput('tags', references.join('\n'));
  deps.setOutput('version', config.tags[0] ?? '');
}

function setDeployOutputs(deps: Deps, d: Partial<DeployOutcome>): void {
  if (d.buildId) deps.setOutput('build-id', d.buildId);
  if (d.releaseId) deps.setOutput('release-id', d.releaseId);
  if (d.previousReleaseId) deps.setOutput('previous-release-id', d.previousReleaseId);
}

async function report(deps: Deps, phases: PhaseRecorder, progress: Progress, failure: unknown): Promise<void> {
  if (!progress.config || !progress.plan) {
    // Nothing was planned (bad inputs): the error itself is the report.
    if (failure !== undefined)
      await deps
        .writeSummary(
          `### ❌ convox-image-deploy: nothing was done\n\n\`\`\`\n${deps.secrets.redact(describeError(failure))}\n\`\`\`\n`,
        )
        .catch(() => {});
    return;
  }
  const run: RunReport = {
    plan: progress.plan,
    phases: phases.records,
    outcome: failure === undefined ? 'success' : 'failure',
    sha: progress.config.github.sha,
    ...(progress.digest ? { digest: progress.digest } : {}),
    ...(progress.imageId ? { imageId: progress.imageId } : {}),
    ...(progress.deploy?.buildId ? { buildId: progress.deploy.buildId } : {}),
    ...(progress.deploy?.releaseId ? { releaseId: progress.deploy.releaseId } : {}),
    ...(progress.deploy?.previousReleaseId ? { previousReleaseId: progress.deploy.previousReleaseId } : {}),
    ...(failure !== undefined ? { error: deps.secrets.redact(describeError(failure)) } : {}),
    ...(progress.deploy?.logTail ? { rackLogTail: progress.deploy.logTail } : {}),
    ...(progress.deploy?.stepsDone || progress.pushed.length
      ? { stepsDone: [...progress.pushed, ...(progress.deploy?.stepsDone ?? [])] }
      : {}),
    ...(runUrl(progress.config) ? { runUrl: runUrl(progress.config)! } : {}),
  };
  try {
    await reportRun(progress.config, run, deps, progress.deployment);
  } catch (e) {
    // Reporting must never turn a good deploy into a failed step, nor hide the real failure.
    deps.log.warning(`Could not write the report: ${deps.secrets.redact(describeError(e))}`);
  }
}

function runUrl(config: Config): string | undefined {
  const g = config.github;
  return g.repository && g.runId ? `${g.serverUrl}/${g.repository}/actions/runs/${g.runId}` : undefined;
}

export { ActionError };
