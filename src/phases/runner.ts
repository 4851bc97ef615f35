/**
 * Executes the plan, phase by phase. Each phase does the plan's steps that run in this run and
 * nothing else: no decision is taken again from the config, so a dry run and a real run differ
 * only in which steps the plan marks as running. The recorder notes how each step fared.
 */
import type Docker from 'dockerode';
import type { Config } from '../config/config.js';
import { readGitHubContext } from '../config/github.js';
import { readInputs } from '../config/inputs.js';
import { ActionError, describeError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import type { ManifestPlan } from '../manifest/index.js';
import { EngineUnreachable } from '../engine/engine.js';
import { ContextPrefetch } from '../context/prefetch.js';
import { buildPhase, credentialsForImage, existingImagePhase, pushPhase, type ImageContext } from './image.js';
import { manifestForRack, planManifest, writeManifest } from './manifest.js';
import { deployPhase, lookAtRack, type DeployOutcome } from './deploy.js';
import type { PhaseRecorder } from './recorder.js';
import { startGitHubDeployment } from './report.js';
import type { DeploymentHandle } from '../report/deployment.js';
import { imageReferences, makePlan, routeOf } from '../plan/plan.js';
import { needsPrivacyCheck } from '../plan/pull.js';
import { rackBuildsFromSource } from '../plan/route.js';
import { parseReference } from '../image/reference.js';
import { anonymousRead } from '../registry/client.js';
import type { Plan } from '../plan/types.js';
import { renderPlanText } from '../plan/text.js';

/** What the phases need from the world (index.ts hands in the real one, tests fakes). */
export interface RunnerDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly log: Log;
  readonly secrets: Secrets;
  readonly docker: () => Docker;
  readonly setOutput: (name: string, value: string) => void;
  readonly writeSummary: (markdown: string) => Promise<void>;
  readonly signal?: AbortSignal;
}

/** Facts gathered while running, so outputs and reports exist even after a failure. */
export interface Progress {
  config?: Config;
  plan?: Plan;
  manifest?: ManifestPlan;
  imageId?: string;
  digest?: string;
  deploy?: Partial<DeployOutcome>;
  deployment?: DeploymentHandle;
}

/** Reads the inputs, plans, and executes the plan's steps; `progress` holds what was learned. */
export async function execute(deps: RunnerDeps, phases: PhaseRecorder, progress: Progress, now: Date): Promise<void> {
  const config = readInputs(deps.env, readGitHubContext(deps.env, deps.cwd), now, deps.secrets);
  progress.config = config;
  // The build context is read ahead (read only) while the plan reads the manifest and the rack
  // and while the engine answers; BuildKit's request for it is then answered from memory.
  const contextPrefetch = config.build.enabled ? new ContextPrefetch(config.build.context, config.build.dockerfile) : undefined;
  try {
    const references = imageReferences(config);
    setImageOutputs(deps, config, references);
    const { plan, manifest } = await planPhase(deps, phases, config);
    progress.plan = plan;
    progress.manifest = manifest;
    deps.setOutput('manifest-diff', changeText(plan, manifest));
    if (config.image) {
      const ctx: ImageContext = {
        config,
        image: config.image,
        references,
        docker: deps.docker,
        env: deps.env,
        log: deps.log,
        secrets: deps.secrets,
        now,
        signal: deps.signal,
        contextPrefetch,
      };
      await imagePhases(deps, phases, progress, ctx);
    } else {
      // Promoting an existing release: the plan has no image steps.
      phases.skip('build');
      phases.skip('push');
    }
    await manifestPhase(deps, phases, progress, config);
    await rackPhase(deps, phases, progress, config);
    if (plan.dryRun) deps.log.info(`Dry run (${plan.dryRunReason}): nothing was pushed, written or deployed.`);
  } finally {
    contextPrefetch?.stop();
  }
}

