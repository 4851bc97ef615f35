/**
 * The Markdown sections the job summary and the PR comment share, so a plan reads the same in
 * both places. Each returns lines (no trailing blank line); empty when there is nothing to say.
 */
import type { RoutePlan } from '../plan/route.js';
import type { StepOutcome } from '../plan/steps.js';
import type { DeployPlan, EnvChange, ImagePlan, ManifestChange, Plan, PlanStep } from '../plan/types.js';
import { clipLines, code, escapeText, fenced, formatDuration, link } from './markdown.js';

/** What a run learned about the image beyond the plan. */
export interface ImageFacts {
  readonly digest?: string;
  readonly imageId?: string;
}

/** Rack-side ids a real run produced. */
export interface RackFacts {
  readonly buildId?: string;
  readonly releaseId?: string;
  readonly previousReleaseId?: string;
}

/** How one step fared, as a marker and an optional explanation. */
export interface StepStatus {
  readonly icon: string;
  readonly detail?: string;
}

/** Image references (primary first), the digest and a pull-by-digest reference. */
export function imageSection(image: ImagePlan, facts: ImageFacts = {}): string[] {
  const lines = ['#### Image', ''];
  if (image.references.length === 0) lines.push(`- ${code(image.repository)} (no tags)`);
  image.references.forEach((ref, i) => lines.push(`- ${code(ref)}${i === 0 && image.references.length > 1 ? ' (primary)' : ''}`));
  if (facts.digest) {
    lines.push(`- Digest: ${code(facts.digest)}`);
    const primary = image.references[0];
    const suffix = `:${image.primaryTag}`;
    if (primary?.endsWith(suffix)) lines.push(`- By digest: ${code(`${primary.slice(0, -suffix.length)}@${facts.digest}`)}`);
  }
  // The local image id is not what a registry serves (docker/build-push-action#461): say so.
  if (facts.imageId) lines.push(`- Local image ID (not the registry digest): ${code(facts.imageId)}`);
  return lines;
}

/** The manifest diff in a ```diff block, or the environment variable's old → new value. */
export function changeSection(plan: Plan, maxDiffChars: number): string[] {
  const lines: string[] = [];
  if (plan.manifest && plan.manifest.mode === 'manifest') lines.push(...manifestLines(plan.manifest, maxDiffChars));
  if (plan.env) {
    if (lines.length) lines.push('');
    lines.push(...envLines(plan.env, plan.manifest?.mode === 'env' ? plan.manifest.file : undefined));
  }
  return lines;
}

function manifestLines(manifest: ManifestChange, maxDiffChars: number): string[] {
  const lines = [`#### Manifest change in ${code(manifest.file)}`, ''];
  if (!manifest.diff) {
    lines.push('No change: every service already uses this image.');
    return lines;
  }
  const clipped = clipLines(manifest.diff.trimEnd(), maxDiffChars, 'head');
  lines.push(fenced(clipped.text, 'diff'));
  if (clipped.omitted) lines.push('', `*${clipped.omitted} more diff lines not shown (too long for this page).*`);
  return lines;
}

function envLines(env: EnvChange, file: string | undefined): string[] {
  const before = env.before !== undefined ? code(env.before) : `unknown (${escapeText(env.unknownBecause ?? 'not read')})`;
  const same = env.before !== undefined && env.before === env.after ? ' (unchanged)' : '';
  const where = file ? ` (read by ${code(file)})` : '';
  return ['#### Environment', '', `- ${code(env.name)}${where}: ${before} → ${code(env.after)}${same}`];
}

