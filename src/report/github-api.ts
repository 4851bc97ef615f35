/**
 * The few GitHub REST calls the reports make, behind two small interfaces so the sticky comment
 * and the deployment logic can be tested against a stand-in server (or any fake) and so the
 * rest of the action never touches Octokit. The real implementation uses @actions/github's
 * Octokit with an explicit `baseUrl` (`GITHUB_API_URL` on GitHub Enterprise Server and in tests).
 */
import { getOctokit } from '@actions/github';
import { firstLine } from './markdown.js';

/** A repository. */
export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

/** An issue or pull request (they share the comments API). */
export interface IssueRef extends RepoRef {
  readonly issueNumber: number;
}

export interface IssueComment {
  readonly id: number;
  readonly body: string;
  /** The author's login, when GitHub says. */
  readonly author?: string;
}

export interface CommentPage {
  readonly comments: readonly IssueComment[];
  /** True when GitHub's `Link` header names a next page. */
  readonly hasNext: boolean;
}

/** Issue comments: list (paginated), create, update. */
export interface GitHubIssuesApi {
  /** One page (1-based, oldest comments first, 100 a page) of an issue's or PR's comments. */
  listComments(issue: IssueRef, page: number): Promise<CommentPage>;
  createComment(issue: IssueRef, body: string): Promise<{ id: number }>;
  updateComment(repo: RepoRef, commentId: number, body: string): Promise<void>;
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive' | 'queued' | 'pending';

export interface DeploymentStatusInput {
  readonly state: DeploymentState;
  /** At most 140 characters (GitHub answers 422 beyond that). */
  readonly description: string;
  readonly environmentUrl?: string;
  readonly logUrl?: string;
}

/** Deployments and their statuses. */
export interface GitHubDeploymentsApi {
  createDeployment(repo: RepoRef, input: { ref: string; environment: string; description: string }): Promise<{ id: number }>;
  createDeploymentStatus(repo: RepoRef, deploymentId: number, status: DeploymentStatusInput): Promise<void>;
}

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** The REST API root: `GITHUB_API_URL` (set by the runner, also on GHES), else api.github.com. */
export function githubApiUrl(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_API_URL?.trim() || DEFAULT_GITHUB_API_URL;
}

/**
 * Both APIs over Octokit. Every request has a deadline: a stalled GitHub must not hold the
 * step (and the deploy it reports on) hostage.
 */
export function createGitHubApi(token: string, opts: { baseUrl: string; timeoutMs?: number }): GitHubIssuesApi & GitHubDeploymentsApi {
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
      const res = await octokit.rest.issues.listComments({ ...repoOf(issue), issue_number: issue.issueNumber, per_page: 100, page, request: request() });
      const comments = res.data.map((c) => ({ id: c.id, body: c.body ?? '', ...(c.user?.login ? { author: c.user.login } : {}) }));
      return { comments, hasNext: /\brel="next"/.test(res.headers.link ?? '') };
    },
    async createComment(issue, body) {
      const res = await octokit.rest.issues.createComment({ ...repoOf(issue), issue_number: issue.issueNumber, body, request: request() });
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
      if (!('id' in res.data) || typeof res.data.id !== 'number') throw new Error(`GitHub created no deployment (HTTP ${res.status})`);
      return { id: res.data.id };
    },
    async createDeploymentStatus(repo, deploymentId, status) {
      await octokit.rest.repos.createDeploymentStatus({
        ...repoOf(repo),
        deployment_id: deploymentId,
        state: status.state,
        description: status.description,
        ...(status.environmentUrl ? { environment_url: status.environmentUrl } : {}),
        ...(status.logUrl ? { log_url: status.logUrl } : {}),
        request: request(),
      });
    },
  };
}

function repoOf(r: RepoRef): { owner: string; repo: string } {
  return { owner: r.owner, repo: r.repo };
}

interface HttpFailure {
  status?: unknown;
  message?: unknown;
  response?: { data?: unknown; headers?: Record<string, unknown> };
}

/** The HTTP status of a failed call; undefined when no answer came (network, timeout). */
export function failureStatus(e: unknown): number | undefined {
  const f = (typeof e === 'object' && e !== null ? e : {}) as HttpFailure;
  // Octokit reports network errors as status 500 without a response: no answer at all.
  if (typeof f.status !== 'number' || !f.response) return undefined;
  return f.status;
}

function failureMessage(e: unknown): string {
  const f = (typeof e === 'object' && e !== null ? e : {}) as HttpFailure;
  const data = f.response?.data;
  const apiMessage = typeof data === 'object' && data !== null && 'message' in data ? (data as { message: unknown }).message : undefined;
  const text = typeof apiMessage === 'string' ? apiMessage : typeof f.message === 'string' ? f.message : String(e);
  return firstLine(text, 200) || 'no message';
}

/**
 * Why a GitHub call failed, in words a person can act on, naming the workflow permission the
 * call needs (e.g. `pull-requests: write`).
 */
export function describeGitHubFailure(e: unknown, permission: string): string {
  const status = failureStatus(e);
  const message = failureMessage(e);
  if (status === undefined) return `could not reach the GitHub API (${message})`;
  if (status === 401) return `GitHub rejected the token (401: ${message}); check the github-token input`;
  if (status === 429 || (status === 403 && /rate limit/i.test(message))) return `GitHub's API rate limit was hit (${status}: ${message})`;
  if (status === 403) {
    return `GitHub refused (403: ${message}). The token cannot write here: in pull requests from forks GITHUB_TOKEN is read-only; otherwise give the job \`permissions: ${permission}\``;
  }
  if (status === 404) {
    return `GitHub answered 404 (${message}), which is how it answers tokens that may not see the repository or pull request; give the job \`permissions: ${permission}\``;
  }
  return `GitHub answered ${status}: ${message}`;
}
