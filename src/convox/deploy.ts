/**
 * A whole Convox deploy. The release comes from one of three routes:
 * - import (v3 ≥ 3.24.6, an all-`image:` manifest): external build → manifest → the rack relays
 *   the image (import.ts) → release; no build pod. On an older rack `auto` falls back to:
 * - source, manifest mode: upload the source (with the rewritten manifest) → build → promote → wait;
 * - env mode: set IMAGE_VERSION=tag in a new env release (keeping every other variable) →
 *   upload → build with `build-args=IMAGE_VERSION=tag` → check the build's release carries it
 *   → promote → wait.
 * - release: an existing release (`release:` input) is promoted as is.
 * `promote: false` stops once the release exists (a staged release, promoted by a later job).
 * Everything runs under one deadline (`timeout`); a timeout says where it stuck, a failure
 * carries the ids known so far (`DeployError.partial`), and `onProgress` reports them as they
 * are learned so outputs can be set even when a later phase fails.
 *
 * Log groups are the caller's (main runs each phase in one, and the runner does not nest
 * groups); deploy() only prints plain lines.
 */
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { runBuild } from './build.js';
import { importImage, ImportUnavailable } from './import.js';
import type { ImportInput } from './import.js';
import { RackClient } from './client.js';
import type { DeployIds, FlowContext } from './context.js';
import { formatInputDuration } from './duration.js';
import { checkReleaseVariable, setImageVariable } from './env-mode.js';
import { promote, waitForRollout } from './rollout.js';
import type { RackTarget } from './target.js';
import { rackLabel } from './target.js';
import { Deadline, DeadlineExceeded, realSleep } from './timing.js';
import type { Sleep } from './timing.js';
import type { RackSystem } from './types.js';
import { IMPORT_SINCE, importsImages, rackGeneration, v3AtLeast } from './version.js';
import type { VerdictLimits } from './verdict.js';

export interface DeployProgress extends DeployIds {
  phase: string;
}

export interface DeployRequest {
  target: RackTarget;
  app: string;
  mode: 'manifest' | 'env';
  /** Makes a fresh gzip tar of the app directory (with the rewritten manifest); called again for a retried upload. */
  source: () => NodeJS.ReadableStream;
  /** Manifest file name inside the tarball (e.g. `convox.yml`). */
  manifest: string;
  /** Env mode: `envVar=tag`. */
  envVar: string;
  tag: string;
  description: string;
  gitSha: string;
  wait: boolean;
  timeoutMs: number;
  log: Log;
  secrets: Secrets;
  signal?: AbortSignal;
  onProgress?: (p: DeployProgress) => void;
  now?: () => number;
  sleep?: Sleep;
  /** e.g. `convox-image-deploy/1.2.0`. */
  userAgent?: string;
  /** Rollout judgement limits (tests shorten them). */
  limits?: VerdictLimits;
  /** `rack-build`: `auto` imports when the rack and `importable` allow it. Default `source`. */
  rackBuild?: 'auto' | 'import' | 'source';
  /** What the import route sends; undefined when the manifest keeps the source build (the plan says why). */
  importable?: Omit<ImportInput, 'description' | 'gitSha'>;
  /** False: stop once the release exists (staged). Default true. */
  promote?: boolean;
  /** Promote this existing release instead of building one. */
  release?: string;
}

/** Which route made the release, and why when it was not the one asked for. */
export type DeployRoute = 'import' | 'source' | 'release';

export interface DeployResult {
  buildId: string;
  releaseId: string;
  previousReleaseId?: string;
  outcome: 'deployed' | 'promoted-no-wait' | 'staged';
  route: DeployRoute;
  /** Set when `auto` fell back to the source build (said once in the log too). */
  fallback?: string;
  /** Set when the app was busy with someone else's update and we waited before promoting. */
  waitedForUpdatingMs?: number;
  /** HTTP requests and WebSocket upgrades made. */
  requests: number;
}

/** A failed deploy, with the ids learned before it failed and the rack's last log lines. */
export class DeployError extends ActionError {
  constructor(
    source: ActionError,
    readonly partial: DeployIds,
    /** The build log's or the rollout events' last lines (redacted); empty when none were seen. */
    readonly logTail: string[] = [],
  ) {
    super(source.message, { ...source.place, phase: 'deploy' }, source.fix, { cause: source });
  }
}

