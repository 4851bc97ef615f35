/**
 * The manifest module: find the services to update, rewrite their `image:` byte-exactly, verify
 * the edit, check env-mode references, and describe the change as a unified diff.
 */
export { planManifestUpdate } from './plan.js';
export type { ManifestKind, ManifestPlan, ManifestPlanInput, ServiceImage } from './types.js';
export { unifiedDiff } from './diff.js';
export { defaultManifestPath, writeFileAtomic, DEFAULT_MANIFESTS } from './files.js';
