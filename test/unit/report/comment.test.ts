import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog } from '../../../src/log.js';
import { commentMarker, renderPlanComment, upsertStickyComment } from '../../../src/report/comment.js';
import { githubApiUrl, type GitHubIssuesApi } from '../../../src/report/github-api.js';
import { createGitHubApi } from '../../../src/report/octokit.js';
import { startGitHubApi, type GitHubApiStandIn } from '../../support/github-api.js';
import { REPO, TAG, envPlan, manifestPlan } from './fixtures.js';

const KEY = { app: 'shop', manifest: 'convox.yml' };
const MARKER = '<!-- convox-image-deploy:app=shop,manifest=convox.yml -->';
const PR = { owner: 'acme', repo: 'shop', issueNumber: 7 };

let github: GitHubApiStandIn;
let api: GitHubIssuesApi;
let log: MemoryLog;

beforeEach(async () => {
  github = await startGitHubApi();
  // Pointed at the stand-in the way the runner points it at GHES: through GITHUB_API_URL.
  api = createGitHubApi('ghs_TestToken123', { baseUrl: githubApiUrl({ GITHUB_API_URL: github.url }), timeoutMs: 5_000 });
  log = new MemoryLog();
});
afterEach(() => github.close());

const post = (body: string, marker = MARKER) => upsertStickyComment(api, { ...PR, body, marker, log });
const warnings = () => log.lines.filter((l) => l.startsWith('warning: '));
const listRequests = () => github.requests.filter((r) => r.method === 'GET');

describe('commentMarker', () => {
  it.each([
    [{ app: 'shop', manifest: 'convox.yml' }, '<!-- convox-image-deploy:app=shop,manifest=convox.yml -->'],
    [{ app: 'shop' }, '<!-- convox-image-deploy:app=shop -->'],
    [{ manifest: 'deploy/convox.yml' }, '<!-- convox-image-deploy:manifest=deploy/convox.yml -->'],
    [{}, '<!-- convox-image-deploy:default -->'],
    [{ app: 'a--b>c d' }, '<!-- convox-image-deploy:app=a-%2Db%3Ec%20d -->'],
  ])('%j → %s', (key, marker) => {
    expect(commentMarker(key)).toBe(marker);
  });
});

describe('renderPlanComment', () => {
  it('puts the marker first, then the plan', () => {
    const body = renderPlanComment(manifestPlan(true), KEY, { sha: '9fceb02d0ae598e95dc9' });
    expect(body.split('\n').slice(0, 2)).toEqual([MARKER, '### 🧪 Convox deploy plan for app `shop`']);
    expect(body).toContain('nothing was pushed or changed');
    expect(body).toContain(`- \`${REPO}:${TAG}\` (primary)`);
    expect(body).toContain('```diff\n--- a/convox.yml');
    expect(body).toContain('7. 🧪 Promote the new release of app shop — would run in a real run');
    expect(body).toContain('<sub>Updated for commit `9fceb02d0ae5`</sub>');
  });

  it('shows an unknown IMAGE_VERSION with its reason', () => {
    expect(renderPlanComment(envPlan(), { app: 'shop' })).toContain(
      'unknown (the credential cannot read releases (a Console deploy key)) → `20261122220501`',
    );
  });

  it('clips a huge diff to fit a comment, and GitHub accepts it', async () => {
    const plan = manifestPlan(true);
    const diff = Array.from({ length: 5000 }, (_, i) => `+    image: ${REPO}:${TAG} # ${i}`).join('\n');
    const body = renderPlanComment({ ...plan, manifest: { ...plan.manifest!, diff } }, KEY);
    expect(body.length).toBeLessThanOrEqual(65_000);
    expect(body).toMatch(/\*\d+ more diff lines not shown/);
    expect(await post(body)).toBe('created');
  });
});

