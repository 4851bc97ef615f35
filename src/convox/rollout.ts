/**
 * The promote half of a deploy: wait for the app to be idle, promote, and watch the rollout
 * until the rack has really switched to our release — or say plainly that it did not.
 */
import { ActionError } from '../errors.js';
import { at } from './context.js';
import type { FlowContext } from './context.js';
import { formatInputDuration } from './duration.js';
import { TransportError } from '../net/http.js';
import { RackError } from './rack-error.js';
import { Nudge } from './nudge.js';
import { describeProcesses, RackEvents } from './rack-events.js';
import { pollDelayMs, ROLLOUT_POLL, UPDATING_POLL } from './timing.js';
import { appPath } from './types.js';
import type { RackApp } from './types.js';
import { DEFAULT_LIMITS, judge, startRollout } from './verdict.js';
import type { Verdict, VerdictLimits } from './verdict.js';

/** Gap before the confirming second read: long enough for a lagging status to show, short enough not to be felt. */
const CONFIRM_MS = 300;
const PROMOTE_ATTEMPTS = 3;

export async function readApp(ctx: FlowContext): Promise<RackApp> {
  return ctx.client.get<RackApp>(appPath(ctx.app), { what: `read app ${ctx.app}`, app: ctx.app });
}

/**
 * Waits until the app is `running` (twice in a row, as the CLI does) so a promote is accepted.
 * @returns the app as last read and how long we waited.
 */
export async function waitUntilIdle(ctx: FlowContext, releaseId: string): Promise<{ app: RackApp; waitedMs: number }> {
  const started = ctx.now();
  at(ctx, () => `reading the status of app ${ctx.app} before promoting release ${releaseId}; nothing was promoted`);
  let app = await readApp(ctx);
  if (app.status === 'running') return { app, waitedMs: 0 };
  ctx.log.info(
    `App ${ctx.app} is ${app.status ?? 'in an unknown state'} (another deploy or change under way); waiting for it to finish before promoting`,
  );
  at(
    ctx,
    () =>
      `app ${ctx.app} was still ${app.status ?? '?'} (someone else's update) after ${formatInputDuration(ctx.now() - started)}; nothing was promoted`,
  );
  for (let n = 0, running = 0; running < 2; n++) {
    if (app.status === 'failed' || app.status === 'deleting') throw notPromotable(ctx, app.status);
    await ctx.sleep(running ? CONFIRM_MS : pollDelayMs(UPDATING_POLL, n, ctx.now() - started), ctx.deadline.signal);
    app = await readApp(ctx);
    running = app.status === 'running' ? running + 1 : 0;
  }
  const waitedMs = ctx.now() - started;
  ctx.log.info(`App ${ctx.app} is running again after ${formatInputDuration(waitedMs)}; promoting`);
  return { app, waitedMs };
}

function notPromotable(ctx: FlowContext, status: string): ActionError {
  return new ActionError(
    `app ${ctx.app} is ${status} on ${ctx.rack}, so no release can be promoted`,
    { phase: 'deploy' },
    status === 'failed'
      ? `the app's last update failed to roll back (v2 stack in a failed state); repair it on the rack, then re-run`
      : 'the app is being deleted; nothing to deploy to',
  );
}

/**
 * Promotes `releaseId` once the app is idle. A 403 "currently updating" (someone started an
 * update between our read and our promote) means the rack refused, so we wait and try again.
 * A lost answer, or a 5xx one (a proxy's 502 after the rack acted, a rack that failed half-way),
 * may hide a promote that landed: it is not repeated, and the rollout watch finds out.
 * @returns the release active before ours, how long we waited, and (when the answer was lost or
 * 5xx) what became of it, for the message if the app then shows no sign of our release.
 */
export async function promote(
  ctx: FlowContext,
  releaseId: string,
): Promise<{ previous?: string; waitedMs: number; unanswered?: string }> {
  let waitedMs = 0;
  for (let attempt = 1; ; attempt++) {
    const idle = await waitUntilIdle(ctx, releaseId);
    waitedMs += idle.waitedMs;
    const previous = idle.app.release || undefined;
    if (previous) ctx.ids.previousReleaseId = previous;
    at(
      ctx,
      () => `promoting release ${releaseId} (the request may have reached the rack, so ${releaseId} may still become active)`,
    );
    try {
      await ctx.client.post(
        appPath(ctx.app, `/releases/${encodeURIComponent(releaseId)}/promote`),
        ctx.generation === 'v3' ? { force: false } : {},
        {
          what: `promote release ${releaseId}`,
          app: ctx.app,
        },
      );
      ctx.log.info(`Promoted ${releaseId} on ${ctx.rack}${previous ? ` (replacing ${previous})` : ''}`);
      return { previous, waitedMs };
    } catch (e) {
      if (e instanceof RackError && e.status === 403 && /currently updating/i.test(e.rackMessage) && attempt < PROMOTE_ATTEMPTS) {
        ctx.log.info(`The rack refused the promote: ${e.rackMessage}; waiting again`);
        continue;
      }
      if (e instanceof ActionError && e.cause instanceof TransportError && e.cause.sent) {
        // The rack may have acted; never promote twice. The rollout watch tells us what happened.
        ctx.log.warning(`The answer to the promote of ${releaseId} was lost; not repeating it, watching the app instead`);
        return { previous, waitedMs, unanswered: `the answer to the promote of ${releaseId} was lost` };
      }
      if (e instanceof RackError && e.status >= 500) {
        const said = `the rack answered ${e.status} to the promote of ${releaseId} (${e.rackMessage})`;
        ctx.log.warning(`${said}; it may have acted on it anyway, so it is not repeated; watching the app instead`);
        return { previous, waitedMs, unanswered: said };
      }
      throw e;
    }
  }
}

