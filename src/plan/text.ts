import type { Plan } from './types.js';

/** The plan as plain text for the job log: what a merge would do, step by step. */
export function renderPlanText(plan: Plan): string {
  const lines: string[] = [];
  lines.push(plan.dryRun ? `Dry run (${plan.dryRunReason}): this is what a real run would do.` : `Plan (${plan.dryRunReason}):`);
  if (plan.image) {
    lines.push('', 'Image references:');
    for (const ref of plan.image.references) lines.push(`  ${ref}`);
  }
  if (plan.manifest?.diff) lines.push('', `Manifest change (${plan.manifest.file}):`, plan.manifest.diff.trimEnd());
  else if (plan.manifest) {
    for (const s of plan.manifest.services)
      lines.push(`  service ${s.service} (${plan.manifest.file}:${s.line}): ${s.before} -> ${s.after}`);
  }
  if (plan.env)
    lines.push(
      '',
      `Environment: ${plan.env.name}: ${plan.env.before ?? `unknown (${plan.env.unknownBecause ?? 'not read'})`} -> ${plan.env.after}`,
    );
  if (plan.deploy) {
    const d = plan.deploy;
    const now = d.current ? ` (now ${d.current.status}${d.current.release ? `, release ${d.current.release}` : ''})` : '';
    lines.push('', `Rack: ${d.host}${d.rack ? ` rack ${d.rack}` : ''}, app ${d.app}${now}`);
    lines.push(`Route: ${d.route.route} (${d.route.why})`);
  }
  lines.push('', 'Steps:');
  plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${s.title}${s.runs ? '' : `  [skipped: ${s.skipped}]`}`));
  for (const note of plan.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}
