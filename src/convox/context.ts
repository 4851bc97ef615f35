/**
 * What every deploy phase needs, handed down explicitly: the client, the app, the clock, the
 * deadline, and two pieces of shared state — the ids learned so far (reported even on failure)
 * and a description of where we are (so a timeout can say where it stuck).
 */
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import type { RackClient } from './client.js';
import type { Deadline, Sleep } from './timing.js';
import type { RackGeneration } from './version.js';

/** Ids known so far; reported on failure as `.partial`. */
export interface DeployIds {
  buildId?: string;
  releaseId?: string;
  previousReleaseId?: string;
}

export interface FlowContext {
  client: RackClient;
  app: string;
  /** The rack's name for messages. */
  rack: string;
  generation: RackGeneration;
  version: string;
  log: Log;
  secrets: Secrets;
  deadline: Deadline;
  now: () => number;
  sleep: Sleep;
  ids: DeployIds;
  /** Reports a phase change and the ids so far. */
  progress: (phase: string) => void;
  /** Says where the deploy is, for a timeout message; phases replace it as they go. */
  where: () => string;
  /** The rack's latest log lines (build log, then rollout events), for a failure report. */
  tail: () => string[];
}

/** Replaces the "where are we" description. */
export function at(ctx: FlowContext, where: () => string): void {
  ctx.where = where;
}
