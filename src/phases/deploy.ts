import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Config } from '../config/config.js';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { deploy, DeployError, type DeployProgress } from '../convox/deploy.js';
import type { RoutePlan } from '../plan/route.js';
import { anonymousRead } from '../registry/client.js';
import { parseReference } from '../image/reference.js';
import { cannotReadReleases } from '../convox/env-mode.js';
import { formatInputDuration } from '../convox/duration.js';
import { inspectApp, readAppNow } from '../convox/inspect.js';
import { resolveRackTarget, rackLabel, type RackTarget } from '../convox/target.js';
import { packContext } from '../context/pack.js';
import type { ManifestPlan } from '../manifest/index.js';
import { manifestForRack } from './manifest.js';
import type { RackLook } from '../plan/plan.js';
import type { StepId } from '../plan/steps.js';
import { definedFields } from '../net/defined-fields.js';

export interface DeployOutcome {
  buildId: string;
  releaseId: string;
  previousReleaseId: string;
  /** The rack's last log lines, on a failed deploy. */
  logTail: string[];
  /** Plan step ids finished so far (`env-release`, `upload`, `rack-build`, `rack-import`, `promote`, `wait`). */
  stepsDone: StepId[];
  /** Plan steps the run did not take after all, with why (an import the rack refused with 404). */
  stepsSkipped: { id: StepId; reason: string }[];
  /** After a failure or a cancel: the app's state as read then (`shop on rack is running, active release R…`). */
  rackNow: string;
}

/** Which plan steps are behind us once the deploy reports reaching `phase` (those of the route taken). */
const MADE: readonly StepId[] = ['env-release', 'upload', 'rack-build', 'rack-import'];
const DONE_BY_PHASE: Readonly<Record<string, readonly StepId[]>> = {
  upload: ['env-release'],
  build: ['env-release', 'upload'],
  staged: MADE,
  promote: MADE,
  promoted: [...MADE, 'promote'],
  wait: [...MADE, 'promote'],
  deployed: [...MADE, 'promote', 'wait'],
};

export interface RackDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly secrets: Secrets;
  readonly signal?: AbortSignal;
}

function target(config: Config, env: NodeJS.ProcessEnv): RackTarget | undefined {
  const d = config.deploy;
  if (!d) return undefined;
  return resolveRackTarget({ rack: d.rack, rackHost: d.rackHost, rackPassword: d.rackPassword, insecureTls: d.insecureTls }, env);
}

/**
 * Looks at the rack before anything is built: in a real run this proves the credentials, the app
 * and the rack version up front (so a typo fails before the push, not after); in a dry run it
 * makes the plan concrete where credentials allow, and says plainly what it could not check.
 * What the rack holds for pulling images is read only when `needsPullFacts` says, for the rack's
 * version, that the rack's own build will pull the image.
 */
