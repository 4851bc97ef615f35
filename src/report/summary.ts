/**
 * The job summary (`GITHUB_STEP_SUMMARY`), written on every run, dry or real, successful or not:
 * the verdict on the first line, then why it failed (when it did), the image, the manifest or
 * environment change, the rack, each step, each phase's duration and the notes. Pure: the
 * caller redacts secrets from the report and writes the text.
 */
import type { PhaseName, PhaseRecord, PlanStep, RunReport } from '../plan/types.js';
import { consoleLink } from './console.js';
import { clipLines, code, escapeText, fenced, firstLine, formatDuration, link } from './markdown.js';
import {
  changeSection,
  dryRunStepStatus,
  imageSection,
  joinSections,
  notesSection,
  rackSection,
  stepsSection,
  type StepStatus,
} from './plan-sections.js';

/** How the summary links out. */
export interface SummaryOptions {
  /** The Console host (e.g. `console.convox.com`) when the rack is reached through one. */
  readonly consoleHost?: string;
}

// A step summary may hold 1 MiB; these keep one huge diff or log from crowding out the rest.
const MAX_DIFF_CHARS = 200_000;
const MAX_LOG_CHARS = 60_000;

/** Which phase carries out each plan step, to tell what ran from what was never reached. */
const STEP_PHASE: Readonly<Record<string, PhaseName>> = {
  build: 'build',
  push: 'push',
  'write-manifest': 'manifest',
  'env-release': 'deploy',
  upload: 'deploy',
  'rack-build': 'deploy',
  promote: 'deploy',
  wait: 'deploy',
  deploy: 'deploy',
};

/** Renders the job summary for one run as GitHub-flavoured Markdown. */
export function renderSummary(report: RunReport, opts: SummaryOptions = {}): string {
  const { plan } = report;
  const sections = [
    verdictSection(report),
    failureSection(report),
    imageSection(plan.image, report),
    changeSection(plan, MAX_DIFF_CHARS),
    plan.deploy ? rackSection(plan.deploy, report, consoleLink(plan.deploy, opts.consoleHost)) : [],
    stepsSection(plan.steps, (step) => runStepStatus(step, report)),
    phasesSection(report.phases),
    notesSection(plan.notes),
    footerSection(report),
  ];
  return `${joinSections(sections)}\n`;
}

/** The one line a person reads first, with the dry-run reason under it. */
function verdictSection(report: RunReport): string[] {
  const { plan } = report;
  if (report.outcome === 'failure') {
    const phase = report.phases.find((p) => p.status === 'failed')?.name;
    const reason = escapeText(firstLine(report.error ?? 'unknown error'));
    const head = `### ❌ ${plan.dryRun ? 'Dry run failed' : 'Failed'}${phase ? ` in phase ${phase}` : ''}: ${reason}`;
    return plan.dryRun ? [head, '', `Nothing was pushed or changed. Why a dry run: ${escapeText(plan.dryRunReason)}.`] : [head];
  }
  if (plan.dryRun) {
    return ['### 🧪 Dry run: nothing was pushed or changed', '', `Why a dry run: ${escapeText(plan.dryRunReason)}.`];
  }
  return [`### ✅ ${successHeadline(report)}`];
}

function successHeadline(report: RunReport): string {
  const { plan } = report;
  const ran = (phase: PhaseName): boolean => report.phases.some((p) => p.name === phase && p.status === 'ok');
  const stepRuns = (id: string): boolean => plan.steps.some((s) => s.id === id && s.runs);
  const deploy = plan.deploy;
  if (deploy && ran('deploy') && stepRuns('promote')) {
    const what = report.releaseId ? `release ${code(report.releaseId)}` : 'the new release';
    const onRack = deploy.rack ? ` on rack ${code(deploy.rack)}` : '';
    // Without the wait nobody saw it run; "deployed" would claim more than we know.
    if (!stepRuns('wait')) return `Promoted ${what} on app ${code(deploy.app)}${onRack} (not waited for: wait: false)`;
    return `Deployed ${what} to app ${code(deploy.app)}${onRack}`;
  }
  const primary = plan.image.references[0] ?? plan.image.repository;
  if (ran('push') && stepRuns('push')) return `Pushed ${code(primary)}${deploy ? '' : ' (no app set, so nothing was deployed)'}`;
  if (ran('build') && stepRuns('build')) return `Built ${code(primary)} (not pushed)`;
  return 'Done: nothing needed doing';
}

function failureSection(report: RunReport): string[] {
  if (report.outcome !== 'failure') return [];
  const lines = ['#### What went wrong', '', fenced(report.error ?? 'unknown error', 'text')];
  const tail = report.rackLogTail ?? [];
  if (tail.length > 0) {
    const clipped = clipLines(tail.join('\n'), MAX_LOG_CHARS, 'tail');
    const shown = tail.length - clipped.omitted;
    lines.push('', `#### Last ${shown} line${shown === 1 ? '' : 's'} of the rack's log`, '', fenced(clipped.text, 'text'));
  }
  return lines;
}

/** A step that ran reads as its phase fared; one the plan skipped says why. */
function runStepStatus(step: PlanStep, report: RunReport): StepStatus {
  if (!step.runs)
    return report.plan.dryRun ? dryRunStepStatus(step) : { icon: '⏭️', detail: `skipped: ${step.skipped ?? 'not needed'}` };
  const phase = STEP_PHASE[step.id];
  const record = phase ? report.phases.find((p) => p.name === phase) : undefined;
  if (!record) return report.outcome === 'success' ? { icon: '✅' } : { icon: '⏸️', detail: 'not reached' };
  if (record.status === 'ok') return { icon: '✅' };
  if (record.status === 'failed') return failedPhaseStepStatus(step, report, record.name);
  return { icon: '⏸️', detail: 'not reached' };
}

/**
 * Inside a failed phase: steps known done are ✅, the first other one failed, the rest were not
 * reached. `stepsDone` names steps by id, or by title where several share an id (one push per tag).
 */
function failedPhaseStepStatus(step: PlanStep, report: RunReport, phase: PhaseName): StepStatus {
  const done = new Set(report.stepsDone ?? []);
  const isDone = (s: PlanStep): boolean => done.has(s.id) || done.has(s.title);
  if (isDone(step)) return { icon: '✅' };
  const failing = report.plan.steps.find((s) => s.runs && STEP_PHASE[s.id] === phase && !isDone(s));
  if (failing === step) return { icon: '❌', detail: `failed (the ${phase} phase failed here)` };
  return { icon: '⏸️', detail: 'not reached' };
}

const PHASE_RESULT: Readonly<Record<PhaseRecord['status'], string>> = { ok: '✅ ok', failed: '❌ failed', skipped: '⏭️ skipped' };

function phasesSection(phases: readonly PhaseRecord[]): string[] {
  if (phases.length === 0) return [];
  const lines = ['#### Timing', '', '| Phase | Result | Duration |', '| --- | --- | ---: |'];
  for (const p of phases) lines.push(`| ${p.name} | ${PHASE_RESULT[p.status]} | ${formatDuration(p.durationMs)} |`);
  const total = phases.reduce((sum, p) => sum + p.durationMs, 0);
  lines.push(`| **Total** | | **${formatDuration(total)}** |`);
  return lines;
}

function footerSection(report: RunReport): string[] {
  const parts = [`Commit ${code(report.sha.slice(0, 12))}`];
  if (report.runUrl) parts.push(link('workflow run', report.runUrl));
  return [parts.join(' · ')];
}