/** Validates the manifest edit and looks at the rack (reads only), then prints the plan. */
function planPhase(deps: RunnerDeps, phases: PhaseRecorder, config: Config): Promise<{ plan: Plan; manifest?: ManifestPlan }> {
  return phases.run('plan', 'Plan', async () => {
    const manifest = planManifest(config);
    // An existing release is promoted as it is: its manifest is the rack's already.
    const manifestText = config.deploy && !config.deploy.release ? manifestForRack(config, manifest) : undefined;
    const look = await lookAtRack(config, deps, (rackVersion) => rackBuildsFromSource(config, { manifestText, rackVersion }));
    const route = routeOf({ config, ...look, manifestText });
    // Asked only when the rack's build would need credentials it does not hold (plan/pull.ts).
    const anonymous =
      config.image && needsPrivacyCheck(config, route, look.rack?.pull)
        ? await anonymousRead(parseReference(`${config.image.original}:${config.tags[0] ?? 'latest'}`), {
            log: deps.log,
            secrets: deps.secrets,
            attempts: 2,
            signal: deps.signal,
          })
        : undefined;
    const plan = makePlan({
      config,
      manifest,
      ...look,
      manifestText,
      anonymousRead: anonymous,
    });
    phases.planned(plan);
    deps.log.info(renderPlanText(plan));
    return { plan, manifest };
  });
}

/** `build` (dry runs too), then `push` every tag, or `check-image` (a read, dry runs too). */
async function imagePhases(deps: RunnerDeps, phases: PhaseRecorder, progress: Progress, ctx: ImageContext): Promise<void> {
  const creds = await credentialsForImage(ctx);
  const [build] = phases.stepsOf('build');
  if (!build) phases.skip('build');
  else {
    const built = await phases
      .run('build', 'Build', () => buildPhase(ctx, creds))
      .catch((e: unknown) => {
        // A newcomer's local dry run has no engine: say so plainly and still show the plan.
        if (!(ctx.config.dryRun && e instanceof EngineUnreachable)) throw e;
        deps.log.warning(`Skipped the build: ${e.message}. Everything else in the plan above holds.`);
        phases.skipped(build, `no Docker engine (${e.message})`);
        return undefined;
      });
    if (built) {
      progress.imageId = built.imageId;
      deps.setOutput('image-id', built.imageId);
    }
  }
  const steps = phases.stepsOf('push');
  const pushes = steps.filter((s) => s.id === 'push');
  if (steps.some((s) => s.id === 'check-image'))
    // Nothing was built, so nothing is pushed: the tag must already be in the registry.
    progress.digest = await phases.run('push', 'Check the existing image', () => existingImagePhase(ctx, creds));
  else if (pushes.length > 0)
    progress.digest = await phases.run('push', 'Push', () =>
      pushPhase(ctx, creds, (ref) => {
        const pushed = pushes.find((s) => s.reference === ref);
        if (pushed) phases.done(pushed);
      }),
    );
  else {
    phases.skip('push');
    if (!ctx.config.dryRun) deps.log.info('push: false: nothing is pushed.');
  }
  if (progress.digest) deps.setOutput('digest', progress.digest);
}

/** `write-manifest`: the planned edit, pinned to the pushed digest when asked. */
async function manifestPhase(deps: RunnerDeps, phases: PhaseRecorder, progress: Progress, config: Config): Promise<void> {
  if (phases.stepsOf('manifest').length === 0) return phases.skip('manifest');
  const planned = progress.manifest;
  const final = await phases.run('manifest', 'Update manifest', async () => {
    const m = config.update.pinDigest && progress.digest ? planManifest(config, progress.digest) : planned;
    if (m && (await writeManifest(config, m))) deps.log.info(`Wrote ${m.file}:\n${m.diff}`);
    return m;
  });
  if (final && progress.plan) {
    progress.manifest = final;
    deps.setOutput('manifest-diff', changeText(progress.plan, final));
  }
}

