import type { RoutePlan } from './route.js';
import type { StepId, StepOutcome } from './steps.js';

/**
 * The plan: everything a run would do, computed before anything touches the world. A dry run
 * prints it; a real run executes it; reports render it. Same object either way, so the dry run
 * tells the truth.
 */

/** One step the action will (or would) take, in order. */
export interface PlanStep {
  /** Which step this is (src/plan/steps.ts lists them all). */
  readonly id: StepId;
  /** What a person reads: "Push 127.0.0.1:5000/acme/shop:20261122220501". */
  readonly title: string;
  /** True when the step runs in this run; false with `skipped` saying why. */
  readonly runs: boolean;
  readonly skipped?: string;
  /** The image reference a `push` step pushes (one step per tag). */
  readonly reference?: string;
}

export interface ImagePlan {
  /** The repository as the user wrote it in `image` (no tag). */
  readonly repository: string;
  /** Full references for every tag, primary first (`host/path:tag`). */
  readonly references: readonly string[];
  readonly tags: readonly string[];
  readonly primaryTag: string;
}

export interface ServiceImageChange {
  readonly service: string;
  readonly line: number;
  readonly before: string;
  readonly after: string;
}

export interface ManifestChange {
  /** Workspace-relative path. */
  readonly file: string;
  readonly mode: 'manifest' | 'env';
  readonly services: readonly ServiceImageChange[];
  /** Unified diff of the file ('' in env mode or when nothing changes). */
  readonly diff: string;
}

export interface EnvChange {
  readonly name: string;
  /** Current value on the app when it could be read; undefined when unknown. */
  readonly before?: string;
  readonly after: string;
  /** Why `before` is unknown (no credentials in a fork PR, deploy key cannot read releases, …). */
  readonly unknownBecause?: string;
}

export interface DeployPlan {
  readonly app: string;
  readonly rack?: string;
  /** Rack or Console host, no credentials. */
  readonly host: string;
  /** How the release is made (import, source build, or an existing release) and why. */
  readonly route: RoutePlan;
  /** False: the release is made and staged, not promoted. */
  readonly promote: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  /** What a read-only look at the rack found (dry runs with credentials). */
  readonly current?: { readonly status: string; readonly release?: string };
  /** Link to the app in the Console, when the host is a Console. */
  readonly url?: string;
}

export interface Plan {
  readonly dryRun: boolean;
  /** Why this is (or is not) a dry run: "pull_request event (dry-run: auto)". */
  readonly dryRunReason: string;
  /** Absent only when promoting an existing release (nothing is built or pushed). */
  readonly image?: ImagePlan;
  readonly manifest?: ManifestChange;
  readonly env?: EnvChange;
  readonly deploy?: DeployPlan;
  readonly steps: readonly PlanStep[];
  /** Things the plan could not check, said plainly. */
  readonly notes: readonly string[];
}

export type PhaseName = 'inputs' | 'plan' | 'build' | 'push' | 'manifest' | 'deploy' | 'report';

export interface PhaseRecord {
  readonly name: PhaseName;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly durationMs: number;
}

/** What happened: the plan plus the results and timings of each phase. */
export interface RunReport {
  readonly plan: Plan;
  readonly phases: readonly PhaseRecord[];
  readonly outcome: 'success' | 'failure';
  readonly digest?: string;
  readonly imageId?: string;
  readonly buildId?: string;
  readonly releaseId?: string;
  readonly previousReleaseId?: string;
  /** The failure, already redacted, as shown to the person. */
  readonly error?: string;
  /** The rack's last log lines on a failed deploy. */
  readonly rackLogTail?: readonly string[];
  /** How each of the plan's steps fared, in the plan's order (the recorder's record). */
  readonly steps: readonly StepOutcome[];
  /** Commit SHA the run is about (the PR head on pull_request events). */
  readonly sha: string;
  /** Link to this workflow run, when known. */
  readonly runUrl?: string;
}