/** Rack, app, build and release, with a Console link when there is one. */
export function rackSection(deploy: DeployPlan, facts: RackFacts, consoleUrl: string | undefined): string[] {
  const lines = ['#### Convox', ''];
  const via = deploy.rack ? `${code(deploy.rack)} via ${code(deploy.host)}` : code(deploy.host);
  lines.push(`- Rack: ${via}${consoleUrl ? ` (${link('Convox Console', consoleUrl)})` : ''}`);
  const now = deploy.current
    ? ` (before this run: ${escapeText(deploy.current.status)}${deploy.current.release ? `, release ${code(deploy.current.release)}` : ''})`
    : '';
  lines.push(`- App: ${code(deploy.app)}${now}`);
  lines.push(`- Route: ${ROUTE_NAME[deploy.route.route]} (${escapeText(deploy.route.why)})`);
  if (facts.buildId) lines.push(`- Build: ${code(facts.buildId)}`);
  if (facts.releaseId) {
    const previous = facts.previousReleaseId ? ` (previous: ${code(facts.previousReleaseId)})` : '';
    lines.push(`- Release: ${code(facts.releaseId)}${previous}`);
  } else if (facts.previousReleaseId) {
    lines.push(`- Release before this run: ${code(facts.previousReleaseId)}`);
  }
  lines.push(`- Wait: ${deploy.wait ? `until running, up to ${formatDuration(deploy.timeoutMs)}` : 'no (wait: false)'}`);
  return lines;
}

const ROUTE_NAME: Readonly<Record<RoutePlan['route'], string>> = {
  import: 'import the pushed image (no upload, no build pod)',
  source: 'upload the source and build on the rack',
  release: 'promote an existing release',
};

/** The numbered steps, each with its status marker. */
export function stepsSection(steps: readonly PlanStep[], statusOf: (step: PlanStep, index: number) => StepStatus): string[] {
  if (steps.length === 0) return [];
  const lines = ['#### Steps', ''];
  steps.forEach((step, i) => {
    const status = statusOf(step, i);
    lines.push(`${i + 1}. ${status.icon} ${escapeText(step.title)}${status.detail ? ` — ${escapeText(status.detail)}` : ''}`);
  });
  return lines;
}

/** How a step reads in a dry run: ran now, would run for real, or skipped either way. */
export function dryRunStepStatus(step: PlanStep): StepStatus {
  if (step.runs) return { icon: '✅', detail: 'runs in this dry run' };
  if (isDryRunSkip(step)) return { icon: '🧪', detail: 'would run in a real run' };
  return { icon: '⏭️', detail: `skipped: ${step.skipped ?? 'not needed'}` };
}

/** How a step reads once run: as the run's record says (src/phases/recorder.ts), nothing guessed. */
export function recordedStepStatus(outcome: StepOutcome | undefined, dryRun: boolean, doneDetail?: string): StepStatus {
  switch (outcome?.status) {
    case 'done':
      return doneDetail ? { icon: '✅', detail: doneDetail } : { icon: '✅' };
    case 'failed':
      return { icon: '❌', detail: 'failed' };
    case 'skipped':
      return dryRun && isDryRunReason(outcome.reason)
        ? { icon: '🧪', detail: 'would run in a real run' }
        : { icon: '⏭️', detail: `skipped: ${outcome.reason ?? 'not needed'}` };
    default:
      return { icon: '⏸️', detail: 'not reached' };
  }
}

function isDryRunReason(reason: string | undefined): boolean {
  return /^dry[ -]run\b/i.test(reason ?? '');
}

/**
 * True when a step is skipped only because this is a dry run. The plan says so in `skipped`
 * ("dry run"); a dedicated flag on PlanStep would be sturdier than reading the reason.
 */
export function isDryRunSkip(step: PlanStep): boolean {
  return !step.runs && isDryRunReason(step.skipped);
}

/** Things the plan could not check, said plainly. */
export function notesSection(notes: readonly string[]): string[] {
  if (notes.length === 0) return [];
  return ['#### Notes', '', ...notes.map((n) => `- ${escapeText(n)}`)];
}

/** Joins sections with one blank line between them, dropping empty ones. */
export function joinSections(sections: readonly (readonly string[])[]): string {
  return sections
    .filter((s) => s.length > 0)
    .map((s) => s.join('\n'))
    .join('\n\n');
}
