/**
 * .github/workflows/self-test.yml run here as GitHub would run it, since GitHub itself cannot run
 * it on this machine: each job's `uses: ./` step with the inputs read from the workflow, through
 * the bundle as the runner starts it, then the job's own check step (its `run:` script, with
 * bash, `${{ steps.<id>.outputs.<name> }}` filled from the step's outputs) in a git checkout of
 * the example app. What differs from GitHub: the e2e engine and registry stand in for the runner's
 * engine and the registry:2 service (so `localhost:5000` becomes the e2e registry, whose password
 * the action gets as inputs and curl from ~/.curlrc), and the GitHub API stand-in for GitHub.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startGitHubApi, type GitHubApiStandIn } from '../support/github-api.js';
import { registryDigest } from '../support/registry.js';
import { REPO_ROOT, runAction, type ActionRun } from '../support/run-action.js';

const services = inject('services');
const TOKEN = 'ghs_SelfTestToken0123456789abcdef';
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
const workflow = load(readFileSync(path.join(REPO_ROOT, '.github/workflows/self-test.yml'), 'utf8')) as {
  jobs: Record<string, { steps: Step[] }>;
};
const scratch = mkdtempSync(path.join(tmpdir(), 'cid-self-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let gh: GitHubApiStandIn;
beforeEach(async () => (gh = await startGitHubApi()));
afterEach(async () => gh.close());

/** A git checkout holding the example app, as actions/checkout leaves the workspace. */
function checkout(name: string): string {
  const dir = path.join(scratch, name);
  cpSync(path.join(REPO_ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  const git = (...args: string[]): void =>
    void execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'example');
  return dir;
}

const here = (text: string): string => text.replaceAll('localhost:5000', services.registry);

/** `${{ steps.<id>.outputs.<name> }}` in `value`, from the action step's outputs; nothing else is expected here. */
function expand(value: string, id: string, run: ActionRun): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    const m = new RegExp(`^steps\\.${id}\\.outputs\\.([\\w-]+)$`).exec(expr);
    if (!m) throw new Error(`self-test.yml uses an expression this test cannot fill: ${expr}`);
    return run.outputs[m[1]!] ?? '';
  });
}

/** Runs a step's `run:` script with bash in the workspace, as the runner does (bash -e). */
function shell(script: string, cwd: string, env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync('bash', ['-e', '-c', here(script)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: scratch, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Runs job `name`: the `run:` steps before its `uses: ./` step, that step through the bundle, then the check step after it. */
async function runJob(name: string, eventName: string, extraInputs: Record<string, string>) {
  const steps = workflow.jobs[name]!.steps;
  const action = steps.find((s) => s.uses === './')!;
  const check = steps[steps.indexOf(action) + 1]!;
  const workspace = checkout(name);
  for (const before of steps.slice(0, steps.indexOf(action)).filter((s) => s.run))
    expect(shell(before.run!, workspace)).toMatchObject({ code: 0 });
  const inputs = Object.fromEntries(Object.entries(action.with ?? {}).map(([k, v]) => [k, here(String(v))]));
  const event = JSON.parse(readFileSync(path.join(REPO_ROOT, `test/fixtures/events/${eventName}.json`), 'utf8')) as object;
  const run = await runAction({
    // The runner fills action.yml's github-token default, ${{ github.token }}.
    inputs: { 'github-token': TOKEN, ...inputs, ...extraInputs },
    env: { DOCKER_HOST: services.dockerHost, GITHUB_API_URL: gh.url },
    workspace,
    eventName,
    event,
  });
  writeFileSync(path.join(scratch, '.curlrc'), `user = "${services.registryUser}:${services.registryPassword}"\n`);
  const env = Object.fromEntries(Object.entries(check.env ?? {}).map(([k, v]) => [k, expand(String(v), action.id!, run)]));
  return { run, checked: shell(check.run!, workspace, env), workspace };
}

describe('self-test.yml, run here', () => {
  it('pull_request: the dry run plans web on a new tag, writes nothing, and posts the sticky plan comment', async () => {
    const { run, checked } = await runJob('dry-run', 'pull_request', {});
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(checked, checked.out).toMatchObject({ code: 0 });
    expect(gh.commentsOn('acme', 'shop', 17)).toHaveLength(1);
  });

  // The workflow's curl check speaks to GitHub's registry:2 service, which has no auth at all;
  // here it gets Basic credentials from ~/.curlrc, which a token registry does not take.
  it.skipIf(services.registryKind === 'v3-token')(
    'push: builds and pushes to the registry, which serves each tag at the reported digest',
    async () => {
      const registry = {
        registry: services.registry,
        registryUser: services.registryUser,
        registryPassword: services.registryPassword,
      };
      const { run, checked } = await runJob('build-and-push', 'push', {
        'registry-username': services.registryUser,
        'registry-password': services.registryPassword,
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(checked, checked.out).toMatchObject({ code: 0 });
      expect(checked.out).toContain(`-> ${run.outputs.digest}`);
      for (const ref of run.outputs.tags!.split('\n'))
        expect(await registryDigest(registry, 'example/app', ref.split(':').at(-1)!)).toBe(run.outputs.digest);
    },
  );
});
