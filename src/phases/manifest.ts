import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { ActionError } from '../errors.js';
import { planManifestUpdate, writeFileAtomic, type ManifestPlan } from '../manifest/index.js';

/** Reads the manifest and plans its update; validation happens here, before anything is pushed. */
export function planManifest(config: Config, digest?: string): ManifestPlan | undefined {
  const { update, image } = config;
  if (update.mode === 'none' || !image || !update.manifestPath || !update.manifestFile) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(update.manifestPath);
  } catch (e) {
    throw new ActionError(
      `cannot read ${update.manifestFile}: ${(e as Error).message}`,
      { input: 'manifest', phase: 'plan' },
      'check the path and the checkout step',
    );
  }
  return planManifestUpdate({
    file: update.manifestFile,
    bytes,
    image,
    services: update.services,
    mode: update.mode,
    envVar: update.envVar,
    tag: config.tags[0] ?? '',
    digest: update.pinDigest ? digest : undefined,
  });
}

/** Writes the rewritten manifest in place (atomically) so a later step can commit it. */
export async function writeManifest(config: Config, plan: ManifestPlan): Promise<boolean> {
  if (!plan.changed || !config.update.manifestPath) return false;
  await writeFileAtomic(config.update.manifestPath, plan.after);
  return true;
}

/** The manifest the rack gets: the planned (or pinned) rewrite, else the file as it is; undefined when there is none. */
export function manifestForRack(config: Config, plan: ManifestPlan | undefined): string | undefined {
  if (plan) return plan.after.toString('utf8');
  const file = config.update.manifestPath;
  return file && existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}
