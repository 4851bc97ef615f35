/**
 * Reading a rollout from successive app polls. Pure: the loop in rollout.ts feeds it
 * observations and acts on the verdicts.
 *
 * Rules (the CLI's, made stricter and faster, docs/rack-api.md §2.4 and §2.4):
 * - success: two consecutive reads of `running` with `release` equal to ours;
 * - `rollback` status seen: rolled back (we keep polling a little so the message can say
 *   whether the rack is still reverting or done);
 * - `running` on another release after the app was seen updating: rolled back (if it is the
 *   previous release) or replaced (someone else's release became active);
 * - `running` on another release and no update ever seen: the status may lag the promote, so
 *   this counts only after a grace period (a fast rollback can finish between two polls);
 * - v2 `failed` (stack rolled back and stuck) and `deleting` end at once; v3 `unknown` is
 *   tolerated for a while, then reported.
 */

export interface Observation {
  status: string;
  release: string;
}

export interface RolloutState {
  readonly ours: string;
  readonly previous: string | undefined;
  readonly promotedAt: number;
  sawUpdate: boolean;
  rollbackSince: number | undefined;
  unknownSince: number | undefined;
  runningOurs: number;
}

export type Verdict =
  | { kind: 'wait' }
  | { kind: 'confirm' }
  | { kind: 'deployed' }
  | { kind: 'rolled-back'; active: string; settled: boolean; observed: boolean }
  | { kind: 'replaced'; active: string }
  | { kind: 'stopped'; status: string; active: string };

export interface VerdictLimits {
  /** How long `running` on the old release is read as "not started yet" (status lag). */
  graceMs: number;
  /** How long we watch a `rollback` settle before reporting it anyway. */
  rollbackSettleMs: number;
  /** How long v3 `unknown` is tolerated. */
  unknownMs: number;
}

export const DEFAULT_LIMITS: VerdictLimits = { graceMs: 15_000, rollbackSettleMs: 20_000, unknownMs: 60_000 };

export function startRollout(ours: string, previous: string | undefined, promotedAt: number): RolloutState {
  return { ours, previous, promotedAt, sawUpdate: false, rollbackSince: undefined, unknownSince: undefined, runningOurs: 0 };
}

/** Updates `state` with one observation and says what to do next. */
export function judge(state: RolloutState, obs: Observation, now: number, limits: VerdictLimits = DEFAULT_LIMITS): Verdict {
  if (obs.status !== 'unknown') state.unknownSince = undefined;
  if (obs.status !== 'running') state.runningOurs = 0;
  switch (obs.status) {
    case 'running':
      return judgeRunning(state, obs.release, now, limits);
    case 'updating':
      state.sawUpdate = true;
      return { kind: 'wait' };
    case 'rollback':
      state.rollbackSince ??= now;
      return now - state.rollbackSince >= limits.rollbackSettleMs
        ? { kind: 'rolled-back', active: obs.release, settled: false, observed: true }
        : { kind: 'wait' };
    case 'failed':
    case 'deleting':
      return { kind: 'stopped', status: obs.status, active: obs.release };
    case 'unknown':
      state.unknownSince ??= now;
      return now - state.unknownSince >= limits.unknownMs
        ? { kind: 'stopped', status: 'unknown', active: obs.release }
        : { kind: 'wait' };
    default:
      // creating, new, or a status a newer rack invented: nothing to conclude yet.
      return { kind: 'wait' };
  }
}

function judgeRunning(state: RolloutState, release: string, now: number, limits: VerdictLimits): Verdict {
  const observed = state.sawUpdate || state.rollbackSince !== undefined;
  if (release === state.ours && state.rollbackSince === undefined) {
    state.runningOurs++;
    return state.runningOurs >= 2 ? { kind: 'deployed' } : { kind: 'confirm' };
  }
  state.runningOurs = 0;
  if (!observed && now - state.promotedAt < limits.graceMs) return { kind: 'wait' };
  if (release === state.ours || release === state.previous || state.rollbackSince !== undefined) {
    return { kind: 'rolled-back', active: release, settled: true, observed };
  }
  return { kind: 'replaced', active: release };
}
