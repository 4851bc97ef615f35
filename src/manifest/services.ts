/**
 * Which kind of manifest a file is, and its services with where each one's `image:` lives.
 */
import { ActionError } from '../errors.js';
import { asScalar, entries, isNullNode, lookup, mergeKeyOf } from './mapping.js';
import type { MergeRules } from './mapping.js';
import { positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import { deref, isLocalTag } from './yaml-tree.js';
import type { MapNode, ValueNode, YamlNode } from './yaml-tree.js';

/** `convox` (convox.yml), `compose` (services: map, v2/v3/spec), `compose-v1` (services at the top). */
export type ManifestKind = 'convox' | 'compose' | 'compose-v1';

/** A path into the loaded value, e.g. `['services', 'web', 'image']`. */
export type ValuePath = readonly (string | number)[];

/** Where a service's `image:` value is written and how the service reaches it. */
export interface ImageSite {
  /** The value node (aliases followed). */
  readonly node: ValueNode;
  /** `direct`: written in the service; `alias`: `image: *name`; `merge`: from a `<<` mapping. */
  readonly via: 'direct' | 'alias' | 'merge';
  /** The anchor the value was reached through. */
  readonly anchor?: string;
}

export interface ServiceEntry {
  readonly name: string;
  /** Offset of the service's key, for messages. */
  readonly offset: number;
  readonly image?: ImageSite;
  readonly hasBuild: boolean;
  /** Path of this service's image in js-yaml's loaded value (through a quoted `"<<"` for Convox). */
  readonly imagePath: ValuePath;
  /**
   * A merge key the deployer does not apply, when the service has no image of its own: a plain
   * `<<:` in convox.yml (Convox drops it), a quoted `"<<"` in docker-compose.yml (a plain key).
   */
  readonly unappliedMerge?: UnappliedMerge;
}

export interface UnappliedMerge {
  readonly offset: number;
  /** The key as written: `<<`, `"<<"` or `'<<'`. */
  readonly text: string;
  readonly alias?: string;
  /** The image YAML's own merge rules would have given the service. */
  readonly image?: string;
}

const CONVOX_FILE = /(?:^|[\\/])convox[^\\/]*\.ya?ml$/i;
const CONVOX_ONLY_KEYS = ['resources', 'timers', 'balancers', 'params'];

/** Decides the manifest kind from its name and top-level keys. */
export function detectKind(file: string, root: MapNode): ManifestKind {
  const hasServices = lookup(root, 'services') !== undefined;
  if (CONVOX_FILE.test(file)) return 'convox';
  if (hasServices && CONVOX_ONLY_KEYS.some((k) => lookup(root, k) !== undefined)) return 'convox';
  // `include:` (Compose 2.20) exists only in the spec format, never in v1 files.
  if (hasServices || lookup(root, 'version') !== undefined || lookup(root, 'include') !== undefined) return 'compose';
  return 'compose-v1';
}

/** The services of a manifest, in file order. Throws ActionError when `services:` is not a mapping. */
export function listServices(src: ManifestSource, kind: ManifestKind, root: MapNode): ServiceEntry[] {
  const container = serviceContainer(src, kind, root);
  if (!container) return [];
  const out: ServiceEntry[] = [];
  for (const entry of entries(container, kind === 'convox' ? 'own' : 'yaml')) {
    const body = deref(entry.value);
    if (body.kind !== 'map' && !isNullNode(body)) {
      if (kind === 'compose-v1') continue; // v1 has no `services:`; a non-mapping top-level key is not a service
      throw notAMapping(src, entry.keyNode.start, `service '${entry.key}'`);
    }
    const prefix = kind === 'compose-v1' ? [entry.key] : ['services', entry.key];
    const facts: BodyFacts =
      body.kind === 'map'
        ? describeBody(body, kind === 'convox' ? 'convox' : 'yaml', prefix)
        : { hasBuild: false, imagePath: [...prefix, 'image'] };
    out.push({ name: entry.key, offset: entry.keyNode.start, ...facts });
  }
  return out;
}

function serviceContainer(src: ManifestSource, kind: ManifestKind, root: MapNode): MapNode | undefined {
  if (kind === 'compose-v1') return root;
  const services = lookup(root, 'services');
  if (!services || isNullNode(services.value)) return undefined;
  const value = deref(services.value);
  if (value.kind !== 'map') throw notAMapping(src, startOf(services.value), "'services:'");
  return value;
}

type BodyFacts = Pick<ServiceEntry, 'image' | 'hasBuild' | 'imagePath' | 'unappliedMerge'>;

function describeBody(body: MapNode, rules: MergeRules, prefix: ValuePath): BodyFacts {
  const hasBuild = lookup(body, 'build', rules) !== undefined;
  const image = lookup(body, 'image', rules);
  if (!image || isNullNode(image.value) || isReset(image.value)) {
    const unapplied = image ? undefined : unappliedMerge(body, rules);
    return {
      hasBuild,
      imagePath: [...prefix, 'image'],
      image: image && isReset(image.value) ? site(image.value, image.merged, image.mergeAnchor) : undefined,
      unappliedMerge: unapplied,
    };
  }
  return { hasBuild, imagePath: [...prefix, ...image.path], image: site(image.value, image.merged, image.mergeAnchor) };
}

function unappliedMerge(body: MapNode, rules: MergeRules): UnappliedMerge | undefined {
  const pair = mergeKeyOf(body, rules === 'yaml');
  if (!pair) return undefined;
  const alias = pair.value.kind === 'alias' ? pair.value.name : undefined;
  const image = rules === 'convox' ? asScalar(lookup(body, 'image', 'yaml')?.value)?.value || undefined : undefined;
  return { offset: startOf(pair.key), text: keyText(pair.key), alias, image };
}

function site(value: YamlNode, merged: boolean, mergeAnchor: string | undefined): ImageSite {
  const via = merged ? 'merge' : value.kind === 'alias' ? 'alias' : 'direct';
  const anchor = value.kind === 'alias' ? value.name : mergeAnchor;
  return { node: deref(value), via, anchor };
}

/** Compose's `image: !reset …`: the image is unset, whatever follows the tag. */
export function isReset(node: YamlNode): boolean {
  return deref(node).tag === '!reset';
}

/** The image's own local tag (`!custom`), which the action cannot know the meaning of. */
export function unknownImageTag(service: ServiceEntry): string | undefined {
  const tag = service.image?.node.tag;
  return isLocalTag(tag) && tag !== '!override' && tag !== '!reset' ? tag : undefined;
}

function keyText(key: YamlNode): string {
  const scalar = asScalar(key);
  if (!scalar || scalar.style === 'plain') return '<<';
  return scalar.style === 'single' ? "'<<'" : '"<<"';
}

/** The offset where a node's text begins (the `*` of an alias, the first quote of a string). */
export function startOf(node: YamlNode): number {
  if (node.kind !== 'scalar') return node.start;
  return node.style === 'single' || node.style === 'double' ? node.start - 1 : node.start;
}

/** The image text of a service, or undefined when it has none, it is reset, or it is not a string scalar. */
export function imageText(service: ServiceEntry): string | undefined {
  if (!service.image || isReset(service.image.node) || unknownImageTag(service)) return undefined;
  return asScalar(service.image.node)?.value;
}

function notAMapping(src: ManifestSource, offset: number, what: string): ActionError {
  const at = positionOf(src, Math.max(offset, 0));
  return new ActionError(
    `${src.file}:${at.line}:${at.column}: ${what} must be a mapping of settings`,
    { file: src.file, line: at.line, column: at.column, phase: 'manifest' },
    'indent the settings under the name, e.g. "web:\\n  image: namespace/repo:tag"',
  );
}
