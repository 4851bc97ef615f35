import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog } from '../../../src/log.js';
import { finishDeployment, startDeployment } from '../../../src/report/deployment.js';
import { githubApiUrl, type GitHubDeploymentsApi } from '../../../src/report/github-api.js';
import { createGitHubApi } from '../../../src/report/octokit.js';
import { startGitHubApi, type GitHubApiStandIn } from '../../support/github-api.js';
import { SHA } from './fixtures.js';

const RUN = 'https://github.com/acme/shop/actions/runs/42';

let github: GitHubApiStandIn;
let api: GitHubDeploymentsApi;
let log: MemoryLog;

beforeEach(async () => {
  github = await startGitHubApi();
  api = createGitHubApi('ghs_TestToken123', { baseUrl: githubApiUrl({ GITHUB_API_URL: github.url }), timeoutMs: 5_000 });
  log = new MemoryLog();
});
afterEach(() => github.close());

const start = () =>
  startDeployment(api, {
    owner: 'acme',
    repo: 'shop',
    ref: SHA,
    environment: 'production',
    description: 'Deploy shop 20261122220501',
    logUrl: RUN,
    log,
  });
const warnings = () => log.lines.filter((l) => l.startsWith('warning: '));

describe('GitHub deployment statuses', () => {
  it('creates the deployment for the commit, then in_progress, then success', async () => {
    const handle = await start();
    expect(handle).toMatchObject({ owner: 'acme', repo: 'shop', environment: 'production' });
    await finishDeployment(api, handle, 'success', {
      environmentUrl: 'https://shop.example.com',
      logUrl: RUN,
      description: 'Release RNEW is running',
      log,
    });

    const [create, ...statuses] = github.requests;
    expect(create).toMatchObject({
      method: 'POST',
      path: '/repos/acme/shop/deployments',
      body: {
        ref: SHA,
        environment: 'production',
        description: 'Deploy shop 20261122220501',
        auto_merge: false,
        required_contexts: [],
      },
    });
    expect(statuses.map((r) => [r.method, r.path, (r.body as { state: string }).state])).toEqual([
      ['POST', `/repos/acme/shop/deployments/${handle?.id}/statuses`, 'in_progress'],
      ['POST', `/repos/acme/shop/deployments/${handle?.id}/statuses`, 'success'],
    ]);
    expect(github.deployments[0]?.statuses.at(-1)).toMatchObject({
      state: 'success',
      environment_url: 'https://shop.example.com',
      log_url: RUN,
      description: 'Release RNEW is running',
    });
    expect(warnings()).toEqual([]);
  });

  it('ends in failure when the deploy fails', async () => {
    const handle = await start();
    await finishDeployment(api, handle, 'failure', { description: 'process web crashed', log });
    expect(github.deployments[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
  });

  it('keeps descriptions within the 140 characters GitHub accepts', async () => {
    const handle = await start();
    await finishDeployment(api, handle, 'failure', { description: `timed out: ${'x'.repeat(300)}\nsecond line`, log });
    const last = github.deployments[0]?.statuses.at(-1)?.description as string;
    expect(last.length).toBe(140);
    expect(last.endsWith('…')).toBe(true);
    expect(warnings()).toEqual([]);
  });
});

describe('GitHub deployments never fail the deploy', () => {
  it('a token without deployments: write warns once and finishing does nothing', async () => {
    github.fail({ status: 403, message: 'Resource not accessible by integration', method: /^POST$/ });
    const handle = await start();
    expect(handle).toBeUndefined();
    await finishDeployment(api, handle, 'success', { description: 'done', log });
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain("Could not create a GitHub deployment for environment 'production': GitHub refused (403");
    expect(warnings()[0]).toContain('`permissions: deployments: write`');
    expect(warnings()[0]).toContain('The Convox deploy goes ahead.');
    expect(github.requests).toHaveLength(1);
  });

  it('a status that cannot be set warns and the next one is still tried', async () => {
    github.fail({ status: 500, path: /\/statuses$/, times: 1 });
    const handle = await start();
    expect(handle).toBeDefined();
    await finishDeployment(api, handle, 'success', { description: 'done', log });
    expect(warnings()).toEqual([
      expect.stringMatching(/^warning: Could not mark GitHub deployment \d+ \(production\) as in_progress: GitHub answered 500/),
    ]);
    expect(github.deployments[0]?.statuses.map((s) => s.state)).toEqual(['success']);
  });

  it('an unreachable GitHub warns instead of throwing', async () => {
    github.fail({ status: 'disconnect' });
    await expect(start()).resolves.toBeUndefined();
    expect(warnings()[0]).toContain('could not reach the GitHub API');
  });
});
