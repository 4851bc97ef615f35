/**
 * App status over time after a promote (doc §2.4, §2.4): `running` for `statusLagMs` (the
 * annotation mirror / CloudFormation start), `updating` with the new release for `promoteMs`,
 * then `running` — or one of the fault outcomes. System events go to the app log feed.
 */
import type { PromoteFault } from './faults.js';
import type { Rack } from './rack.js';
import type { AppRecord } from './types.js';

interface Update {
  timers: NodeJS.Timeout[];
  previous: string;
}

const updates = new WeakMap<AppRecord, Update>();

/** A deployment is pending or running for this app (including the lag before `updating`). */
export function isDeploying(app: AppRecord): boolean {
  return updates.has(app) || app.status === 'updating' || app.status === 'rollback';
}

/** Start the asynchronous rollout of `releaseId`; validation has already passed. */
export function startPromote(rack: Rack, app: AppRecord, releaseId: string): void {
  stop(rack, app);
  const fault = rack.faults.takePromote(app.name);
  const u: Update = { timers: [], previous: app.release };
  updates.set(app, u);
  const { statusLagMs: lag, promoteMs } = rack.timing;
  at(rack, u, lag, () => {
    app.status = 'updating';
    app.release = releaseId;
    event(rack, app, 'updating', releaseId);
    serviceLines(rack, app, releaseId);
  });
  if (fault?.outcome === 'superseded') {
    at(rack, u, lag + promoteMs / 2, () => supersede(rack, app, releaseId));
  }
  at(rack, u, lag + promoteMs, () => settle(rack, app, u, fault));
}

function settle(rack: Rack, app: AppRecord, u: Update, fault: PromoteFault | undefined): void {
  const outcome = fault?.outcome;
  if (outcome === 'rollback' || outcome === 'failed') {
    app.status = 'rollback';
    event(rack, app, 'rollback', app.release);
    at(rack, u, rack.timing.rollbackMs, () => {
      app.release = u.previous;
      app.status = outcome === 'failed' ? 'failed' : 'running';
      event(rack, app, outcome === 'failed' ? 'failed' : 'reverted', u.previous);
      updates.delete(app);
    });
    return;
  }
  if (outcome === 'fast-rollback') app.release = u.previous;
  app.status = 'running';
  event(rack, app, outcome === 'fast-rollback' ? 'reverted' : 'running', app.release);
  updates.delete(app);
}

/** Someone else creates and promotes a newer release while ours rolls out. */
function supersede(rack: Rack, app: AppRecord, ours: string): void {
  const base = rack.state.findRelease(app, ours);
  const theirs = rack.state.addRelease(app, {
    build: base?.build ?? '',
    env: base?.env ?? '',
    manifest: base?.manifest ?? '',
    description: 'promoted by someone else',
  });
  app.release = theirs.id;
  event(rack, app, 'updating', theirs.id);
}

/** `POST /apps/{app}/cancel`: roll back to what was active before, via `rollback`. */
export function cancelUpdate(rack: Rack, app: AppRecord): void {
  const previous = updates.get(app)?.previous ?? app.release;
  stop(rack, app);
  const u: Update = { timers: [], previous };
  updates.set(app, u);
  app.status = 'rollback';
  event(rack, app, 'rollback', app.release);
  at(rack, u, rack.timing.rollbackMs, () => {
    app.release = previous;
    app.status = 'running';
    event(rack, app, 'reverted', previous);
    updates.delete(app);
  });
}

/** Someone else's deployment keeps the app `updating` for `ms`. */
export function markUpdating(rack: Rack, app: AppRecord, ms: number): void {
  stop(rack, app);
  const u: Update = { timers: [], previous: app.release };
  updates.set(app, u);
  app.status = 'updating';
  event(rack, app, 'updating', app.release);
  at(rack, u, ms, () => {
    app.status = 'running';
    event(rack, app, 'running', app.release);
    updates.delete(app);
  });
}

function stop(rack: Rack, app: AppRecord): void {
  const u = updates.get(app);
  if (!u) return;
  for (const t of u.timers) rack.timers.cancel(t);
  updates.delete(app);
}

function at(rack: Rack, u: Update, ms: number, fn: () => void): void {
  u.timers.push(rack.timers.after(ms, fn));
}

type Phase = 'updating' | 'running' | 'rollback' | 'reverted' | 'failed';

const V3_STATES: Record<Phase, string> = {
  updating: 'Updating',
  running: 'Running',
  rollback: 'Rollback',
  reverted: 'Reverted',
  failed: 'Failure',
};

const V2_STATES: Record<Phase, string> = {
  updating: 'UPDATE_IN_PROGRESS',
  running: 'UPDATE_COMPLETE',
  rollback: 'UPDATE_ROLLBACK_IN_PROGRESS',
  reverted: 'UPDATE_ROLLBACK_COMPLETE',
  failed: 'UPDATE_ROLLBACK_FAILED',
};

/** A `system/…` line as the CLI's wait loop prints them (second field starts with `system/`). */
function event(rack: Rack, app: AppRecord, phase: Phase, release: string): void {
  if (rack.mode === 'v3') {
    app.logs.add(`system/k8s/atom/app`, `Status: ${V3_STATES[phase]} release=${release}`);
  } else {
    const stack = `${rack.state.system.name}-${app.name}`;
    app.logs.add('system/aws/cfm', `${stack} ${V2_STATES[phase]} ${stack} release=${release}`);
  }
}

/** New pods say hello, so followers see non-system lines they must skip. */
function serviceLines(rack: Rack, app: AppRecord, release: string): void {
  const pod = `web-${release.slice(1, 6).toLowerCase()}`;
  if (rack.mode === 'v3') app.logs.add(`system/k8s/${pod}`, `Scaled up replica set ${pod} to 1`);
  app.logs.add(`service/web/${pod}`, `starting release ${release}`);
}