/** Runs the deploy. @throws DeployError (an ActionError with phase `deploy` and `.partial`). */
export async function deploy(req: DeployRequest): Promise<DeployResult> {
  const now = req.now ?? Date.now;
  const deadline = new Deadline(req.timeoutMs, now, now(), req.signal);
  const client = new RackClient(req.target, {
    log: req.log,
    secrets: req.secrets,
    signal: deadline.signal,
    sleep: req.sleep ?? realSleep,
    now,
    userAgent: req.userAgent,
  });
  const ctx: FlowContext = {
    client,
    app: req.app,
    rack: rackLabel(req.target),
    generation: 'v3',
    version: '',
    log: req.log,
    secrets: req.secrets,
    deadline,
    now,
    sleep: req.sleep ?? realSleep,
    ids: {},
    progress: (phase) => req.onProgress?.({ ...ctx.ids, phase }),
    where: () => `connecting to ${rackLabel(req.target)}`,
    tail: () => [],
  };
  try {
    return await run(ctx, req);
  } catch (e) {
    throw failure(e, ctx, req);
  } finally {
    deadline.dispose();
    client.close();
  }
}

async function run(ctx: FlowContext, req: DeployRequest): Promise<DeployResult> {
  if (!req.app.trim()) throw new ActionError('no app was given', { input: 'app' }, 'set the app input to the Convox app name');
  ctx.progress('connect');
  const system = await ctx.client.get<RackSystem>('/system', { what: 'read the rack version' });
  ctx.version = system.version ?? '';
  ctx.generation = rackGeneration(ctx.version, ctx.rack);
  req.log.info(`Rack ${ctx.rack}: version ${ctx.version} (${ctx.generation}), via ${req.target.source}`);
  if (req.release) {
    ctx.ids.releaseId = req.release;
    ctx.progress('promote');
    return promoteAndWait(ctx, req, { id: '', release: req.release }, 'release');
  }
  const made = await makeRelease(ctx, req);
  if (req.promote === false) {
    ctx.progress('staged');
    req.log.info(`Release ${made.release} is staged on ${ctx.rack} (promote: false); not promoted`);
    return {
      buildId: made.id,
      releaseId: made.release,
      outcome: 'staged',
      route: made.route,
      fallback: made.fallback,
      requests: ctx.client.requests,
    };
  }
  ctx.progress('promote');
  const done = await promoteAndWait(ctx, req, made, made.route);
  return made.fallback ? { ...done, fallback: made.fallback } : done;
}

type Made = { id: string; release: string; route: 'import' | 'source'; fallback?: string };

/** The import route when asked for and possible, else the source build. */
async function makeRelease(ctx: FlowContext, req: DeployRequest): Promise<Made> {
  const mode = req.rackBuild ?? 'source';
  const tooOld = !importsImages(ctx.version);
  if (mode === 'import' && !req.importable) {
    throw new ActionError(
      'rack-build is import, but the manifest keeps the source build (see the plan for why)',
      { input: 'rack-build' },
      'use rack-build: auto or source, or give every service an image: and no ${VAR} or required environment entries',
    );
  }
  if (mode === 'import' && tooOld) {
    throw new ActionError(
      `rack-build is import, but ${ctx.rack} runs ${ctx.version}; importing an image needs a v3 rack at ${IMPORT_SINCE} or later`,
      { input: 'rack-build' },
      'update the rack (convox rack update) or use rack-build: auto to fall back to the source build',
    );
  }
  if (mode === 'source' || !req.importable) return { ...(await buildRelease(ctx, req)), route: 'source' };
  if (tooOld) return fallBack(ctx, req, `${ctx.rack} runs ${ctx.version}; importing an image needs v3 ${IMPORT_SINCE} or later`);
  const description = buildDescription(req.description, req.gitSha);
  try {
    const made = await importImage(ctx, { ...req.importable, description, gitSha: req.gitSha });
    return { ...made, route: 'import' };
  } catch (e) {
    if (!(e instanceof ImportUnavailable) || mode === 'import') throw e;
    return fallBack(ctx, req, `${ctx.rack} has no import-image route (404), though it reports ${ctx.version}`);
  }
}

