/**
 * The job summary (`GITHUB_STEP_SUMMARY`), written on every run, dry or real, successful or not:
 * the verdict on the first line, then why it failed (when it did), the image, the manifest or
 * environment change, the rack, each step, each phase's duration and the notes. Pure: the
 * caller redacts secrets from the report and writes the text.
 */
import type { StepId } from '../plan/steps.js';
import type { PhaseRecord, RunReport } from '../plan/types.js';
import { consoleLink } from './console.js';
import { clipLines, code, escapeText, fenced, firstLine, formatDuration, link } from './markdown.js';
import {
  changeSection,
  imageSection,
  joinSections,
  notesSection,
  rackSection,
  recordedStepStatus,
  stepsSection,
} from './plan-sections.js';

/** How the summary links out. */
export interface SummaryOptions {
  /** The Console host (e.g. `console.convox.com`) when the rack is reached through one. */
  readonly consoleHost?: string;
}

// A step summary may hold 1 MiB; these keep one huge diff or log from crowding out the rest.
const MAX_DIFF_CHARS = 200_000;
const MAX_LOG_CHARS = 60_000;

/** Renders the job summary for one run as GitHub-flavoured Markdown. */
export function renderSummary(report: RunReport, opts: SummaryOptions = {}): string {
  const { plan } = report;
  const sections = [
    verdictSection(report),
    failureSection(report),
    plan.image ? imageSection(plan.image, report) : [],
    changeSection(plan, MAX_DIFF_CHARS),
    plan.deploy ? rackSection(plan.deploy, report, consoleLink(plan.deploy, opts.consoleHost)) : [],
    stepsSection(plan.steps, (_step, i) => recordedStepStatus(report.steps[i], plan.dryRun)),
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
  const done = (id: StepId): boolean => report.steps.some((s) => s.id === id && s.status === 'done');
  const deploy = plan.deploy;
  const staged = deploy && !deploy.promote && report.releaseId;
  if (staged) {
    const id = code(report.releaseId ?? '');
    return `Staged release ${id} on app ${code(deploy.app)} (promote: false): promote it with \`convox releases promote ${report.releaseId} --app ${deploy.app}\`, or this action with \`release: ${report.releaseId}\``;
  }
  if (deploy && done('promote')) {
    const what = report.releaseId ? `release ${code(report.releaseId)}` : 'the new release';
    const onRack = deploy.rack ? ` on rack ${code(deploy.rack)}` : '';
    // Without the wait nobody saw it run; "deployed" would claim more than we know.
    if (!done('wait')) return `Promoted ${what} on app ${code(deploy.app)}${onRack} (not waited for: wait: false)`;
    return `Deployed ${what} to app ${code(deploy.app)}${onRack}`;
  }
  const primary = plan.image?.references[0] ?? plan.image?.repository ?? '';
  if (done('push')) return `Pushed ${code(primary)}${deploy ? '' : ' (no app set, so nothing was deployed)'}`;
  if (done('build')) return `Built ${code(primary)} (not pushed)`;
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
