/**
 * GitHub's own parsers (@actions/workflow-parser, the package behind GitHub's Actions language
 * service) run over this repository's workflows, action.yml and the README's workflow blocks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction, type ActionTemplate } from '@actions/workflow-parser/actions/index';
import { load } from 'js-yaml';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const WORKFLOWS_DIR = path.join(ROOT, '.github/workflows');

/** Every problem GitHub's workflow parser and converter find in `content` (none: it would run). */
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value && errors.length === 0) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return errors;
}

/** action.yml through GitHub's action parser: its problems, and the typed template when none. */
export function parseActionYml(content: string): { errors: string[]; template?: ActionTemplate } {
  const parsed = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value || errors.length) return { errors };
  return { errors, template: convertActionTemplate(parsed.context, parsed.value) };
}

/** The repository's workflow files: name → text. */
export function repoWorkflows(): Map<string, string> {
  return new Map(
    readdirSync(WORKFLOWS_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => [f, readFileSync(path.join(WORKFLOWS_DIR, f), 'utf8')]),
  );
}

/** A README ```yaml block: its text, the heading it is under and its line in README.md. */
export interface ReadmeBlock {
  heading: string;
  line: number;
  text: string;
}

export function readmeYamlBlocks(readme: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^#{1,6} /.test(lines[i]!)) heading = lines[i]!.replace(/^#+ /, '');
    if (lines[i] !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    blocks.push({ heading, line: i + 2, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const dedent = (text: string): string => {
  const lines = text.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
};
const indent = (text: string, n: number): string =>
  text
    .split('\n')
    .map((l) => (l.trim() ? ' '.repeat(n) + l : l))
    .join('\n');

/**
 * What a README block is, and the complete workflow it stands for: a whole workflow as it is; a
 * `jobs:` map, a job's `steps:` or a list of steps wrapped into the smallest workflow around
 * them. A Convox manifest (top-level `services:`) is no workflow.
 */
export function asWorkflow(text: string): { kind: 'workflow' | 'jobs' | 'steps' | 'step list' | 'manifest'; workflow?: string } {
  const body = dedent(text);
  const doc = load(body) as unknown;
  const keys = doc && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc) : [];
  const job = (steps: string): string => `on: push\njobs:\n  example:\n    runs-on: ubuntu-latest\n${steps}`;
  if (Array.isArray(doc)) return { kind: 'step list', workflow: job(`    steps:\n${indent(body, 6)}`) };
  if (keys.includes('on')) return { kind: 'workflow', workflow: body };
  if (keys.includes('jobs')) return { kind: 'jobs', workflow: `on: push\n${body}` };
  if (keys.includes('steps')) return { kind: 'steps', workflow: job(indent(body, 4)) };
  if (keys.includes('services')) return { kind: 'manifest' };
  throw new Error(`a yaml block that is neither a workflow, jobs, steps nor a manifest:\n${text}`);
}

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
export interface Job {
  permissions?: unknown;
  steps?: Step[];
}
export interface Workflow {
  permissions?: unknown;
  jobs: Record<string, Job>;
}

/** Every step of every job of a workflow, with the job's id. */
export function stepsOf(workflow: string): Array<Step & { job: string }> {
  const doc = load(workflow) as Workflow;
  return Object.entries(doc.jobs).flatMap(([id, j]) => (j.steps ?? []).map((s) => ({ ...s, job: id })));
}
