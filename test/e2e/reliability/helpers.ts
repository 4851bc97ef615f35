/**
 * What every reliability test shares: the distinctive secrets every run is given, the scan that
 * looks for them in everything a run left behind, the check that a failure is a clean one, and
 * the recording of each outcome for the figures table (test/support/figures.ts).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { recordFigure, type Figure } from '../../support/figures.js';
import type { GitHubApiStandIn } from '../../support/github-api.js';
import type { ActionRun } from '../../support/run-action.js';

/** Distinctive, with characters that change under URL encoding, so every form is a real test. */
export const RACK_PASSWORD = 'Rk/Secr3t+9f8e@7d6c';
export const GITHUB_TOKEN = 'ghs_S3cretTokenValue0123456789abcd';

export interface Secret {
  readonly value: string;
  /** The user name it is paired with in Basic auth. */
  readonly user: string;
}

/** The secrets of a reliability run: the registry's (from the e2e services), the rack's and the token. */
export function runSecrets(services: { registryUser: string; registryPassword: string }, extra: Secret[] = []): Secret[] {
  return [
    { value: services.registryPassword, user: services.registryUser },
    { value: RACK_PASSWORD, user: 'convox' },
    { value: GITHUB_TOKEN, user: 'x-access-token' },
    ...extra,
  ];
}

/** Every form a secret travels in: as is, base64 of `user:secret` (Basic auth), URL-encoded, base64 alone. */
export function secretForms(s: Secret): string[] {
  return [
    ...new Set([
      s.value,
      Buffer.from(`${s.user}:${s.value}`).toString('base64'),
      encodeURIComponent(s.value),
      Buffer.from(s.value).toString('base64'),
    ]),
  ];
}

/** The text of every file under `dir` (latin1, so any byte sequence survives). */
export function filesText(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out.join('\n');
}

interface Where {
  workspace?: string;
  gh?: GitHubApiStandIn;
  secrets: Secret[];
}

/**
 * Looks for every form of every secret in what a run left: its output (stdout, stderr, outputs,
 * summary), what it sent to the GitHub API (paths and bodies: PR comments, deployments) and the
 * workspace files. Returns how many looks were made and where a secret was found.
 */
export function findSecrets(run: ActionRun, where: Where): { scans: number; leaks: string[] } {
  const places: Record<string, string> = { 'the log, outputs and summary': run.all };
  if (where.gh)
    places['requests to the GitHub API'] = where.gh.requests
      .map((q) => `${q.method} ${q.path} ${JSON.stringify(q.query)} ${JSON.stringify(q.body)}`)
      .join('\n');
  if (where.workspace) places['the workspace'] = filesText(where.workspace);
  let scans = 0;
  const leaks: string[] = [];
  for (const [place, text] of Object.entries(places)) {
    for (const secret of where.secrets) {
      for (const form of secretForms(secret)) {
        scans++;
        const at = text.indexOf(form);
        if (at >= 0)
          leaks.push(`${place}: …${text.slice(Math.max(0, at - 60), at).replace(/\s+/g, ' ')}[secret ${form.slice(0, 3)}…]`);
      }
    }
  }
  return { scans, leaks };
}

/** findSecrets for one run of the suite: recorded for the figures table; the test fails on any leak. */
export function expectNoSecrets(flow: string, run: ActionRun, where: Where): void {
  const { scans, leaks } = findSecrets(run, where);
  recordFigure({ kind: 'secrets', flow, scans, leaks: leaks.length });
  dumpRun(flow, run);
  expect(leaks, `${flow} leaked a secret`).toEqual([]);
}

/** With RELIABILITY_DUMP=<dir>, every run's stdout, outputs and summary go to a file there, to read what a user would see. */
function dumpRun(flow: string, run: ActionRun): void {
  const dir = process.env.RELIABILITY_DUMP;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${flow.replace(/[^\w.-]+/g, '_').slice(0, 100)}.txt`), `exit ${run.code}\n${run.all}`);
}

/**
 * A failure a person can act on: exit 1, an error annotation (titled with the phase or the input
 * at fault) whose text matches `reason` and carries a fix, no crash or "this is a bug" text, and
 * a job summary that leads with the same failure. Returns the annotation's title and text.
 */
export function expectCleanFailure(run: ActionRun, reason: RegExp, title?: RegExp): { title: string; text: string } {
  expect(run.code, run.stdout.slice(-3000)).toBe(1);
  const unescape = (v: string): string =>
    v.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  const annotations = [...run.stdout.matchAll(/^::error ([^\n]*?)::(.*)$/gm)].map((m) => {
    const props = Object.fromEntries(
      m[1]!.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), unescape(kv.slice(kv.indexOf('=') + 1))]),
    );
    return { title: props.title ?? '', text: unescape(m[2]!) };
  });
  const found = annotations.find((a) => reason.test(a.text));
  expect(found, `no error annotation matching ${reason} in:\n${run.stdout.slice(-3000)}`).toBeDefined();
  if (title) expect(found!.title).toMatch(title);
  expect(found!.text).toMatch(/\n {2}Fix: \S/);
  expect(run.all).not.toMatch(/crashed|this is a bug|unexpected failure|\bat \S+ \(\S+:\d+:\d+\)/);
  expect(run.summary).toMatch(/^### ❌/);
  expect(run.summary).toContain(found!.text.split('\n')[0]!.slice(0, 60));
  return found!;
}

/**
 * Runs the assertions about one injected fault and records its outcome for the table: the
 * expected one when they hold, `unclear` when any fails (the test fails too).
 */
export async function fault(
  area: Extract<Figure, { kind: 'fault' }>['area'],
  name: string,
  expected: 'survived' | 'failed-cleanly',
  check: () => void | Promise<void>,
): Promise<void> {
  try {
    await check();
  } catch (e) {
    recordFigure({ kind: 'fault', area, name, outcome: 'unclear' });
    throw e;
  }
  recordFigure({ kind: 'fault', area, name, outcome: expected });
}

/**
 * A stdout trigger for run-action's `kill.whenOutput` that remembers when it first matched:
 * run-action sends the signal in the same tick, so this is when the signal left.
 */
export class Trigger extends RegExp {
  firedAt: number | undefined;
  override test(s: string): boolean {
    const hit = super.test(s);
    if (hit && this.firedAt === undefined) this.firedAt = performance.now();
    return hit;
  }
}
