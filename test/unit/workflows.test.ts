/**
 * The workflows, action.yml and the README's workflow examples as GitHub reads them: each goes
 * through @actions/workflow-parser (GitHub's own parser and schema) with no error, names its
 * actions at a pinned major, and asks for no more permissions than the table below says.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  asWorkflow,
  parseActionYml,
  readmeYamlBlocks,
  repoWorkflows,
  ROOT,
  stepsOf,
  workflowErrors,
  type Workflow,
} from './support/workflows.js';

const workflows = repoWorkflows();
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const readmeBlocks = readmeYamlBlocks(readme).map((b) => ({ ...b, ...asWorkflow(b.text) }));
const actionYml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');
const actionInputs = Object.keys((load(actionYml) as { inputs: Record<string, unknown> }).inputs);

/**
 * Each workflow's permissions, top level and per job (omitted: the job inherits the top level).
 * Everything is read-only except what the job must write, and why.
 */
const PERMISSIONS: Record<string, { top: object; jobs: Record<string, object> }> = {
  'check-dist.yml': { top: { contents: 'read' }, jobs: {} },
  'ci.yml': { top: { contents: 'read' }, jobs: {} },
  // Code scanning uploads its results.
  'codeql.yml': { top: { contents: 'read' }, jobs: { analyze: { contents: 'read', 'security-events': 'write' } } },
  // Creates the release and moves the major tag.
  'release.yml': { top: {}, jobs: { release: { contents: 'write' } } },
  // The dry run posts the sticky plan comment.
  'self-test.yml': {
    top: { contents: 'read' },
    jobs: { 'dry-run': { contents: 'read', 'pull-requests': 'write' }, 'build-and-push': { contents: 'read' } },
  },
};