async function fallBack(ctx: FlowContext, req: DeployRequest, why: string): Promise<Made> {
  const fallback = `${why}: building from source instead (rack-build: auto)`;
  req.log.info(fallback);
  ctx.progress('fallback');
  ctx.ids.buildId = undefined;
  return { ...(await buildRelease(ctx, req)), route: 'source', fallback };
}

/** Env release (env mode), upload and build; returns the build with the release to promote. */
async function buildRelease(ctx: FlowContext, req: DeployRequest): Promise<{ id: string; release: string }> {
  const buildArgs: string[] = [];
  if (req.mode === 'env') {
    ctx.progress('env');
    await setImageVariable(ctx, req.envVar, req.tag);
    buildArgs.push(`${req.envVar}=${req.tag}`);
    if (ctx.generation === 'v3' && !v3AtLeast(ctx.version, '3.22.0')) {
      req.log.warning(
        `rack version ${ctx.version} predates build-args (3.22.0); the manifest sees ${req.envVar} only through the release env`,
      );
    }
  }
  const description = buildDescription(req.description, req.gitSha);
  req.log.info(`Building ${req.app} on ${ctx.rack} (${description})`);
  const build = await runBuild(ctx, { source: req.source, manifest: req.manifest, description, gitSha: req.gitSha, buildArgs });
  ctx.ids.releaseId = build.release;
  req.log.info(`Build ${build.id} complete: release ${build.release}`);
  if (req.mode === 'env') await checkReleaseVariable(ctx, build.release, req.envVar, req.tag);
  return build;
}

async function promoteAndWait(
  ctx: FlowContext,
  req: DeployRequest,
  build: { id: string; release: string },
  route: DeployRoute,
): Promise<DeployResult> {
  const promoted = await promote(ctx, build.release);
  const result = {
    buildId: build.id,
    releaseId: build.release,
    previousReleaseId: promoted.previous,
    waitedForUpdatingMs: promoted.waitedMs || undefined,
  };
  if (!req.wait) {
    ctx.progress('promoted');
    return { ...result, outcome: 'promoted-no-wait', route, requests: ctx.client.requests };
  }
  ctx.progress('wait');
  await waitForRollout(ctx, build.release, promoted.previous, promoted.unanswered, req.limits);
  req.log.info(`Release ${build.release} is running on ${ctx.rack}`);
  ctx.progress('deployed');
  return { ...result, outcome: 'deployed', route, requests: ctx.client.requests };
}

/** The build description: the caller's text with the short commit, as the CLI's `build <sha> <subject>`. */
export function buildDescription(description: string, gitSha: string): string {
  const text = description.trim();
  const short = gitSha.trim().slice(0, 10);
  if (!short || text.includes(short.slice(0, 7))) return text || 'convox-image-deploy';
  return text ? `${text} (${short})` : `build ${short}`;
}

function failure(e: unknown, ctx: FlowContext, req: DeployRequest): DeployError {
  const ids = { ...ctx.ids };
  const tail = ctx.tail();
  const redact = (t: string): string => req.secrets.redact(t);
  if (e instanceof DeadlineExceeded || (ctx.deadline.expired() && !(e instanceof ActionError))) {
    return new DeployError(
      new ActionError(
        redact(`timed out after ${formatInputDuration(req.timeoutMs)} (the timeout input): ${ctx.where()}`),
        {},
        'raise the timeout input if the deploy is just slow; otherwise look at the rack (convox builds / convox apps info) for what is stuck',
      ),
      ids,
      tail,
    );
  }
  if (req.signal?.aborted)
    return new DeployError(new ActionError(redact(`deploy cancelled while ${ctx.where()}`), {}, undefined), ids, tail);
  if (e instanceof ActionError)
    return new DeployError(new ActionError(redact(e.message), e.place, e.fix && redact(e.fix)), ids, tail);
  const text = e instanceof Error ? e.message : String(e);
  return new DeployError(
    new ActionError(
      redact(`unexpected failure while ${ctx.where()}: ${text}`),
      {},
      'this is a bug in the action; please report it with the log',
    ),
    ids,
    tail,
  );
}
