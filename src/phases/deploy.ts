import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Config } from '../config/config.js';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { deploy, DeployError, type DeployProgress } from '../convox/deploy.js';
import { cannotReadReleases } from '../convox/env-mode.js';
import { inspectApp } from '../convox/inspect.js';
import { resolveRackTarget, rackLabel, type RackTarget } from '../convox/target.js';
import { packContext } from '../docker/context.js';
import type { ManifestPlan } from '../manifest/index.js';
import type { RackLook } from '../plan/plan.js';

export interface DeployOutcome {
  buildId: string;
  releaseId: string;
  previousReleaseId: string;
  /** The rack's last log lines, on a failed deploy. */
  logTail: string[];
  /** Plan step ids finished so far (`env-release`, `upload`, `rack-build`, `promote`, `wait`). */
  stepsDone: string[];
}

/** Which plan steps are behind us once the deploy reports reaching `phase`. */
const DONE_BY_PHASE: Readonly<Record<string, readonly string[]>> = {
  upload: ['env-release'],
  build: ['env-release', 'upload'],
  promote: ['env-release', 'upload', 'rack-build'],
  promoted: ['env-release', 'upload', 'rack-build', 'promote'],
  wait: ['env-release', 'upload', 'rack-build', 'promote'],
  deployed: ['env-release', 'upload', 'rack-build', 'promote', 'wait'],
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
 */
export async function lookAtRack(config: Config, deps: RackDeps): Promise<{ rack?: RackLook; rackUnavailable?: string; rackHost?: string }> {
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
  try {
    const seen = await inspectApp(t, config.deploy.app, config.update.envVar, deps.log, deps.signal, deps.secrets);
    // Env mode with a credential that cannot read the app's variables would fail only after
    // the push; say so now, before anything is built or pushed.
    if (!config.dryRun && config.update.mode === 'env' && !seen.canReadReleases) {
      throw cannotReadReleases(config.deploy.app, rackLabel(t), 'the rack refused to list releases');
    }
    return {
      rackHost: host,
      rack: { status: seen.status, ...(seen.release ? { release: seen.release } : {}), ...(seen.envValue !== undefined ? { envValue: seen.envValue } : {}), canReadReleases: seen.canReadReleases },
    };
  } catch (e) {
    if (!config.dryRun) throw e;
    return { rackHost: host, rackUnavailable: `reading ${config.deploy.app} on ${rackLabel(t)} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A fresh gzip tar of the app directory with the rewritten manifest in it, as a stream. */
function sourceTarball(appDir: string, manifestName: string, manifestBytes: Buffer | undefined, signal?: AbortSignal): NodeJS.ReadableStream {
  const out = new PassThrough();
  const replace = new Map<string, Buffer>(manifestBytes ? [[manifestName, manifestBytes]] : []);
  // The manifest stands in for the Dockerfile: it is the one file the rack must always get.
  packContext({ contextDir: appDir, dockerfile: path.join(appDir, manifestName), gzip: true, replace, ...(signal ? { signal } : {}) })
    .then((packed) => {
      packed.stream.on('error', (e: Error) => out.destroy(e));
      packed.stream.pipe(out);
      packed.done.catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    })
    .catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}

/** Uploads, builds on the rack, promotes and waits; ids are reported as they become known. */
export async function deployPhase(config: Config, manifest: ManifestPlan | undefined, deps: RackDeps, onProgress: (p: Partial<DeployOutcome>) => void): Promise<void> {
  const d = config.deploy;
  const t = target(config, deps.env);
  if (!d || !t || !config.update.manifestPath) {
    throw new ActionError('a deploy needs a manifest to upload', { input: 'manifest', phase: 'deploy' }, "add convox.yml (or set 'manifest') next to your app");
  }
  const appDir = path.dirname(config.update.manifestPath);
  const manifestName = path.basename(config.update.manifestPath);
  const sha = config.github.sha;
  const description = d.description ?? `convox-image-deploy ${config.tags[0] ?? ''}${config.github.runNumber ? ` (run ${config.github.runNumber})` : ''}`;
  try {
    const result = await deploy({
      target: t,
      app: d.app,
      mode: config.update.mode === 'env' ? 'env' : 'manifest',
      source: () => sourceTarball(appDir, manifestName, manifest?.changed ? manifest.after : undefined, deps.signal),
      manifest: manifestName,
      envVar: config.update.envVar,
      tag: config.tags[0] ?? '',
      description,
      gitSha: sha,
      wait: d.wait,
      timeoutMs: d.timeoutMs,
      log: deps.log,
      secrets: deps.secrets,
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: (p: DeployProgress) => onProgress({ ...ids(p), ...(DONE_BY_PHASE[p.phase] ? { stepsDone: [...DONE_BY_PHASE[p.phase]!] } : {}) }),
      userAgent: 'convox-image-deploy',
    });
    onProgress(ids(result));
    if (result.waitedForUpdatingMs) deps.log.info(`Waited ${Math.round(result.waitedForUpdatingMs / 1000)}s for another update of ${d.app} to finish before promoting.`);
    deps.log.info(result.outcome === 'deployed' ? `Deployed release ${result.releaseId} of ${d.app}.` : `Promoted release ${result.releaseId} of ${d.app} (wait: false, not waited for).`);
  } catch (e) {
    if (e instanceof DeployError) onProgress({ ...ids(e.partial), ...logTailOf(e) });
    throw e;
  }
}

function ids(p: { buildId?: string; releaseId?: string; previousReleaseId?: string }): Partial<DeployOutcome> {
  return { ...(p.buildId ? { buildId: p.buildId } : {}), ...(p.releaseId ? { releaseId: p.releaseId } : {}), ...(p.previousReleaseId ? { previousReleaseId: p.previousReleaseId } : {}) };
}

function logTailOf(e: DeployError): Partial<DeployOutcome> {
  const tail = (e as { logTail?: string[] }).logTail;
  return tail?.length ? { logTail: tail } : {};
}
