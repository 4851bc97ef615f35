/**
 * Compose's top-level `include:` pulls services in from other files. The action edits one file and
 * does not follow includes, so a miss must say so and name the file to point `manifest` at.
 */
import path from 'node:path';
import type { ActionError } from '../errors.js';
import { lookup } from './mapping.js';
import { fail } from './parse.js';
import type { ParsedManifest } from './parse.js';
import type { ManifestSource } from './source.js';

/** The files a compose file includes, and where `include:` is written. */
export interface Included {
  readonly offset: number;
  readonly paths: readonly string[];
}

/** Compose's top-level `include:` (strings, or mappings with `path:`), which the action does not follow. */
export function includedFiles(parsed: ParsedManifest): Included | undefined {
  const entry = lookup(parsed.root, 'include');
  const value = parsed.value.include;
  if (!entry || !Array.isArray(value)) return undefined;
  const paths = value.flatMap((item: unknown) => {
    if (typeof item === 'string') return [item];
    const file = (item as { path?: unknown } | null)?.path;
    return typeof file === 'string' ? [file] : Array.isArray(file) ? file.filter((p): p is string => typeof p === 'string') : [];
  });
  return { offset: entry.keyNode.start, paths };
}

/** The refusal for a file whose services all live in included files. */
export function onlyIncludes(src: ManifestSource, included: Included): ActionError {
  const first = included.paths[0];
  return fail(
    src,
    included.offset,
    `defines no services of its own: it only includes other files (${included.paths.join(', ')}), which the action does not follow`,
    first
      ? `set the manifest input to the included file that defines the service, e.g. 'manifest: ${path.posix.join(path.posix.dirname(src.file.replace(/\\/g, '/')), first)}'`
      : 'set the manifest input to the included file that defines the service',
  );
}

/** A clause for messages about a file that includes others: "; the included files (…) are not followed". */
export function notFollowed(included: Included | undefined): string {
  return included ? `; the included files (${included.paths.join(', ')}) are not followed` : '';
}
