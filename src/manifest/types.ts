/**
 * The manifest module's contract with the plan: what goes in, what comes out.
 */
import type { ImageReference } from '../image/reference.js';
import type { ManifestKind } from './services.js';

export type { ManifestKind };

export interface ManifestPlanInput {
  /** Workspace-relative path, used in messages and the diff header. */
  readonly file: string;
  /** The file as read. */
  readonly bytes: Buffer;
  /** The pushed repository (its tag and digest, if any, are ignored). */
  readonly image: ImageReference;
  /** Services to update by name; undefined = every service whose image is `image`. */
  readonly services?: readonly string[];
  readonly mode: 'manifest' | 'env';
  /** The variable that carries the tag in env mode (default IMAGE_VERSION). */
  readonly envVar: string;
  /** The new primary tag. */
  readonly tag: string;
  /** `sha256:…` to pin (manifest mode), when known. */
  readonly digest?: string;
}

/** One service's image before and after. */
export interface ServiceImage {
  readonly service: string;
  /** 1-based position of the scalar that changes (the anchored one when shared). */
  readonly line: number;
  readonly column: number;
  /** The image as written now. */
  readonly before: string;
  /** Manifest mode: the new text. Env mode: what the rack will interpolate to. */
  readonly after: string;
  /** The anchor the value is shared through (`image: *app_image`, `<<: *defaults`). */
  readonly anchor?: string;
}

export interface ManifestPlan {
  readonly kind: ManifestKind;
  readonly file: string;
  readonly services: ServiceImage[];
  readonly before: Buffer;
  /** The bytes to write; equal to `before` in env mode or when nothing changes. */
  readonly after: Buffer;
  readonly changed: boolean;
  /** Unified diff with a/ and b/ names; '' when unchanged. */
  readonly diff: string;
  /** Things a person should know that are not failures (e.g. a variable repository kept as written). */
  readonly notes: string[];
}
