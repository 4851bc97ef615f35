/**
 * The few GitHub REST calls the reports make, behind two small interfaces so the sticky comment
 * and the deployment logic can be tested against a stand-in server (or any fake) and so the
 * rest of the action never touches Octokit. The real implementation uses @actions/github's
 * Octokit with an explicit `baseUrl` (`GITHUB_API_URL` on GitHub Enterprise Server and in tests).
 */
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
  const apiMessage =
    typeof data === 'object' && data !== null && 'message' in data ? (data as { message: unknown }).message : undefined;
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
  if (status === 429 || (status === 403 && /rate limit/i.test(message)))
    return `GitHub's API rate limit was hit (${status}: ${message})`;
  if (status === 403) {
    return `GitHub refused (403: ${message}). The token cannot write here: in pull requests from forks GITHUB_TOKEN is read-only; otherwise give the job \`permissions: ${permission}\``;
  }
  if (status === 404) {
    return `GitHub answered 404 (${message}), which is how it answers tokens that may not see the repository or pull request; give the job \`permissions: ${permission}\``;
  }
  return `GitHub answered ${status}: ${message}`;
}

interface HttpFailure {
  status?: unknown;
  message?: unknown;
  response?: { data?: unknown; headers?: Record<string, unknown> };
}
