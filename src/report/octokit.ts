/**
 * The real GitHub API over @actions/github's Octokit. In its own module so that Octokit (and
 * its HTTP stack) is loaded only by runs that talk to GitHub: it is a large share of start-up.
 */
import { getOctokit } from '@actions/github';
import type { GitHubDeploymentsApi, GitHubIssuesApi, RepoRef } from './github-api.js';

/**
 * Both APIs over Octokit. Every request has a deadline: a stalled GitHub must not hold the
 * step (and the deploy it reports on) hostage.
 */
export function createGitHubApi(
  token: string,
  opts: { baseUrl: string; timeoutMs?: number },
): GitHubIssuesApi & GitHubDeploymentsApi {
  const octokit = getOctokit(token, { baseUrl: opts.baseUrl.replace(/\/+$/, '') });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const request = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(timeoutMs) });
  return { ...issuesApi(octokit, request), ...deploymentsApi(octokit, request) };
}

type Octokit = ReturnType<typeof getOctokit>;
type RequestOptions = () => { signal: AbortSignal };

function issuesApi(octokit: Octokit, request: RequestOptions): GitHubIssuesApi {
  return {
    async listComments(issue, page) {
      const res = await octokit.rest.issues.listComments({
        ...repoOf(issue),
        issue_number: issue.issueNumber,
        per_page: 100,
        page,
        request: request(),
      });
      const comments = res.data.map((c) => ({
        id: c.id,
        body: c.body ?? '',
        author: c.user?.login || undefined,
      }));
      return { comments, hasNext: /\brel="next"/.test(res.headers.link ?? '') };
    },
    async createComment(issue, body) {
      const res = await octokit.rest.issues.createComment({
        ...repoOf(issue),
        issue_number: issue.issueNumber,
        body,
        request: request(),
      });
      return { id: res.data.id };
    },
    async updateComment(repo, commentId, body) {
      await octokit.rest.issues.updateComment({ ...repoOf(repo), comment_id: commentId, body, request: request() });
    },
  };
}

function deploymentsApi(octokit: Octokit, request: RequestOptions): GitHubDeploymentsApi {
  return {
    async createDeployment(repo, input) {
      const res = await octokit.rest.repos.createDeployment({
        ...repoOf(repo),
        ref: input.ref,
        environment: input.environment,
        description: input.description,
        // GitHub would otherwise merge the default branch into `ref`, and refuse while this
        // very workflow's checks are still pending.
        auto_merge: false,
        required_contexts: [],
        request: request(),
      });
      if (!('id' in res.data) || typeof res.data.id !== 'number')
        throw new Error(`GitHub created no deployment (HTTP ${res.status})`);
      return { id: res.data.id };
    },
    async createDeploymentStatus(repo, deploymentId, status) {
      await octokit.rest.repos.createDeploymentStatus({
        ...repoOf(repo),
        deployment_id: deploymentId,
        state: status.state,
        description: status.description,
        environment_url: status.environmentUrl,
        log_url: status.logUrl,
        request: request(),
      });
    },
  };
}

function repoOf(r: RepoRef): { owner: string; repo: string } {
  return { owner: r.owner, repo: r.repo };
}
