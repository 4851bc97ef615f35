/**
 * Which services to point at the new image: the ones named, or every service whose image is the
 * pushed repository. Each refusal lists what the manifest does hold, so the fix is obvious.
 */
import { familiarName } from '../image/reference.js';
import type { ImageReference } from '../image/reference.js';
import type { ActionError } from '../errors.js';
import { matchImage } from './image-text.js';
import { fail } from './parse.js';
import { includedFiles, notFollowed, onlyIncludes } from './include.js';
import type { Included } from './include.js';
import type { ParsedManifest } from './parse.js';
import { imageText, isReset, startOf, unknownImageTag } from './services.js';
import type { ManifestKind, ServiceEntry } from './services.js';
import { positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import type { ValueNode } from './yaml-tree.js';

/** A chosen service whose `image:` is a string scalar. */
export interface ChosenService {
  readonly service: ServiceEntry;
  readonly text: string;
  /** True when its repository holds a variable (only possible when named explicitly). */
  readonly variable: boolean;
}

/**
 * The services to update: those named, or (no names) every service running `image`. Throws
 * ActionError when a name is unknown, a named service cannot be updated, or nothing matches.
 */
export function chooseServices(
  src: ManifestSource,
  parsed: ParsedManifest,
  kind: ManifestKind,
  all: readonly ServiceEntry[],
  image: ImageReference,
  names: readonly string[] | undefined,
): ChosenService[] {
  const included = includedFiles(parsed);
  if (all.length === 0 && included) throw onlyIncludes(src, included);
  if (names === undefined || names.length === 0) return autoMatch(src, kind, all, image, included);
  const unknown = [...new Set(names)].filter((n) => !all.some((s) => s.name === n));
  if (unknown.length > 0) {
    const list = all.length ? all.map((s) => s.name).join(', ') : 'none';
    throw fail(
      src,
      undefined,
      `has no service named ${unknown.map((n) => `'${n}'`).join(', ')} (services: ${list})${notFollowed(included)}`,
      'correct the names in the services input (they are the keys under services:)',
    );
  }
  return [...new Set(names)].map((name) => explicit(src, kind, all.find((s) => s.name === name) as ServiceEntry, image));
}

function autoMatch(
  src: ManifestSource,
  kind: ManifestKind,
  all: readonly ServiceEntry[],
  image: ImageReference,
  included: Included | undefined,
): ChosenService[] {
  const chosen: ChosenService[] = [];
  for (const service of all) {
    const text = imageText(service);
    if (text !== undefined && matchImage(text, image).kind === 'same') chosen.push({ service, text, variable: false });
  }
  if (chosen.length > 0) return chosen;
  const repo = familiarName(image.repository);
  if (all.length === 0) {
    throw fail(
      src,
      undefined,
      `defines no services (read as ${describeKind(kind)})`,
      'check the manifest input points at the file that defines your services',
    );
  }
  const lines = all.map((s) => `  - ${s.name}: ${describeImage(s, image)}`);
  throw fail(
    src,
    undefined,
    `no service uses the image ${repo}, so there is nothing to point at the new tag${notFollowed(included)}. Services:\n${lines.join('\n')}`,
    `set image: ${repo}:<tag> on the services to update, or name them in the services input`,
  );
}

function explicit(src: ManifestSource, kind: ManifestKind, service: ServiceEntry, image: ImageReference): ChosenService {
  const text = imageText(service);
  if (service.image === undefined) throw noImage(src, kind, service, image);
  const at = startOf(service.image.node);
  const tagAt = tagStart(src, service.image.node);
  if (isReset(service.image.node)) {
    throw fail(
      src,
      tagAt,
      `service '${service.name}' resets its image with !reset, so there is no image reference to update`,
      `remove '${service.name}' from the services input, or give it an image: without !reset`,
    );
  }
  const tag = unknownImageTag(service);
  if (tag) {
    throw fail(
      src,
      tagAt,
      `service '${service.name}': its image carries the tag ${tag}, which the action does not know, so it leaves that value as written`,
      `write the image without ${tag}, e.g. image: ${familiarName(image.repository)}:<tag>`,
    );
  }
  if (text === undefined) {
    throw fail(
      src,
      startOf(service.image.node),
      `the image: of service '${service.name}' is not a string`,
      `write it as image: ${familiarName(image.repository)}:<tag>`,
    );
  }
  const match = matchImage(text, image);
  if (match.kind === 'variable') return { service, text, variable: true };
  if (match.kind === 'same') return { service, text, variable: false };
  if (match.kind === 'invalid') throw fail(src, at, `service '${service.name}': ${match.reason}`, 'fix the image: value');
  throw fail(
    src,
    at,
    `service '${service.name}' runs ${familiarName(match.repository)}, not the pushed ${familiarName(image.repository)}; only its tag would change, pointing it at an image that was never pushed`,
    `remove '${service.name}' from the services input, or change its image: to ${familiarName(image.repository)} first`,
  );
}

function noImage(src: ManifestSource, kind: ManifestKind, service: ServiceEntry, image: ImageReference): ActionError {
  const repo = familiarName(image.repository);
  const merge = service.unappliedMerge;
  if (merge && kind === 'convox') {
    return fail(
      src,
      merge.offset,
      `service '${service.name}' has no image: of its own, and Convox ignores the <<: merge key inside services (its YAML decoding drops the merged settings), so it builds '${service.name}' from source`,
      `give '${service.name}' its own image: line, or quote the merge key ("<<": ${merge.alias ? `*${merge.alias}` : '…'}), which Convox applies`,
    );
  }
  if (merge) {
    return fail(
      src,
      merge.offset,
      `service '${service.name}' has no image: of its own, and its merge key is quoted (${merge.text}), which YAML and Compose read as a plain key, not a merge`,
      `write the merge key without quotes: <<: ${merge.alias ? `*${merge.alias}` : '…'}`,
    );
  }
  const why = service.hasBuild
    ? 'has build: and no image:'
    : kind === 'convox'
      ? 'has no image: (Convox builds it from source)'
      : 'has no image:';
  return fail(
    src,
    service.offset,
    `service '${service.name}' ${why}, so there is no image reference to update`,
    `add "image: ${repo}:<tag>" to '${service.name}', or leave it out of the services input`,
  );
}

/** Where a local tag is written before its value (`!reset` in `image: !reset null`). */
function tagStart(src: ManifestSource, node: ValueNode): number {
  const at = startOf(node);
  const found = node.tag ? src.text.lastIndexOf(node.tag, at) : -1;
  return found !== -1 && !/[\r\n]/.test(src.text.slice(found, at)) ? found : at;
}

function describeImage(service: ServiceEntry, image: ImageReference): string {
  const text = imageText(service);
  if (service.image === undefined && service.unappliedMerge)
    return `no image: (its ${service.unappliedMerge.text} merge key is not applied)`;
  if (service.image === undefined) return service.hasBuild ? 'build: only, no image:' : 'no image:';
  if (isReset(service.image.node)) return 'image: !reset';
  const tag = unknownImageTag(service);
  if (tag) return `image: under the tag ${tag}, left as written`;
  if (text === undefined) return 'image: is not a string';
  const match = matchImage(text, image);
  if (match.kind === 'variable')
    return `${text} (a variable in the repository; name the service in the services input to update it)`;
  if (match.kind === 'invalid') return `${text} (not a valid image reference)`;
  return text;
}

function describeKind(kind: ManifestKind): string {
  return {
    convox: 'convox.yml',
    compose: 'docker-compose with services:',
    'compose-v1': 'docker-compose v1, services at the top level',
  }[kind];
}

/**
 * Services of a convox.yml that YAML's merge rules would point at `image` but Convox does not:
 * a plain `<<:` inside services is dropped (see MergeRules), so Convox builds them from source.
 */
export function mergeNotes(
  src: ManifestSource,
  kind: ManifestKind,
  all: readonly ServiceEntry[],
  image: ImageReference,
): string[] {
  if (kind !== 'convox') return [];
  return all
    .filter((s) => s.unappliedMerge?.image !== undefined && matchImage(s.unappliedMerge.image, image).kind === 'same')
    .map(
      (s) =>
        `service '${s.name}' merges its settings with <<: (line ${positionOf(src, s.unappliedMerge?.offset ?? 0).line}), which Convox ignores inside services; it was left out and Convox builds it from source`,
    );
}
