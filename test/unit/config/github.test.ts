import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGitHubContext } from '../../../src/config/github.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cid-github-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// What the runner exports on a push: GITHUB_HEAD_REF and GITHUB_BASE_REF are present but empty on
// every event but pull requests (allegro/axion-release-plugin#779 found the same on GitHub).
const pushEnv = {
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_HEAD_REF: '',
  GITHUB_BASE_REF: '',
  GITHUB_SHA: 'feedc0de0000000000000000000000000000beef',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_NUMBER: '42',
  GITHUB_RUN_ID: '9001',
};

describe('readGitHubContext', () => {
  it('on a push, the branch comes from GITHUB_REF even though GITHUB_HEAD_REF is exported empty', () => {
    const c = readGitHubContext(pushEnv, '/w');
    expect(c.branch).toBe('main');
    expect(c).toMatchObject({ runNumber: '42', runId: '9001', repository: 'acme/shop', workspace: '/w', fromFork: false });
  });

  it('counts empty variables as unset (a local run with an emptied environment)', () => {
    const c = readGitHubContext({ ...pushEnv, GITHUB_REF: 'refs/tags/v1', GITHUB_RUN_NUMBER: '', GITHUB_REPOSITORY: '' }, '/w');
    expect(c.branch).toBeUndefined();
    expect(c.runNumber).toBeUndefined();
    expect(c.repository).toBeUndefined();
    expect(c.serverUrl).toBe('https://github.com');
  });

  it('on a pull request, the head branch, sha and number come from the event payload', () => {
    const event = path.join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        pull_request: { number: 7, head: { sha: 'abc123', ref: 'feature/x', repo: { full_name: 'someone/shop' } } },
      }),
    );
    const c = readGitHubContext(
      { ...pushEnv, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_HEAD_REF: 'feature/x' },
      '/w',
    );
    expect(c).toMatchObject({ branch: 'feature/x', sha: 'abc123', prNumber: 7, fromFork: true });
  });
});
