/**
 * The plan as one sticky PR comment per app and manifest: created on the first dry run of a
 * pull request, edited in place on every later push, never duplicated. A hidden marker in the
 * first line is how the comment is found again.
 */
import type { Log } from '../log.js';
import type { StepOutcome } from '../plan/steps.js';
import type { Plan } from '../plan/types.js';
import { consoleLink } from './console.js';
import { describeGitHubFailure, type GitHubIssuesApi, type IssueComment, type IssueRef } from './github-api.js';
import { code, escapeText, fenced, link } from './markdown.js';
import {
  changeSection,
  dryRunStepStatus,
  recordedStepStatus,
  imageSection,
  joinSections,
  notesSection,
  rackSection,
  stepsSection,
} from './plan-sections.js';

/** What makes one sticky comment distinct from another on the same PR. */
export interface CommentKey {
  readonly app?: string;
  readonly manifest?: string;
}

/** Extra context for the comment's footer. */
export interface CommentContext {
  /** The PR head commit the plan was made for. */
  readonly sha?: string;
  readonly runUrl?: string;
  /** Set when the dry run failed (a broken Dockerfile, an invalid manifest): shown first. */
  readonly failure?: { readonly phase: string; readonly error: string };
  /** How each plan step fared (the run's record); without it the steps read as planned. */
  readonly steps?: readonly StepOutcome[];
}

export type UpsertResult = 'created' | 'updated' | 'unchanged' | 'skipped';

// GitHub refuses comment bodies over 65,536 characters; keep well clear of it.
const MAX_BODY_CHARS = 65_000;
// Safety net against a Link header that never ends.
const MAX_PAGES = 200;

/**
 * The hidden marker for a key: `<!-- convox-image-deploy:app=shop,manifest=convox.yml -->`.
 * Characters that could end an HTML comment early (`--`, `>`) or break the key are escaped.
 */
export function commentMarker(key: CommentKey): string {
  const parts: string[] = [];
  if (key.app) parts.push(`app=${key.app}`);
  if (key.manifest) parts.push(`manifest=${key.manifest}`);
  const raw = parts.length ? parts.join(',') : 'default';
  const safe = raw
    .replace(/[^A-Za-z0-9._/@+=:,-]/g, (c) =>
      encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .replace(/--/g, '-%2D');
  return `<!-- convox-image-deploy:${safe} -->`;
}

/** Renders the plan as the PR comment body, marker first. */
export function renderPlanComment(plan: Plan, key: CommentKey, context: CommentContext = {}): string {
  const full = buildComment(plan, key, context, Number.MAX_SAFE_INTEGER);
  if (full.length <= MAX_BODY_CHARS) return full;
  // Too long: give the diff whatever room the rest leaves (the job summary has it whole).
  const diffChars = plan.manifest?.diff.length ?? 0;
  const budget = Math.max(0, MAX_BODY_CHARS - (full.length - diffChars) - 200);
  const clipped = buildComment(plan, key, context, budget);
  return clipped.length <= MAX_BODY_CHARS
    ? clipped
    : `${clipped.slice(0, MAX_BODY_CHARS - 80)}\n\n*(cut: the plan is too long for a comment; see the job summary)*\n`;
}

function buildComment(plan: Plan, key: CommentKey, context: CommentContext, maxDiffChars: number): string {
  const target = key.app ? ` for app ${code(key.app)}` : key.manifest ? ` for ${code(key.manifest)}` : '';
  const intro = plan.dryRun
    ? `Dry run (${escapeText(plan.dryRunReason)}): nothing was pushed or changed. A real run would do this:`
    : `Plan (${escapeText(plan.dryRunReason)}):`;
  const failed = context.failure
    ? [
        `**❌ The dry run failed in phase ${escapeText(context.failure.phase)}**: a merge would fail the same way.`,
        '',
        fenced(context.failure.error, 'text'),
      ]
    : [];
  const sections = [
    [
      commentMarker(key),
      `### ${context.failure ? '❌' : '🧪'} Convox deploy plan${target}`,
      '',
      ...(failed.length ? [...failed, ''] : []),
      intro,
    ],
    plan.image ? imageSection(plan.image) : [],
    changeSection(plan, maxDiffChars),
    plan.deploy ? rackSection(plan.deploy, {}, consoleLink(plan.deploy)) : [],
    context.steps
      ? stepsSection(plan.steps, (_step, i) => recordedStepStatus(context.steps?.[i], plan.dryRun, 'runs in this dry run'))
      : stepsSection(plan.steps, dryRunStepStatus),
    notesSection(plan.notes),
    footer(context),
  ];
  return `${joinSections(sections)}\n`;
}

function footer(context: CommentContext): string[] {
  const parts: string[] = [];
  if (context.sha) parts.push(`Updated for commit ${code(context.sha.slice(0, 12))}`);
  if (context.runUrl) parts.push(link('workflow run', context.runUrl));
  return parts.length ? [`<sub>${parts.join(' · ')}</sub>`] : [];
}

/** Where and what to post. */
export interface UpsertOptions {
  readonly owner: string;
  readonly repo: string;
  readonly issueNumber: number;
  readonly body: string;
  /** From `commentMarker`; the body is made to start with it if it does not. */
  readonly marker: string;
  readonly log: Log;
}

/**
 * Creates the sticky comment, or edits the one carrying `marker`. When GitHub will not let us
 * (a fork PR's read-only token, missing permissions, an outage), warns once and returns
 * 'skipped': the comment is a courtesy and must never fail the step.
 */
export async function upsertStickyComment(api: GitHubIssuesApi, opts: UpsertOptions): Promise<UpsertResult> {
  const issue: IssueRef = { owner: opts.owner, repo: opts.repo, issueNumber: opts.issueNumber };
  const body = opts.body.trimStart().startsWith(opts.marker) ? opts.body : `${opts.marker}\n${opts.body}`;
  try {
    const existing = await findMarkedComment(api, issue, opts.marker);
    if (!existing) {
      await api.createComment(issue, body);
      return 'created';
    }
    if (existing.body === body) return 'unchanged';
    await api.updateComment(issue, existing.id, body);
    return 'updated';
  } catch (e) {
    opts.log.warning(
      `Could not post the plan as a comment on pull request #${opts.issueNumber}: ${describeGitHubFailure(e, 'pull-requests: write')}. The plan is in the job summary; the step still succeeds.`,
    );
    return 'skipped';
  }
}

/**
 * The oldest comment that starts with the marker. Every page is read until it is found: busy
 * PRs have more than 100 comments, and ours is usually among the first.
 */
async function findMarkedComment(api: GitHubIssuesApi, issue: IssueRef, marker: string): Promise<IssueComment | undefined> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { comments, hasNext } = await api.listComments(issue, page);
    // Starts-with, not includes: a person quoting or mentioning the marker is not our comment.
    const found = comments.find((c) => c.body.trimStart().startsWith(marker));
    if (found) return found;
    if (!hasNext || comments.length === 0) return undefined;
  }
  return undefined;
}
