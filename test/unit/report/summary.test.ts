import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../src/plan/types.js';
import { renderSummary } from '../../../src/report/summary.js';
import { DIFF, DIGEST, REPO, TAG, envPlan, manifestPlan, recordOf, successReport } from './fixtures.js';

const firstLine = (md: string): string => md.split('\n')[0] ?? '';

describe('renderSummary: a successful deploy', () => {
  const md = renderSummary(successReport(), {});

  it('starts with the verdict naming release, app and rack', () => {
    expect(firstLine(md)).toBe('### ✅ Deployed release `RNEWRELEASE` to app `shop` on rack `acme/production`');
  });

  it('lists every image reference, the digest and a pull-by-digest reference', () => {
    expect(md).toContain(`- \`${REPO}:${TAG}\` (primary)`);
    expect(md).toContain(`- \`${REPO}:sha-9fceb02\``);
    expect(md).toContain(`- Digest: \`${DIGEST}\``);
    expect(md).toContain(`- By digest: \`${REPO}@${DIGEST}\``);
    expect(md).toContain('- Local image ID (not the registry digest): `sha256:1111');
  });

  it('shows the manifest diff in a diff block', () => {
    expect(md).toContain(`#### Manifest change in \`convox.yml\`\n\n\`\`\`diff\n${DIFF.trimEnd()}\n\`\`\``);
  });

  it('names rack, app, build and release, linking the Console home page', () => {
    expect(md).toContain('- Rack: `acme/production` via `console.convox.com` ([Convox Console](https://console.convox.com/))');
    expect(md).toContain('- App: `shop` (before this run: running, release `RPREVIOUS01`)');
    expect(md).toContain('- Build: `BNEWBUILD01`');
    expect(md).toContain('- Release: `RNEWRELEASE` (previous: `RPREVIOUS01`)');
  });

  it('marks each step as run, and times each phase', () => {
    expect(md).toContain(`2. ✅ Push ${REPO}:${TAG}`);
    expect(md).toContain('8. ✅ Wait until app shop runs the new release');
    expect(md).toContain('| build | ✅ ok | 41.2 s |');
    expect(md).toContain('| deploy | ✅ ok | 3 min 05 s |');
    expect(md).toContain('| **Total** | | **3 min 55 s** |');
  });

  it('ends with the commit and a link to the run', () => {
    expect(md.trimEnd().split('\n').at(-1)).toBe(
      'Commit `9fceb02d0ae5` · [workflow run](https://github.com/acme/shop/actions/runs/42)',
    );
  });

  it('does not claim "deployed" when it did not wait', () => {
    const r = successReport();
    const plan = {
      ...r.plan,
      steps: r.plan.steps.map((s) => (s.id === 'wait' ? { ...s, runs: false, skipped: 'wait: false' } : s)),
    };
    expect(firstLine(renderSummary({ ...r, plan, steps: recordOf(plan) }))).toBe(
      '### ✅ Promoted release `RNEWRELEASE` on app `shop` on rack `acme/production` (not waited for: wait: false)',
    );
  });

  it('links no Console for a rack reached directly', () => {
    const r = successReport();
    const plan = { ...r.plan, deploy: { ...r.plan.deploy!, rack: undefined, host: 'api.rack.example.com' } };
    const out = renderSummary({ ...r, plan });
    expect(out).toContain('- Rack: `api.rack.example.com`\n');
    expect(out).not.toContain('Convox Console');
  });
});

describe('renderSummary: a dry run', () => {
  const report: RunReport = {
    plan: manifestPlan(true),
    steps: recordOf(manifestPlan(true)),
    phases: [
      { name: 'plan', status: 'ok', durationMs: 150 },
      { name: 'build', status: 'ok', durationMs: 9_000 },
    ],
    outcome: 'success',
    imageId: 'sha256:2222',
    sha: 'abc',
  };
  const md = renderSummary(report);

  it('says nothing was pushed or changed, and why it is a dry run', () => {
    expect(firstLine(md)).toBe('### 🧪 Dry run: nothing was pushed or changed');
    expect(md).toContain('Why a dry run: pull\\_request event (dry-run: auto).');
  });

  it('tells ran steps from those a real run would take', () => {
    expect(md).toContain('1. ✅ Build Dockerfile (context .)\n');
    expect(md).toContain(`2. 🧪 Push ${REPO}:${TAG} — would run in a real run`);
    expect(md).toContain('7. 🧪 Promote the new release of app shop — would run in a real run');
  });

  it('still shows the diff a merge would write', () => {
    expect(md).toContain('```diff\n--- a/convox.yml');
  });
});