describe('upsertStickyComment against the GitHub API stand-in', () => {
  it('creates the comment once, then edits it in place on the next push', async () => {
    expect(await post(renderPlanComment(manifestPlan(true), KEY, { sha: 'aaaaaaaaaaaa' }))).toBe('created');
    const [created] = github.commentsOn('acme', 'shop', 7);
    expect(created?.user.login).toBe('github-actions[bot]');
    expect(github.requests.at(-1)).toMatchObject({ method: 'POST', path: '/repos/acme/shop/issues/7/comments' });
    expect(github.requests.at(-1)?.headers.authorization).toBe('token ghs_TestToken123');

    expect(await post(renderPlanComment(manifestPlan(true), KEY, { sha: 'bbbbbbbbbbbb' }))).toBe('updated');
    const comments = github.commentsOn('acme', 'shop', 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(created?.id);
    expect(comments[0]?.body).toContain('`bbbbbbbbbbbb`');
    expect(github.requests.at(-1)).toMatchObject({ method: 'PATCH', path: `/repos/acme/shop/issues/comments/${created?.id}` });
    expect(warnings()).toEqual([]);
  });

  it('leaves an identical comment alone', async () => {
    const body = renderPlanComment(manifestPlan(true), KEY);
    await post(body);
    expect(await post(body)).toBe('unchanged');
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('finds its comment past the first 100 on a busy PR instead of adding another', async () => {
    github.seedComments('acme', 'shop', 7, 130);
    github.addComment('acme', 'shop', 7, `${MARKER}\nold plan`);
    github.seedComments('acme', 'shop', 7, 40);
    expect(await post(`${MARKER}\nnew plan`)).toBe('updated');
    expect(github.commentsOn('acme', 'shop', 7).filter((c) => c.body.includes(MARKER))).toHaveLength(1);
    expect(listRequests().map((r) => r.query)).toEqual([
      { per_page: '100', page: '1' },
      { per_page: '100', page: '2' },
    ]);
  });

  it('reads every page before creating one on a PR with 250 comments', async () => {
    github.seedComments('acme', 'shop', 7, 250);
    expect(await post(`${MARKER}\nplan`)).toBe('created');
    expect(listRequests().map((r) => r.query.page)).toEqual(['1', '2', '3']);
    expect(await post(`${MARKER}\nplan 2`)).toBe('updated');
    expect(github.commentsOn('acme', 'shop', 7)).toHaveLength(251);
  });

  it('keeps one comment per app and manifest', async () => {
    const other = commentMarker({ app: 'worker', manifest: 'convox.yml' });
    await post(`${MARKER}\nshop`);
    await post(`${other}\nworker`, other);
    await post(`${MARKER}\nshop again`);
    expect(github.commentsOn('acme', 'shop', 7).map((c) => c.body)).toEqual([`${MARKER}\nshop again`, `${other}\nworker`]);
  });

  it("does not take over a person's comment that merely quotes the marker", async () => {
    github.addComment('acme', 'shop', 7, `Why does the bot write ${MARKER}?`, { login: 'octocat', id: 1, type: 'User' });
    expect(await post(`${MARKER}\nplan`)).toBe('created');
    expect(github.commentsOn('acme', 'shop', 7)[0]?.body).toBe(`Why does the bot write ${MARKER}?`);
  });

  it('puts the marker in front of a body that lacks it', async () => {
    await post('plan without marker');
    expect(github.commentsOn('acme', 'shop', 7)[0]?.body).toBe(`${MARKER}\nplan without marker`);
  });
});

describe('upsertStickyComment when it cannot post', () => {
  it('a fork PR (403 on writes) warns once and skips', async () => {
    github.forkPullRequest();
    expect(await post(`${MARKER}\nplan`)).toBe('skipped');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/pull request #7: GitHub refused \(403: Resource not accessible by integration\)/);
    expect(warnings()[0]).toContain('in pull requests from forks GITHUB_TOKEN is read-only');
    expect(warnings()[0]).toContain('`permissions: pull-requests: write`');
    expect(warnings()[0]).not.toContain('ghs_TestToken123');
    expect(github.commentsOn('acme', 'shop', 7)).toHaveLength(0);
  });

  it('a read-only token that finds the old comment warns once and skips the edit', async () => {
    github.addComment('acme', 'shop', 7, `${MARKER}\nold`);
    github.fail({ status: 403, message: 'Resource not accessible by integration', method: /^PATCH$/ });
    expect(await post(`${MARKER}\nnew`)).toBe('skipped');
    expect(warnings()).toHaveLength(1);
    expect(github.commentsOn('acme', 'shop', 7)[0]?.body).toBe(`${MARKER}\nold`);
  });

  it.each([
    [{ status: 404 as const, message: 'Not Found' }, /404 \(Not Found\).*may not see the repository/],
    [{ status: 500 as const }, /GitHub answered 500: Server Error/],
    [{ status: 'disconnect' as const }, /could not reach the GitHub API/],
  ])('%j warns once and skips', async (rule, message) => {
    github.fail(rule);
    expect(await post(`${MARKER}\nplan`)).toBe('skipped');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(message);
    expect(warnings()[0]).toContain('the step still succeeds');
  });
});

describe('renderPlanComment for a failed dry run', () => {
  it('leads with the failure, so a broken Dockerfile is the first thing a reviewer reads', () => {
    const body = renderPlanComment(
      manifestPlan(true),
      { app: 'shop' },
      { failure: { phase: 'build', error: 'the image build failed at step [2/2] RUN make: exit code: 2' } },
    );
    const lines = body.split('\n');
    expect(lines[1]).toBe('### ❌ Convox deploy plan for app `shop`');
    expect(body.indexOf('The dry run failed in phase build')).toBeLessThan(body.indexOf('A real run would do this'));
    expect(body).toContain('```text\nthe image build failed at step [2/2] RUN make: exit code: 2\n```');
  });
});