/**
 * Watches the app after promoting `ours` until the verdict is in. Throws with the rack's
 * events and process states when it rolled back, was replaced, or stopped.
 */
export async function waitForRollout(
  ctx: FlowContext,
  ours: string,
  previous: string | undefined,
  unanswered: string | undefined,
  limits: VerdictLimits = DEFAULT_LIMITS,
): Promise<void> {
  const state = startRollout(ours, previous, ctx.now());
  const nudge = new Nudge();
  const events = new RackEvents(ctx, () => nudge.wake());
  ctx.tail = () => events.tail();
  events.start();
  let last: RackApp = {};
  at(ctx, () => {
    const event = events.tail(1)[0];
    const seen =
      last.status === undefined ? 'the app not read yet' : `app status ${last.status}, active release ${last.release || 'none'}`;
    return `release ${ours} was still rolling out (${seen}) after ${formatInputDuration(ctx.now() - state.promotedAt)}${event ? `; last rack event: ${event}` : ''}`;
  });
  try {
    for (let n = 0; ; n++) {
      last = await readApp(ctx);
      // A rollout can start and revert between two polls; the rack's events still show it began.
      if (!state.sawUpdate && events.mentioned(ours)) state.sawUpdate = true;
      const verdict = judge(state, { status: last.status ?? '', release: last.release ?? '' }, ctx.now(), limits);
      if (verdict.kind === 'deployed') return;
      if (verdict.kind !== 'wait' && verdict.kind !== 'confirm') {
        await ctx.sleep(300, ctx.deadline.signal); // let the last rack events arrive
        throw await rolloutFailed(ctx, verdict, state.previous, state.sawUpdate ? undefined : unanswered, events);
      }
      // A rack event means the state just changed: read now rather than at the next tick.
      if (verdict.kind === 'confirm') await ctx.sleep(CONFIRM_MS, ctx.deadline.signal);
      else await nudge.wait(ctx.sleep, pollDelayMs(ROLLOUT_POLL, n, ctx.now() - state.promotedAt), ctx.deadline.signal);
    }
  } finally {
    await events.stop();
  }
}

async function rolloutFailed(
  ctx: FlowContext,
  verdict: Verdict,
  previous: string | undefined,
  unanswered: string | undefined,
  events: RackEvents,
): Promise<ActionError> {
  const ours = ctx.ids.releaseId ?? '?';
  const processes = await describeProcesses(ctx);
  await events.stop();
  const lines = events.tail();
  const details =
    (lines.length ? `\nrack events:\n${lines.map((l) => `  | ${l}`).join('\n')}` : '\n(no rack events were received)') +
    (processes.length ? `\nprocesses:\n${processes.map((l) => `  | ${l}`).join('\n')}` : '');
  const fix = `read the rack events above for why ${ours} did not become healthy (failing health check, crash on start, missing env); the app's own output: convox logs --app ${ctx.app}`;
  if (unanswered) {
    return new ActionError(
      `${unanswered} and ${ctx.app} shows no sign of that deploy (active release ${verdict.kind === 'rolled-back' || verdict.kind === 'replaced' ? verdict.active || 'none' : '?'}); the promote was not repeated${details}`,
      { phase: 'deploy' },
      `if the rack's words say why (a missing env variable, say), fix that and re-run; otherwise promote it by hand if wanted: convox releases promote ${ours} --app ${ctx.app}`,
    );
  }
  switch (verdict.kind) {
    case 'rolled-back': {
      const to = verdict.active && verdict.active !== ours ? verdict.active : previous;
      const named = to ? `${to}${to === previous ? ' (the release active before this deploy)' : ''}` : 'its previous release';
      const state = verdict.settled ? `${ctx.app} is running it again` : `${ctx.app} is still rolling back`;
      return new ActionError(
        `release ${ours} was rolled back to ${named} on ${ctx.rack}: ${state}${details}`,
        { phase: 'deploy' },
        fix,
      );
    }
    case 'replaced':
      return new ActionError(
        `release ${ours} is not active on ${ctx.rack}: ${ctx.app} is running ${verdict.active || 'no release'}, which someone else promoted during this deploy (before it: ${previous ?? 'none'})${details}`,
        { phase: 'deploy' },
        'check who else deploys this app; re-run when they are done',
      );
    case 'stopped': {
      const why =
        {
          failed: ' (the update failed and so did its rollback)',
          deleting: ' (someone is deleting it)',
          unknown: ' (the rack cannot tell its state)',
        }[verdict.status] ?? '';
      const active = verdict.active ? `, active release ${verdict.active}` : '';
      return new ActionError(
        `release ${ours} did not roll out on ${ctx.rack}: ${ctx.app} is ${verdict.status}${why}${active}${details}`,
        { phase: 'deploy' },
        fix,
      );
    }
    default:
      return new ActionError(`release ${ours} did not roll out on ${ctx.rack}${details}`, { phase: 'deploy' }, fix);
  }
}
