/**
 * `planManifestUpdate`: from the manifest's bytes and the pushed image to the exact bytes to
 * write (manifest mode) or the images the rack will interpolate (env mode). Pure.
 */
import { digestProblem, isValidTag } from '../image/reference.js';
import { ActionError } from '../errors.js';
import { chooseServices, mergeNotes } from './choose.js';
import { unifiedDiff } from './diff.js';
import { checkDuplicateKeys } from './duplicates.js';
import { envServices } from './env.js';
import { fail, parseManifest } from './parse.js';
import type { ParsedManifest } from './parse.js';
import { rewriteManifest } from './rewrite.js';
import { detectKind, imageText, listServices } from './services.js';
import type { ServiceEntry } from './services.js';
import { decodeManifest } from './source.js';
import type { ManifestSource } from './source.js';
import type { ManifestPlan, ManifestPlanInput } from './types.js';
import { valueAt } from './verify.js';

/**
 * Plans the manifest update. Throws ActionError (phase `manifest`, with file, line and column
 * where there is one) for anything a person must fix; `after` exists only when the edit verified.
 */
export function planManifestUpdate(input: ManifestPlanInput): ManifestPlan {
  checkTagAndDigest(input);
  const src = decodeManifest(input.file, input.bytes);
  const parsed = parseManifest(src);
  const kind = detectKind(input.file, parsed.root);
  const repeated = parsed.repeatedKey ? checkDuplicateKeys(src, kind, parsed.root, parsed.repeatedKey.offset) : [];
  const all = listServices(src, kind, parsed.root);
  crossCheck(src, parsed, all);
  const chosen = chooseServices(src, parsed, kind, all, input.image, input.services);
  const base = { kind, file: input.file, before: input.bytes };
  const merges = [...repeated, ...(input.services?.length ? [] : mergeNotes(src, kind, all, input.image))];
  if (input.mode === 'env') {
    const services = envServices(src, chosen, input.image, input.envVar, input.tag);
    return { ...base, services, after: input.bytes, changed: false, diff: '', notes: merges };
  }
  const next = { tag: input.tag, digest: input.digest };
  const { after, services, notes } = rewriteManifest(src, parsed, kind, all, chosen, next);
  const changed = !after.equals(input.bytes);
  const diff = changed ? unifiedDiff(input.file, input.bytes, after) : '';
  return { ...base, services, after, changed, diff, notes: [...notes, ...merges] };
}

function checkTagAndDigest(input: ManifestPlanInput): void {
  const place = { file: input.file, phase: 'manifest' };
  if (!isValidTag(input.tag)) {
    throw new ActionError(
      `cannot point ${input.file} at tag "${input.tag}": not a valid Docker tag`,
      place,
      'use letters, digits, "_", "." and "-" (at most 128), starting with a letter, digit or "_"',
    );
  }
  const problem = input.digest === undefined ? undefined : digestProblem(input.digest);
  if (problem)
    throw new ActionError(
      `cannot pin ${input.file} to the pushed digest: ${problem}`,
      place,
      'pass the digest the registry reported (sha256:…)',
    );
}

/**
 * The tree walk (merges, aliases, key spelling) must agree with the loader about every image;
 * if it ever does not, refuse rather than edit the wrong bytes.
 */
function crossCheck(src: ManifestSource, parsed: ParsedManifest, all: readonly ServiceEntry[]): void {
  for (const service of all) {
    const text = imageText(service);
    const loaded = valueAt(parsed.value, service.imagePath);
    // A non-string image (`image: 1`) cannot match any repository; only strings must agree.
    if (text === undefined || typeof loaded !== 'string') continue;
    if (loaded !== text) {
      throw fail(
        src,
        service.offset,
        `cannot locate the image of service '${service.name}' reliably (read "${text}", the YAML loader says ${JSON.stringify(loaded)})`,
        'quote the image value, e.g. image: "namespace/repo:tag"',
      );
    }
  }
}
