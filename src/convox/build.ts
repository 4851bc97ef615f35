/**
 * The build half of a deploy, as `convox build` does it but with adaptive polling: upload the
 * source tarball as an object, create the build, stream its log while polling its status, then
 * re-read the stored log to print whatever the live stream missed.
 */
import { randomBytes } from 'node:crypto';
import { ActionError } from '../errors.js';
import { at } from './context.js';
import type { FlowContext } from './context.js';
import { formatInputDuration } from './duration.js';
import { LogPrinter } from './log-printer.js';
import { BUILD_POLL, pollDelayMs } from './timing.js';
import { appPath } from './types.js';
import type { RackBuild, RackObject } from './types.js';
import type { SocketRead, StreamFailure } from './websocket.js';
import { Nudge } from './nudge.js';

export interface BuildInput {
  source: () => NodeJS.ReadableStream;
  manifest: string;
  description: string;
  gitSha: string;
  /** `K=V` items; sent comma-joined as the CLI does. */
  buildArgs: readonly string[];
}

/** How many times a dropped live log socket is reopened while the build runs. */
const LIVE_RECONNECTS = 3;

/** Uploads, builds and follows; returns the completed build (with its release id). */
export async function runBuild(ctx: FlowContext, input: BuildInput): Promise<RackBuild & { id: string; release: string }> {
  at(ctx, () => 'uploading the source to the rack');
  ctx.progress('upload');
  const url = await uploadSource(ctx, input.source);
  // The request is on its way: a timeout now may still see the rack create the build later.
  at(
    ctx,
    () => `creating the build (the request may have reached the rack: check convox builds --app ${ctx.app} before re-running)`,
  );
  const created = await ctx.client.post<RackBuild>(
    appPath(ctx.app, '/builds'),
    {
      url,
      manifest: input.manifest,
      description: input.description,
      'git-sha': input.gitSha || undefined,
      'build-args': input.buildArgs.length ? input.buildArgs : undefined,
    },
    { what: 'create the build', app: ctx.app },
  );
  const id = typeof created === 'object' ? created.id : undefined;
  if (!id) throw new ActionError(`the rack did not return a build id for ${ctx.app}`, { phase: 'deploy' }, 'retry the deploy');
  ctx.ids.buildId = id;
  ctx.progress('build');
  ctx.log.info(`Build ${id} started on ${ctx.rack}`);
  const build = await followBuild(ctx, id);
  if (!build.release) {
    throw new ActionError(
      `build ${id} completed without a release on ${ctx.rack}`,
      { phase: 'deploy' },
      `inspect it with: convox builds info ${id} --app ${ctx.app}`,
    );
  }
  return { ...build, id, release: build.release };
}

async function uploadSource(ctx: FlowContext, source: () => NodeJS.ReadableStream): Promise<string> {
  // As the CLI: tmp/ + 30 hex characters. Same key on every retry, so a repeat overwrites.
  const key = `tmp/${randomBytes(15).toString('hex')}.tgz`;
  const object = await ctx.client.upload<RackObject>(appPath(ctx.app, `/objects/${key}`), source, {
    what: 'upload the source',
    app: ctx.app,
  });
  if (!object.Url)
    throw new ActionError('the rack did not return the uploaded object URL', { phase: 'deploy' }, 'retry the deploy');
  return object.Url;
}

/**
 * Streams and polls build `id` until it is complete; throws with the log tail when it failed.
 * Only the status decides: an `ERROR:` ending the log stream may be the build's own last words
 * or the rack giving up on the stream while the build goes on (§1).
 */
export async function followBuild(ctx: FlowContext, id: string): Promise<RackBuild> {
  const printer = new LogPrinter(ctx.log, ctx.secrets);
  const stop = new AbortController();
  const nudge = new Nudge();
  const startedAt = ctx.now();
  let status: string | undefined;
  at(ctx, () =>
    status === undefined
      ? `build ${id}: the rack did not answer a read of its status within ${formatInputDuration(ctx.now() - startedAt)}${lastLine(printer)}`
      : `build ${id} was still ${status} after ${formatInputDuration(ctx.now() - startedAt)}${lastLine(printer)}`,
  );
  ctx.tail = () => printer.tail();
  const live = streamLive(ctx, id, printer, AbortSignal.any([stop.signal, ctx.deadline.signal]), () => nudge.wake());
  let build: RackBuild;
  let streamFailure: StreamFailure | undefined;
  try {
    build = await pollBuild(ctx, id, nudge, (s) => (status = s));
    // The live stream usually ends by itself right after the build; give it a moment to flush.
    await Promise.race([live, ctx.sleep(1500, ctx.deadline.signal).catch(() => undefined)]);
  } finally {
    stop.abort();
    streamFailure = await live;
  }
  if (streamFailure && build.status !== 'failed') streamOnlyFailed(ctx, id, printer, streamFailure);
  const stored = await rereadStoredLog(ctx, id, printer);
  printer.end();
  if (build.status === 'failed') throw buildFailed(ctx, id, build, printer, stored ?? streamFailure);
  return build;
}

/**
 * The build went on after the stream's `ERROR:`, so that line was the stream's failure and is
 * not in the stored log: its bytes must not be skipped when the stored log is re-read.
 */
