import type { Config } from '../config/config.js';
import { relativeToWorkspace } from '../config/paths.js';
import { formatReference } from '../image/reference.js';
import type { ManifestPlan } from '../manifest/index.js';
import type { PullFacts } from '../convox/inspect.js';
import type { AnonymousRead } from '../registry/client.js';
import { pullNotes } from './pull.js';
import { planRoute, type RoutePlan } from './route.js';
import type { StepId } from './steps.js';
import type { DeployPlan, EnvChange, ManifestChange, Plan, PlanStep } from './types.js';

/** What a read-only look at the rack found, when credentials allowed one. */
export interface RackLook {
  readonly status: string;
  readonly release?: string;
  readonly envValue?: string;
  readonly canReadReleases: boolean;
  /** `GET /system` version. */
  readonly version?: string;
  /** What the rack holds for pulling images, when it was read. */
  readonly pull?: PullFacts;
}

export interface PlanInputs {
  readonly config: Config;
  readonly manifest?: ManifestPlan;
  readonly rack?: RackLook;
  /** Why the rack could not be looked at (no credentials in a fork PR, …). */
  readonly rackUnavailable?: string;
  readonly rackHost?: string;
  /** The manifest as the rack will get it (after the planned rewrite), for the route. */
  readonly manifestText?: string;
  /** Whether the image's registry lets anyone read it, when the plan had to ask (pull.ts). */
  readonly anonymousRead?: AnonymousRead;
}

/** Full references for every tag, primary first, spelled with the repository as the user wrote it. */
export function imageReferences(config: Config): string[] {
  const { image } = config;
  return image ? config.tags.map((tag) => `${image.original}:${tag}`) : [];
}

/** The rack route for these inputs (route.ts): the runner asks before the plan, to know what to check. */
export function routeOf(p: Pick<PlanInputs, 'config' | 'manifestText' | 'rack'>): RoutePlan | undefined {
  return planRoute(p.config, {
    manifestText: p.manifestText,
    rackVersion: p.rack?.version,
  });
}

/**
 * Computes the plan. Pure: same inputs, same plan, in a dry run and a real one.
 * @throws ActionError when the inputs ask for a route the rack or manifest cannot take.
 */
export function makePlan(p: PlanInputs): Plan {
  const { config } = p;
  const references = imageReferences(config);
  const notes: string[] = [];
  const manifest = manifestChange(p);
  const env = envChange(p, notes);
  const route = routeOf(p);
  const deploy = route && deployPlan(p, route);
  notes.push(...pullNotes(config, route, p.rack?.pull, p.anonymousRead));
  if (p.rackUnavailable && config.deploy) notes.push(`The rack was not consulted: ${p.rackUnavailable}.`);
  if (config.deploy && config.build.enabled && !config.push)
    notes.push(
      `push: false: the rack will pull ${references[0]}, which this run does not push; it must already be in the registry.`,
    );
  return {
    dryRun: config.dryRun,
    dryRunReason: config.dryRunReason,
    image: config.image && {
      repository: formatReference(config.image, true),
      references,
      tags: config.tags,
      primaryTag: config.tags[0] ?? '',
    },
    manifest,
    env,
    deploy,
    steps: planSteps(config, references, route),
    notes,
  };
}

function manifestChange(p: PlanInputs): ManifestChange | undefined {
  const m = p.manifest;
  if (!m || p.config.update.mode === 'none') return undefined;
  return {
    file: m.file,
    mode: p.config.update.mode,
    services: m.services.map((s) => ({ service: s.service, line: s.line, before: s.before, after: s.after })),
    diff: m.diff,
  };
}

function envChange(p: PlanInputs, notes: string[]): EnvChange | undefined {
  const { update, tags } = p.config;
  if (update.mode !== 'env') return undefined;
  const after = tags[0] ?? '';
  if (p.rack?.envValue !== undefined) return { name: update.envVar, before: p.rack.envValue, after };
  let unknownBecause = p.rackUnavailable ?? 'no app is set';
  if (p.rack && !p.rack.canReadReleases) unknownBecause = 'the credential cannot read releases (a Console deploy key)';
  else if (p.rack) unknownBecause = 'the app has no value for it yet';
  if (p.rack && !p.rack.canReadReleases)
    notes.push(`${update.envVar} cannot be set with a deploy key: it cannot read the app's other variables.`);
  return { name: update.envVar, after, unknownBecause };
}

function deployPlan(p: PlanInputs, route: RoutePlan): DeployPlan | undefined {
  const d = p.config.deploy;
  if (!d) return undefined;
  const host = p.rackHost ?? d.rackHost ?? 'console.convox.com';
  return {
    app: d.app,
    rack: d.rack,
    host,
    route,
    promote: d.promote,
    wait: d.wait,
    timeoutMs: d.timeoutMs,
    current: p.rack ? { status: p.rack.status, release: p.rack.release } : undefined,
  };
}

function step(id: StepId, title: string, skipped?: string, reference?: string): PlanStep {
  const base = { id, title, reference };
  return skipped ? { ...base, runs: false, skipped } : { ...base, runs: true };
}

/** The ordered steps, each marked as running in this run or skipped with the reason. */
export function planSteps(config: Config, references: readonly string[], route?: RoutePlan): PlanStep[] {
  const dry = config.dryRun ? 'dry run' : undefined;
  const steps: PlanStep[] = [];
  const { build, update, deploy } = config;
  const release = deploy?.release;
  steps.push(
    step(
      'build',
      `Build ${relativeToWorkspace(config.workspace, build.dockerfile)} (context ${relativeToWorkspace(config.workspace, build.context)})`,
      build.enabled
        ? undefined
        : release
          ? `release: ${release} is promoted as it is (nothing to build)`
          : 'build: false (deploying an existing tag)',
    ),
  );
  if (release) {
    // The release holds its image and manifest: nothing to check, push or write.
  } else if (!build.enabled) steps.push(step('check-image', `Check that ${references[0] ?? 'the image'} is in the registry`));
  else
    for (const ref of references) steps.push(step('push', `Push ${ref}`, dry ?? (config.push ? undefined : 'push: false'), ref));
  if (update.mode === 'manifest')
    steps.push(step('write-manifest', `Rewrite image: in ${update.manifestFile ?? 'the manifest'}`, dry));
  if (!deploy || !route) {
    steps.push(step('deploy', 'Deploy to Convox', "no 'app' is set"));
    return steps;
  }
  const app = `app ${deploy.app}`;
  if (route.route === 'release') {
    steps.push(step('promote', `Promote release ${release} of ${app}`, dry));
    steps.push(step('wait', `Wait until ${app} runs release ${release}`, dry ?? (deploy.wait ? undefined : 'wait: false')));
    return steps;
  }
  if (update.mode === 'env')
    steps.push(step('env-release', `Set ${update.envVar}=${config.tags[0]} on ${app} (new release, other variables kept)`, dry));
  if (route.route === 'import')
    steps.push(
      step(
        'rack-import',
        `Import ${references[0] ?? 'the image'} into ${app} (the rack copies it; no upload, no build pod)`,
        dry,
      ),
    );
  else {
    steps.push(step('upload', `Upload the source of ${app} to the rack`, dry));
    steps.push(step('rack-build', `Build on the rack (pulls ${references[0] ?? 'the image'})`, dry));
  }
  const staged = deploy.promote ? undefined : 'promote: false (the release is staged for a later promote)';
  steps.push(step('promote', `Promote the new release of ${app}`, dry ?? staged));
  steps.push(step('wait', `Wait until ${app} runs the new release`, dry ?? staged ?? (deploy.wait ? undefined : 'wait: false')));
  return steps;
}
