import type { ImageReference } from '../image/reference.js';
import type { GitHubContext } from './github.js';

/** Everything the action was asked to do, validated. Built once by `readInputs`; never mutated. */
export interface Config {
  readonly github: GitHubContext;
  readonly workspace: string;
  /** The repository to push to (no tag); absent only when promoting an existing `release`. */
  readonly image?: ImageReference;
  /** Rendered tags, primary first. */
  readonly tags: readonly string[];
  readonly build: BuildConfig;
  readonly push: boolean;
  readonly registry: { readonly username?: string; readonly password?: string };
  readonly dryRun: boolean;
  readonly dryRunReason: string;
  readonly update: UpdateConfig;
  readonly deploy?: DeployConfig;
  readonly report: ReportConfig;
}

export interface BuildConfig {
  readonly enabled: boolean;
  /** Absolute paths. */
  readonly context: string;
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly pull: boolean;
  readonly cacheFrom: readonly string[];
  readonly platform?: string;
  readonly network?: string;
}

export interface UpdateConfig {
  readonly mode: 'manifest' | 'env' | 'none';
  /** Absolute path of the manifest (undefined only with mode none and no manifest input). */
  readonly manifestPath?: string;
  /** Workspace-relative path, for messages and reports. */
  readonly manifestFile?: string;
  readonly services?: readonly string[];
  readonly envVar: string;
  readonly pinDigest: boolean;
}

export interface DeployConfig {
  readonly app: string;
  readonly rack?: string;
  readonly rackHost?: string;
  readonly rackPassword?: string;
  readonly insecureTls: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly description?: string;
  /** `auto`: import when the rack (≥ 3.24.6) and the manifest allow it; `import`; `source`. */
  readonly rackBuild: 'auto' | 'import' | 'source';
  /** False: stage the release (make it, do not promote). */
  readonly promote: boolean;
  /** Promote this existing release instead of building one (`R…`). */
  readonly release?: string;
}

export interface ReportConfig {
  readonly comment: boolean;
  readonly githubToken?: string;
  readonly environment?: string;
  readonly environmentUrl?: string;
}
