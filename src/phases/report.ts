import type { Config } from '../config/config.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import type { RunReport } from '../plan/types.js';
import { commentMarker, renderPlanComment, upsertStickyComment } from '../report/comment.js';
import { finishDeployment, startDeployment, type DeploymentHandle } from '../report/deployment.js';
import { githubApiUrl, type GitHubDeploymentsApi, type GitHubIssuesApi } from '../report/github-api.js';
import { renderSummary } from '../report/summary.js';

export interface ReportDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly secrets: Secrets;
  readonly writeSummary: (markdown: string) => Promise<void>;
}

/** The GitHub API client; Octokit is loaded only when a run talks to GitHub (it costs start-up time). */
async function api(config: Config, deps: ReportDeps): Promise<(GitHubIssuesApi & GitHubDeploymentsApi) | undefined> {
  const token = config.report.githubToken;
  if (!token) return undefined;
  const { createGitHubApi } = await import('../report/octokit.js');
  return createGitHubApi(token, { baseUrl: githubApiUrl(deps.env) });
}

function repoOf(config: Config): { owner: string; repo: string } | undefined {
  const [owner, repo] = (config.github.repository ?? '').split('/');
  return owner && repo ? { owner, repo } : undefined;
}

/** Opens the optional GitHub Deployment (input `environment`) before a real deploy. */
export async function startGitHubDeployment(
  config: Config,
  deps: ReportDeps,
  logUrl?: string,
): Promise<DeploymentHandle | undefined> {
  const environment = config.report.environment;
  const repo = repoOf(config);
  const client = environment && !config.dryRun ? await api(config, deps) : undefined;
  if (!environment || config.dryRun || !repo || !client) {
    if (environment && !config.dryRun && !client)
      deps.log.warning(`No github-token: the GitHub deployment for '${environment}' is not created.`);
    return undefined;
  }
  return startDeployment(client, {
    ...repo,
    ref: config.github.sha,
    environment,
    description: `Convox ${config.deploy?.app ?? 'deploy'} ${config.tags[0] ?? ''}`.trim(),
    logUrl,
    log: deps.log,
  });
}

/** Writes the job summary, the sticky PR comment (dry runs on PRs) and closes the deployment. */
export async function reportRun(config: Config, run: RunReport, deps: ReportDeps, deployment?: DeploymentHandle): Promise<void> {
  const consoleHost = config.deploy?.rackHost ?? (config.deploy ? 'console.convox.com' : undefined);
  await deps.writeSummary(deps.secrets.redact(renderSummary(run, { consoleHost })));
  const pr = config.github.prNumber;
  const wantsComment = config.dryRun && config.report.comment && pr !== undefined;
  const client = deployment || wantsComment ? await api(config, deps) : undefined;
  const repo = repoOf(config);
  if (deployment && client) {
    await finishDeployment(client, deployment, run.outcome === 'success' ? 'success' : 'failure', {
      environmentUrl: config.report.environmentUrl,
      logUrl: run.runUrl,
      description: run.outcome === 'success' ? `Deployed ${run.releaseId ?? ''}`.trim() : `Failed: ${run.error ?? ''}`,
      log: deps.log,
    });
  }
  if (!wantsComment || pr === undefined || !repo) return;
  if (!client) {
    deps.log.warning('No github-token: the plan is in the job summary but not posted as a PR comment.');
    return;
  }
  const key = { app: config.deploy?.app, manifest: config.update.manifestFile };
  const failedPhase = run.phases.find((p) => p.status === 'failed')?.name;
  const failure =
    run.outcome === 'failure' ? { phase: failedPhase ?? 'unknown', error: run.error ?? 'unknown error' } : undefined;
  const body = deps.secrets.redact(
    renderPlanComment(run.plan, key, {
      sha: run.sha,
      steps: run.steps,
      runUrl: run.runUrl,
      failure,
    }),
  );
  const result = await upsertStickyComment(client, { ...repo, issueNumber: pr, body, marker: commentMarker(key), log: deps.log });
  if (result !== 'skipped') deps.log.info(`PR comment ${result}.`);
}
