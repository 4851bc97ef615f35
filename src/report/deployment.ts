/**
 * An optional GitHub Deployment (input `environment`) mirroring the Convox deploy: created
 * `in_progress` before the rack is touched, then marked `success` or `failure`. It is a side
 * channel: when GitHub refuses or is unreachable we warn and the deploy carries on.
 */
import type { Log } from '../log.js';
import { describeGitHubFailure, type GitHubDeploymentsApi, type RepoRef } from './github-api.js';

/** A deployment that was created; pass it to `finishDeployment`. */
export interface DeploymentHandle extends RepoRef {
  readonly id: number;
  readonly environment: string;
}

export interface StartDeploymentOptions extends RepoRef {
  /** The commit being deployed (the PR head on pull_request events). */
  readonly ref: string;
  readonly environment: string;
  readonly description: string;
  /** This workflow run, shown as the deployment's log. */
  readonly logUrl?: string;
  readonly log: Log;
}

export interface FinishDeploymentOptions {
  /** Where the deployed app answers, shown as "View deployment". */
  readonly environmentUrl?: string;
  readonly logUrl?: string;
  readonly description: string;
  readonly log: Log;
}

const PERMISSION = 'deployments: write';
// GitHub answers 422 to longer status descriptions.
const MAX_DESCRIPTION = 140;

/**
 * Creates the deployment and marks it `in_progress`. Returns undefined (after one warning) when
 * it could not be created; `finishDeployment` accepts that and does nothing.
 */
export async function startDeployment(
  api: GitHubDeploymentsApi,
  opts: StartDeploymentOptions,
): Promise<DeploymentHandle | undefined> {
  const repo: RepoRef = { owner: opts.owner, repo: opts.repo };
  let id: number;
  try {
    ({ id } = await api.createDeployment(repo, {
      ref: opts.ref,
      environment: opts.environment,
      description: clip(opts.description),
    }));
  } catch (e) {
    opts.log.warning(
      `Could not create a GitHub deployment for environment '${opts.environment}': ${describeGitHubFailure(e, PERMISSION)}. The Convox deploy goes ahead.`,
    );
    return undefined;
  }
  const handle: DeploymentHandle = { ...repo, id, environment: opts.environment };
  await setStatus(api, handle, { state: 'in_progress', description: clip(opts.description), logUrl: opts.logUrl }, opts.log);
  return handle;
}

/** Marks the deployment `success` or `failure`; a no-op for a deployment that was never created. */
export async function finishDeployment(
  api: GitHubDeploymentsApi,
  handle: DeploymentHandle | undefined,
  state: 'success' | 'failure',
  opts: FinishDeploymentOptions,
): Promise<void> {
  if (!handle) return;
  await setStatus(
    api,
    handle,
    {
      state,
      description: clip(opts.description),
      environmentUrl: opts.environmentUrl,
      logUrl: opts.logUrl,
    },
    opts.log,
  );
}

async function setStatus(
  api: GitHubDeploymentsApi,
  handle: DeploymentHandle,
  status: Parameters<GitHubDeploymentsApi['createDeploymentStatus']>[2],
  log: Log,
): Promise<void> {
  try {
    await api.createDeploymentStatus(handle, handle.id, status);
  } catch (e) {
    log.warning(
      `Could not mark GitHub deployment ${handle.id} (${handle.environment}) as ${status.state}: ${describeGitHubFailure(e, PERMISSION)}.`,
    );
  }
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DESCRIPTION ? `${line.slice(0, MAX_DESCRIPTION - 1)}…` : line;
}