describe('renderSummary: a failed deploy', () => {
  const r = successReport();
  const report: RunReport = {
    ...r,
    outcome: 'failure',
    releaseId: undefined,
    phases: [...r.phases.slice(0, 5), { name: 'deploy', status: 'failed', durationMs: 62_000 }],
    error:
      'app shop did not become healthy within 10 min: process web crashed (exit 1)\n  Fix: look at the rack log lines in the summary',
    steps: recordOf(r.plan, (s) => (s.id === 'wait' ? 'failed' : 'done')),
    rackLogTail: [
      'web-1 booting',
      '\x1b[31mweb-1 Error: cannot connect to <db> & retry\x1b[0m',
      'web-1 literal ``` fence',
      'web-1 exited 1',
    ],
  };
  const md = renderSummary(report);

  it('leads with the phase and the reason', () => {
    expect(firstLine(md)).toBe(
      '### ❌ Failed in phase deploy: app shop did not become healthy within 10 min: process web crashed (exit 1)',
    );
  });

  it('shows the whole error and the rack log tail in fenced blocks that cannot be closed early', () => {
    expect(md).toContain('#### What went wrong\n\n```text\napp shop did not become healthy');
    expect(md).toContain(
      "#### Last 4 lines of the rack's log\n\n````text\nweb-1 booting\nweb-1 Error: cannot connect to <db> & retry\nweb-1 literal ``` fence\nweb-1 exited 1\n````",
    );
  });

  it('marks the steps the failed phase finished as done, and the one it failed in', () => {
    expect(md).toContain('7. ✅ Promote the new release of app shop\n');
    expect(md).toMatch(/8\. ❌ Wait until app shop runs the new release — failed\n/);
    expect(md).toContain('| deploy | ❌ failed | 1 min 02 s |');
    expect(md).not.toContain('Release: `');
  });
});

describe('renderSummary: a failed dry run', () => {
  it('says where it failed and that nothing was pushed or changed', () => {
    const md = renderSummary({
      plan: manifestPlan(true),
      steps: recordOf(manifestPlan(true), () => 'failed'),
      phases: [{ name: 'build', status: 'failed', durationMs: 3_000 }],
      outcome: 'failure',
      error: 'Dockerfile:3: unknown instruction: RUNN',
      sha: 'abc',
    });
    expect(md.split('\n').slice(0, 3)).toEqual([
      '### ❌ Dry run failed in phase build: Dockerfile:3: unknown instruction: RUNN',
      '',
      'Nothing was pushed or changed. Why a dry run: pull\\_request event (dry-run: auto).',
    ]);
    expect(md).toContain('1. ❌ Build Dockerfile (context .) — failed');
    expect(md).toContain(`2. 🧪 Push ${REPO}:${TAG} — would run in a real run`);
  });
});

describe('renderSummary: env mode with an unknown current value', () => {
  const md = renderSummary({ plan: envPlan(), steps: recordOf(envPlan()), phases: [], outcome: 'success', sha: 'abc' });

  it('shows old → new with the reason the old value is unknown', () => {
    expect(md).toContain(
      `- \`IMAGE_VERSION\` (read by \`convox.yml\`): unknown (the credential cannot read releases (a Console deploy key)) → \`${TAG}\``,
    );
    expect(md).not.toContain('```diff');
  });

  it('keeps the notes', () => {
    expect(md).toContain(
      "#### Notes\n\n- IMAGE\\_VERSION cannot be set with a deploy key: it cannot read the app's other variables.",
    );
  });

  it('shows a known old value too', () => {
    const plan = { ...envPlan(), env: { name: 'IMAGE_VERSION', before: '20261101090000', after: TAG } };
    expect(renderSummary({ plan, steps: recordOf(plan), phases: [], outcome: 'success', sha: 'abc' })).toContain(
      `: \`20261101090000\` → \`${TAG}\``,
    );
  });
});

describe('renderSummary: hostile text stays inside its box', () => {
  it('escapes HTML and Markdown in the verdict and fences image names', () => {
    const r = successReport();
    const md = renderSummary({
      ...r,
      outcome: 'failure',
      phases: [{ name: 'push', status: 'failed', durationMs: 1 }],
      error: '<img src=x> *boom* | @octocat',
    });
    expect(firstLine(md)).toBe('### ❌ Failed in phase push: &lt;img src=x&gt; \\*boom\\* \\| @\u200boctocat');
    const weird = { ...r.plan, image: { ...r.plan.image!, references: ['a/b:`x`'] } };
    expect(renderSummary({ ...r, plan: weird })).toContain('- `` a/b:`x` ``\n');
  });
});