function streamOnlyFailed(ctx: FlowContext, id: string, printer: LogPrinter, failure: StreamFailure): void {
  printer.uncount(failure.bytes);
  ctx.log.info(
    `(build ${id} went on after that error, so only the log stream failed; the rest of the log comes from the rack's stored copy)`,
  );
}

async function pollBuild(ctx: FlowContext, id: string, nudge: Nudge, seen: (status: string) => void): Promise<RackBuild> {
  const started = ctx.now();
  // Once the log has ended the status flips within moments (§2.2): look again quickly.
  let afterEnd = -1;
  for (let n = 0; ; n++) {
    const build = await ctx.client.get<RackBuild>(appPath(ctx.app, `/builds/${encodeURIComponent(id)}`), {
      what: `read build ${id}`,
      app: ctx.app,
    });
    ctx.secrets.add(credentialIn(build.repository));
    const status = build.status ?? '';
    seen(status);
    if (status === 'complete' || status === 'failed') return build;
    if (status !== 'created' && status !== 'running') {
      throw new ActionError(
        `build ${id} has status "${status}", which a build should never have`,
        { phase: 'deploy' },
        `inspect it with: convox builds info ${id} --app ${ctx.app}`,
      );
    }
    const usual = pollDelayMs(BUILD_POLL, n, ctx.now() - started);
    const delay = afterEnd >= 0 ? Math.min(usual, 100 * 2 ** afterEnd++) : usual;
    if (await nudge.wait(ctx.sleep, delay, ctx.deadline.signal)) afterEnd = 0;
  }
}

async function streamLive(
  ctx: FlowContext,
  id: string,
  printer: LogPrinter,
  signal: AbortSignal,
  ended: () => void,
): Promise<StreamFailure | undefined> {
  for (let attempt = 0; attempt <= LIVE_RECONNECTS && !signal.aborted; attempt++) {
    if (attempt > 0) {
      ctx.log.info(`(build log stream dropped; reconnecting, already printed lines are skipped)`);
      await ctx.sleep(300 * attempt, signal).catch(() => undefined);
      if (signal.aborted) return undefined;
    }
    const read = await openBuildLog(ctx, id, printer, signal).catch(() => undefined);
    ended();
    // The rack gave up on the stream; reconnecting would not help, the status decides.
    if (read?.failure) return streamFailed(ctx, id, read.failure);
    if (!read || read.end !== 'dropped') {
      if (read?.end === 'refused') ctx.log.debug(`build log stream refused: ${ctx.secrets.redact(read.error ?? '')}`);
      return undefined;
    }
  }
  return undefined;
}

function streamFailed(ctx: FlowContext, id: string, failure: StreamFailure): StreamFailure {
  ctx.log.info(
    `(the build log stream ended with "ERROR: ${ctx.secrets.redact(failure.text)}"; waiting for the status of build ${id} to tell whether the build failed)`,
  );
  return failure;
}

function openBuildLog(ctx: FlowContext, id: string, printer: LogPrinter, signal: AbortSignal): Promise<SocketRead> {
  const path = appPath(ctx.app, `/builds/${encodeURIComponent(id)}/logs`);
  return ctx.client.socket(path, { signal, onData: printer.resume(), probe: appPath(ctx.app) });
}

/**
 * The stored log may hold more than the live stream delivered (§2.2); print the rest.
 * @returns the `ERROR:` the stored log ends with, if any.
 */
async function rereadStoredLog(ctx: FlowContext, id: string, printer: LogPrinter): Promise<StreamFailure | undefined> {
  const before = printer.printed;
  const read = await openBuildLog(ctx, id, printer, ctx.deadline.signal).catch(() => undefined);
  if (read?.end === 'refused') ctx.log.debug(`stored build log unavailable: ${ctx.secrets.redact(read.error ?? '')}`);
  if (printer.printed > before) ctx.log.debug(`printed ${printer.printed - before} bytes the live stream had missed`);
  return read?.failure;
}

/** The failure, headed by the rack's words: the build's reason and the log's final `ERROR:`. */
function buildFailed(
  ctx: FlowContext,
  id: string,
  build: RackBuild,
  printer: LogPrinter,
  failure: StreamFailure | undefined,
): ActionError {
  const tail = printer.tail(15);
  const said = [...new Set([build.reason, failure?.text].filter((r): r is string => Boolean(r)))];
  const reason = said.length ? `: ${ctx.secrets.redact(said.join('; '))}` : '';
  const shown = tail.length
    ? `\nlast lines of the build log:\n${tail.map((l) => `  | ${l}`).join('\n')}`
    : '\n(the rack kept no build log)';
  return new ActionError(
    `build ${id} failed on ${ctx.rack}${reason}${shown}`,
    { phase: 'deploy' },
    `fix the error in the build log; the full log: convox builds logs ${id} --app ${ctx.app}`,
  );
}

function lastLine(printer: LogPrinter): string {
  const line = printer.lastLine();
  return line ? `; last log line: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}` : '; no build log output yet';
}

/** The password in a `https://user:password@host` URL the rack hands out, to be masked. */
export function credentialIn(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return /\/\/[^:/@]*:([^@/]+)@/.exec(url)?.[1];
  }
}