/** The rack's steps (`env-release`, `upload`, `rack-build`, `promote`, `wait`), in one phase. */
async function rackPhase(deps: RunnerDeps, phases: PhaseRecorder, progress: Progress, config: Config): Promise<void> {
  const steps = phases.stepsOf('deploy');
  if (steps.length === 0 || !config.deploy) return phases.skip('deploy');
  // The release the plan saw active is the one to roll back to, even if the rack build fails
  // before the promote reads it again (which then replaces it).
  const before = progress.plan?.deploy?.current?.release;
  const outcome: Partial<DeployOutcome> = before ? { previousReleaseId: before } : {};
  progress.deploy = outcome;
  setDeployOutputs(deps, outcome);
  progress.deployment = await startGitHubDeployment(config, deps, runUrl(config));
  const ids = steps.map((s) => s.id);
  const route = progress.plan?.deploy?.route;
  if (!route) throw new Error('internal: a deploy step is planned but the plan has no route');
  await phases.run('deploy', `Deploy to ${config.deploy.app}`, () =>
    deployPhase(config, route, ids, progress.manifest, deps, (p) => {
      Object.assign(outcome, p);
      for (const id of p.stepsDone ?? []) steps.filter((s) => s.id === id).forEach((s) => phases.done(s));
      for (const { id, reason } of p.stepsSkipped ?? [])
        steps.filter((s) => s.id === id).forEach((s) => phases.skipped(s, reason));
      setDeployOutputs(deps, outcome);
    }),
  );
}

/**
 * A cancellation (the runner's SIGINT/SIGTERM) said plainly: which phase stopped, what the
 * interrupted step said, and what state the manifest and the rack were left in.
 */
export function cancelled(reason: unknown, inner: unknown, phases: PhaseRecorder, progress: Progress): ActionError {
  const what = reason instanceof Error ? reason.message : 'cancelled';
  const phase = phases.records.at(-1)?.name ?? 'start';
  const lines = [`${what} during the ${phase} phase: ${describeError(inner).split('\n')[0]}`];
  const wrote = phases.records.some((r) => r.name === 'manifest' && r.status === 'ok');
  const file = progress.config?.update.manifestFile;
  if (file) lines.push(wrote ? `${file} had already been rewritten (completely).` : `${file} was not changed.`);
  const d = progress.deploy;
  if (d) {
    const before = d.previousReleaseId ?? progress.plan?.deploy?.current?.release;
    lines.push(
      `Rack: build ${d.buildId ?? 'not created'}, release ${d.releaseId ?? 'not created'}; the release active before this deploy was ${before ?? 'not read'}.`,
    );
    const done = (id: 'rack-build' | 'wait'): boolean => phases.steps.some((s) => s.id === id && s.status === 'done');
    if (d.rackNow) lines.push(`Rack now: ${d.rackNow}.`);
    else if (d.releaseId && done('rack-build') && !done('wait'))
      lines.push(`Check which release is active: convox apps info ${progress.config?.deploy?.app ?? ''}`.trim());
  } else lines.push('Nothing was sent to the rack.');
  return new ActionError(lines.join('\n'), { phase }, 're-run the job when ready; nothing is half-written');
}

/** The `manifest-diff` output: the unified diff, or `NAME: old -> new` in env mode. */
function changeText(plan: Plan, manifest: ManifestPlan | undefined): string {
  if (plan.env) return `${plan.env.name}: ${plan.env.before ?? '(unknown)'} -> ${plan.env.after}`;
  return manifest?.diff ?? '';
}

function setImageOutputs(deps: RunnerDeps, config: Config, references: readonly string[]): void {
  deps.setOutput('dry-run', String(config.dryRun));
  if (!config.image) return;
  deps.setOutput('image', references[0] ?? '');
  deps.setOutput('tags', references.join('\n'));
  deps.setOutput('version', config.tags[0] ?? '');
}

function setDeployOutputs(deps: RunnerDeps, d: Partial<DeployOutcome>): void {
  if (d.buildId) deps.setOutput('build-id', d.buildId);
  if (d.releaseId) deps.setOutput('release-id', d.releaseId);
  if (d.previousReleaseId) deps.setOutput('previous-release-id', d.previousReleaseId);
}

export function runUrl(config: Config): string | undefined {
  const g = config.github;
  return g.repository && g.runId ? `${g.serverUrl}/${g.repository}/actions/runs/${g.runId}` : undefined;
}