/** A local action, or owner/repo[/path] at a major tag (v4) or a full commit SHA. */
const PINNED = /^(?:\.\/.*|[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@(?:v\d+|[0-9a-f]{40}))$/;
const actionOf = (uses: string): string => uses.replace(/@.*$/, '').split('/').slice(0, 2).join('/');

describe('the repository workflows', () => {
  it('are the ones this test knows the permissions of', () => {
    expect([...workflows.keys()]).toEqual(Object.keys(PERMISSIONS).sort());
  });

  for (const [name, text] of workflows) {
    describe(name, () => {
      it("parse with GitHub's workflow parser, without an error", async () => {
        expect(await workflowErrors(name, text)).toEqual([]);
      });

      it('ask for the least permissions, set at the top and per job', () => {
        const doc = load(text) as Workflow;
        expect(doc.permissions, 'a top-level permissions: block').toEqual(PERMISSIONS[name]!.top);
        const jobs = Object.fromEntries(
          Object.entries(doc.jobs)
            .filter(([, j]) => j.permissions !== undefined)
            .map(([id, j]) => [id, j.permissions]),
        );
        expect(jobs).toEqual(PERMISSIONS[name]!.jobs);
      });

      it('name every action at a pinned major, and run no ${{ }} expression inside a shell script', () => {
        for (const step of stepsOf(text)) {
          if (step.uses) expect(step.uses, `${name} job ${step.job}`).toMatch(PINNED);
          // An expression in run: is pasted into the script before it runs (script injection): pass it through env:.
          if (step.run) expect(step.run, `${name} job ${step.job}`).not.toContain('${{');
        }
      });
    });
  }

  it('each action is used at one major across the workflows and the README', () => {
    const majors = new Map<string, Set<string>>();
    const all = [
      ...[...workflows.values()].flatMap(stepsOf),
      ...readmeBlocks.flatMap((b) => (b.workflow ? stepsOf(b.workflow) : [])),
    ];
    for (const { uses } of all)
      if (uses && !uses.startsWith('./'))
        majors.set(actionOf(uses), new Set([...(majors.get(actionOf(uses)) ?? []), uses.split('@')[1]!]));
    const mixed = [...majors].filter(([, v]) => v.size > 1).map(([k, v]) => `${k}@${[...v].join(', @')}`);
    expect(mixed, 'update the README along with the workflows (Dependabot bumps only the workflows)').toEqual([]);
  });

  it("the self-test runs this repository's action", () => {
    expect(stepsOf(workflows.get('self-test.yml')!).filter((s) => s.uses === './')).toHaveLength(2);
  });
});

describe('action.yml', () => {
  const { errors, template } = parseActionYml(actionYml);

  it("parses with GitHub's action parser, without an error", () => {
    expect(errors).toEqual([]);
    expect(template?.inputs?.map((i) => i.id)).toEqual(actionInputs);
  });

  it('runs the committed bundle on Node 24', () => {
    expect(template?.runs).toMatchObject({ using: 'node24', main: 'dist/index.cjs' });
    expect(existsSync(path.join(ROOT, 'dist/index.cjs'))).toBe(true);
  });

  it("declares the runtime package.json's engines and the README's Try it name", () => {
    const major = /^node(\d+)$/.exec((template?.runs as { using: string }).using)![1];
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${major}`);
    const tryIt = readme.slice(readme.indexOf('## Try it'), readme.indexOf('\n## ', readme.indexOf('## Try it') + 1));
    expect(tryIt).toContain(`With Node ${major} (the runtime \`action.yml\` declares, \`node${major}\`)`);
  });
});

describe("the README's workflow examples", () => {
  it('are all checked: whole workflows, jobs, steps, and the one manifest', () => {
    expect(readmeBlocks.map((b) => b.kind)).toContain('workflow');
    expect(readmeBlocks.filter((b) => b.kind === 'manifest')).toHaveLength(1);
  });

  for (const block of readmeBlocks.filter((b) => b.workflow)) {
    describe(`README.md:${block.line} (${block.heading}, ${block.kind})`, () => {
      it("parses with GitHub's workflow parser, without an error", async () => {
        expect(await workflowErrors(`README.md:${block.line}`, block.workflow!)).toEqual([]);
      });

      it('gives this action only inputs action.yml has, and names actions at a pinned major', () => {
        for (const step of stepsOf(block.workflow!)) {
          if (!step.uses) continue;
          expect(step.uses).toMatch(PINNED);
          if (/\/convox-image-deploy@/.test(step.uses))
            expect(Object.keys(step.with ?? {}).filter((k) => !actionInputs.includes(k))).toEqual([]);
        }
      });
    });
  }

  it('use only actions the workflows also use (so Dependabot keeps them current), besides this one', () => {
    const inWorkflows = new Set([...workflows.values()].flatMap(stepsOf).flatMap((s) => (s.uses ? [actionOf(s.uses)] : [])));
    const inReadme = readmeBlocks
      .flatMap((b) => (b.workflow ? stepsOf(b.workflow) : []))
      .flatMap((s) => (s.uses ? [actionOf(s.uses)] : []));
    expect([...new Set(inReadme)].filter((a) => !inWorkflows.has(a) && !a.endsWith('/convox-image-deploy'))).toEqual([]);
  });
});

describe('.github/dependabot.yml', () => {
  interface Update {
    'package-ecosystem': string;
    directory: string;
    schedule: { interval: string };
    ignore?: Array<{ 'dependency-name': string }>;
  }
  const config = load(readFileSync(path.join(ROOT, '.github/dependabot.yml'), 'utf8')) as { version: number; updates: Update[] };
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;

  it('updates the npm packages and the workflows’ actions, on a schedule GitHub documents', () => {
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => [u['package-ecosystem'], u.directory])).toEqual([
      ['npm', '/'],
      ['github-actions', '/'],
    ]);
    // docs.github.com, Dependabot options reference: schedule.interval.
    for (const u of config.updates)
      expect(['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron']).toContain(u.schedule.interval);
  });

  it('ignores majors only of packages the project has', () => {
    const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    const ignored = config.updates.flatMap((u) => (u.ignore ?? []).map((i) => i['dependency-name']));
    expect(ignored.filter((n) => !names.includes(n))).toEqual([]);
  });
});