export async function lookAtRack(
  config: Config,
  deps: RackDeps,
  needsPullFacts: (version: string) => boolean,
): Promise<{ rack?: RackLook; rackUnavailable?: string; rackHost?: string }> {
  if (!config.deploy) return {};
  let t: RackTarget | undefined;
  try {
    t = target(config, deps.env);
  } catch (e) {
    if (!config.dryRun) throw e;
    const reason = e instanceof ActionError ? e.message : String(e);
    const fork = config.github.fromFork ? ' (pull requests from forks get no secrets)' : '';
    return { rackUnavailable: `${reason}${fork}` };
  }
  if (!t) return {};
  deps.secrets.add(t.password, t.username);
  const host = new URL(t.baseUrl).host;
  // The timeout input bounds this look too: a rack that does not answer must not hold the job
  // for minutes of read retries before anything is built.
  const limit = AbortSignal.timeout(config.deploy.timeoutMs);
  try {
    const signal = deps.signal ? AbortSignal.any([deps.signal, limit]) : limit;
    const seen = await inspectApp(t, config.deploy.app, config.update.envVar, deps.log, signal, deps.secrets, {
      pullFacts: needsPullFacts,
    });
    // Env mode with a credential that cannot read the app's variables would fail only after
    // the push; say so now, before anything is built or pushed.
    if (!config.dryRun && config.update.mode === 'env' && !seen.canReadReleases) {
      throw cannotReadReleases(config.deploy.app, rackLabel(t), 'the rack refused to list releases');
    }
    return {
      rackHost: host,
      rack: {
        status: seen.status,
        release: seen.release,
        envValue: seen.envValue,
        canReadReleases: seen.canReadReleases,
        version: seen.version,
        pull: seen.pull,
      },
    };
  } catch (e) {
    const error = limit.aborted && !deps.signal?.aborted ? lookTimedOut(config, t) : inPlanPhase(e);
    if (!config.dryRun) throw error;
    return {
      rackHost: host,
      rackUnavailable: `reading ${config.deploy.app} on ${rackLabel(t)} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function lookTimedOut(config: Config, t: RackTarget): ActionError {
  const app = config.deploy?.app ?? '';
  return new ActionError(
    `timed out after ${formatInputDuration(config.deploy?.timeoutMs ?? 0)} (the timeout input) reading app ${app} on ${rackLabel(t)}; nothing was built, pushed or deployed`,
    { phase: 'plan' },
    `check that ${t.baseUrl} answers (convox apps info ${app}); raise the timeout input if the rack is only slow`,
  );
}

/** The rack client's errors say `deploy`; this look runs in the plan, before anything is built. */
function inPlanPhase(e: unknown): unknown {
  return e instanceof ActionError && e.place.phase === 'deploy'
    ? new ActionError(e.message, { ...e.place, phase: 'plan' }, e.fix, { cause: e })
    : e;
}

/** A fresh gzip tar of the app directory with the rewritten manifest in it, as a stream. */
function sourceTarball(
  appDir: string,
  manifestName: string,
  manifestBytes: Buffer | undefined,
  signal?: AbortSignal,
): NodeJS.ReadableStream {
  const out = new PassThrough();
  const replace = new Map<string, Buffer>(manifestBytes ? [[manifestName, manifestBytes]] : []);
  // The manifest stands in for the Dockerfile: it is the one file the rack must always get.
  packContext({
    contextDir: appDir,
    dockerfile: path.join(appDir, manifestName),
    // The rack unpacks it and builds as the classic builder reads a context (the Convox CLI's Tarball).
    reader: 'classic',
    gzip: true,
    replace,
    signal,
  })
    .then((packed) => {
      packed.stream.on('error', (e: Error) => out.destroy(e));
      packed.stream.pipe(out);
      packed.done.catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    })
    .catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}

/**
 * Executes the plan's deploy steps (`steps`: the ids that run): sets the variable (`env-release`),
 * uploads, builds on the rack, promotes and waits when `wait` is among them; ids are reported as
 * they become known.
 */
export async function deployPhase(
  config: Config,
  route: RoutePlan,
  steps: readonly StepId[],
  manifest: ManifestPlan | undefined,
  deps: RackDeps,
  onProgress: (p: Partial<DeployOutcome>) => void,
): Promise<void> {
  const d = config.deploy;
  const t = target(config, deps.env);
  if (!d || !t || (!config.update.manifestPath && !d.release)) {
    throw new ActionError(
      'a deploy needs a manifest to upload',
      { input: 'manifest', phase: 'deploy' },
      "add convox.yml (or set 'manifest') next to your app",
    );
  }
  const manifestPath = config.update.manifestPath ?? path.join(config.workspace, 'convox.yml');
  const appDir = path.dirname(manifestPath);
  const manifestName = path.basename(manifestPath);
  const sha = config.github.sha;
  const description =
    d.description ??
    `convox-image-deploy ${config.tags[0] ?? ''}${config.github.runNumber ? ` (run ${config.github.runNumber})` : ''}`;
  let reached = '';
  let fellBack = false;
  const importable = route.route === 'import' ? await importInput(config, manifest, deps) : undefined;
  deps.log.info(`Route: ${route.route} (${route.why})`);
  try {
    const result = await deploy({
      // The plan chose the route; `auto` only keeps the fallback for a rack that answers 404.
      rackBuild: route.route === 'import' ? d.rackBuild : 'source',
      promote: d.promote,
      release: d.release,
      importable,
      target: t,
      app: d.app,
      mode: steps.includes('env-release') ? 'env' : 'manifest',
      source: () => sourceTarball(appDir, manifestName, manifest?.changed ? manifest.after : undefined, deps.signal),
      manifest: manifestName,
      envVar: config.update.envVar,
      tag: config.tags[0] ?? '',
      description,
      gitSha: sha,
      wait: steps.includes('wait'),
      timeoutMs: d.timeoutMs,
      log: deps.log,
      secrets: deps.secrets,
      signal: deps.signal,
      onProgress: (p: DeployProgress) => {
        reached = p.phase;
        if (p.phase === 'fallback') {
          fellBack = true;
          onProgress({
            ...ids(p),
            stepsSkipped: [{ id: 'rack-import', reason: 'the rack has no import route (404): built from source instead' }],
          });
          return;
        }
        const done = (DONE_BY_PHASE[p.phase] ?? []).filter((id) => !(fellBack && id === 'rack-import'));
        onProgress({ ...ids(p), stepsDone: done.length ? [...done] : undefined });
      },
      userAgent: 'convox-image-deploy',
    });
    onProgress(ids(result));
    if (result.waitedForUpdatingMs)
      deps.log.info(
        `Waited ${Math.round(result.waitedForUpdatingMs / 1000)}s for another update of ${d.app} to finish before promoting.`,
      );
    deps.log.info(
      result.outcome === 'deployed'
        ? `Deployed release ${result.releaseId} of ${d.app} (route: ${result.route}).`
        : result.outcome === 'staged'
          ? `Staged release ${result.releaseId} of ${d.app} (route: ${result.route}); promote it with: convox releases promote ${result.releaseId} --app ${d.app}, or this action with release: ${result.releaseId}, build: false, update: none.`
          : `Promoted release ${result.releaseId} of ${d.app} (wait: false, not waited for).`,
    );
  } catch (e) {
    if (e instanceof DeployError) onProgress({ ...ids(e.partial), ...logTailOf(e) });
    // Whatever went wrong, say what the rack is running now: the one fact a person needs next.
    const now = await readAppNow(t, d.app, deps.log, deps.secrets);
    const ours = e instanceof DeployError ? e.partial.releaseId : undefined;
    // Once the rack accepted the promote it rolls out without us, and its status lags a promote.
    const promoted =
      ours && ['promoted', 'wait'].includes(reached) && now?.release !== ours
        ? `; ${ours} was promoted, so the rack may still switch to it (its status lags a promote): check convox apps info ${d.app}`
        : '';
    const rackNow = now
      ? `${d.app} on ${rackLabel(t)} is ${now.status || 'in an unknown state'}, active release ${now.release ?? 'none'}${promoted}`
      : `${d.app} on ${rackLabel(t)} did not answer when read after the failure; see it with: convox apps info ${d.app}`;
    onProgress({ rackNow });
    if (deps.signal?.aborted || !(e instanceof ActionError)) throw e;
    const text = `${e.message}\nRack now: ${rackNow}.`;
    throw e instanceof DeployError
      ? new DeployError(new ActionError(text, e.place, e.fix), e.partial, e.logTail)
      : new ActionError(text, e.place, e.fix, { cause: e });
  }
}

/**
 * What the import route sends, or undefined when the manifest keeps the source build (said in
 * the log). Credentials go only to the pushed registry, and only when it refused an anonymous
 * manifest read (the image is private); they are already masked (config/inputs.ts).
 */
async function importInput(
  config: Config,
  manifest: ManifestPlan | undefined,
  deps: RackDeps,
): Promise<{ image: string; manifest: string; credentials?: { username: string; password: string } } | undefined> {
  if (!config.image) return undefined;
  const text = manifestForRack(config, manifest) ?? '';
  const image = `${config.image.original}:${config.tags[0] ?? ''}`;
  const { username, password } = config.registry;
  if (!username || !password) return { image, manifest: text };
  // Passed unless the registry lets anyone read the image: a public image needs none.
  const read = await anonymousRead(parseReference(image), { log: deps.log, secrets: deps.secrets, attempts: 2 });
  return read === 'allowed' ? { image, manifest: text } : { image, manifest: text, credentials: { username, password } };
}

function ids(p: { buildId?: string; releaseId?: string; previousReleaseId?: string }): Partial<DeployOutcome> {
  // Only what is known: the runner merges each report into the outcome it already holds.
  return definedFields({ buildId: p.buildId, releaseId: p.releaseId, previousReleaseId: p.previousReleaseId });
}

function logTailOf(e: DeployError): Partial<DeployOutcome> {
  const tail = (e as { logTail?: string[] }).logTail;
  return tail?.length ? { logTail: tail } : {};
}
