import { readFileSync } from 'node:fs';

/** What the action needs to know about the workflow run, read from the runner's environment. */
export interface GitHubContext {
  readonly eventName: string;
  /** The commit the image is built from: on pull_request events the PR head, not the merge commit. */
  readonly sha: string;
  readonly ref: string;
  /** Branch name (PR head branch on pull_request events); undefined on tag pushes. */
  readonly branch?: string;
  readonly runNumber?: string;
  readonly runId?: string;
  readonly repository?: string;
  readonly serverUrl: string;
  readonly apiUrl: string;
  readonly workspace: string;
  readonly prNumber?: number;
  /** True when the PR comes from a fork (no secrets, read-only token). */
  readonly fromFork: boolean;
}

interface PullRequestPayload {
  pull_request?: { number?: number; head?: { sha?: string; ref?: string; repo?: { full_name?: string } } };
}

function readPayload(path: string | undefined): PullRequestPayload {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PullRequestPayload;
  } catch {
    // A missing or unreadable event file is normal outside Actions (local runs).
    return {};
  }
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);

/** True on the events where `dry-run: auto` means a dry run. */
export function isPullRequestEvent(eventName: string): boolean {
  return PR_EVENTS.has(eventName);
}

/**
 * Builds the context from GITHUB_* variables and the event payload. An empty variable counts as
 * unset: the runner exports GITHUB_HEAD_REF empty on every event but pull requests.
 */
export function readGitHubContext(env: NodeJS.ProcessEnv, cwd: string): GitHubContext {
  const set = (name: string): string | undefined => env[name] || undefined;
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const pr = PR_EVENTS.has(eventName) ? payload.pull_request : undefined;
  const ref = env.GITHUB_REF ?? '';
  const branch = pr?.head?.ref || set('GITHUB_HEAD_REF') || (ref.startsWith('refs/heads/') ? ref.slice(11) : undefined);
  const repository = set('GITHUB_REPOSITORY');
  return {
    eventName,
    sha: pr?.head?.sha ?? env.GITHUB_SHA ?? '',
    ref,
    branch,
    runNumber: set('GITHUB_RUN_NUMBER'),
    runId: set('GITHUB_RUN_ID'),
    repository,
    serverUrl: set('GITHUB_SERVER_URL') ?? 'https://github.com',
    apiUrl: set('GITHUB_API_URL') ?? 'https://api.github.com',
    workspace: set('GITHUB_WORKSPACE') ?? cwd,
    prNumber: pr?.number || undefined,
    fromFork: Boolean(pr?.head?.repo?.full_name && repository && pr.head.repo.full_name !== repository),
  };
}
