/**
 * Which kind of manifest a file is, and its services with where each one's `image:` lives.
 */
import { ActionError } from '../errors.js';
import { asScalar, entries, isNullNode, lookup } from './mapping.js';
import { positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import { deref } from './yaml-tree.js';
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
  /** Path of this service's image in the loaded value. */
  readonly imagePath: ValuePath;
}

const CONVOX_FILE = /(?:^|[\\/])convox[^\\/]*\.ya?ml$/i;
const CONVOX_ONLY_KEYS = ['resources', 'timers', 'balancers', 'params'];

/** Decides the manifest kind from its name and top-level keys. */
export function detectKind(file: string, root: MapNode): ManifestKind {
  const hasServices = lookup(root, 'services') !== undefined;
  if (CONVOX_FILE.test(file)) return 'convox';
  if (hasServices && CONVOX_ONLY_KEYS.some((k) => lookup(root, k) !== undefined)) return 'convox';
  if (hasServices || lookup(root, 'version') !== undefined) return 'compose';
  return 'compose-v1';
}

/** The services of a manifest, in file order. Throws ActionError when `services:` is not a mapping. */
export function listServices(src: ManifestSource, kind: ManifestKind, root: MapNode): ServiceEntry[] {
  const container = serviceContainer(src, kind, root);
  if (!container) return [];
  const out: ServiceEntry[] = [];
  for (const entry of entries(container)) {
    const body = deref(entry.value);
    if (body.kind !== 'map' && !isNullNode(body)) {
      if (kind === 'compose-v1') continue; // v1 has no `services:`; a non-mapping top-level key is not a service
      throw notAMapping(src, entry.keyNode.start, `service '${entry.key}'`);
    }
    const imagePath = kind === 'compose-v1' ? [entry.key, 'image'] : ['services', entry.key, 'image'];
    out.push({
      name: entry.key,
      offset: entry.keyNode.start,
      imagePath,
      hasBuild: false,
      ...(body.kind === 'map' ? describeBody(body) : {}),
    });
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

function describeBody(body: MapNode): { image?: ImageSite; hasBuild: boolean } {
  const hasBuild = lookup(body, 'build') !== undefined;
  const image = lookup(body, 'image');
  if (!image || isNullNode(image.value)) return { hasBuild };
  const node = deref(image.value);
  const via = image.merged ? 'merge' : image.value.kind === 'alias' ? 'alias' : 'direct';
  const anchor = image.value.kind === 'alias' ? image.value.name : image.mergeAnchor;
  return { hasBuild, image: { node, via, ...(anchor ? { anchor } : {}) } };
}

/** The offset where a node's text begins (the `*` of an alias, the first quote of a string). */
export function startOf(node: YamlNode): number {
  if (node.kind !== 'scalar') return node.start;
  return node.style === 'single' || node.style === 'double' ? node.start - 1 : node.start;
}

/** The image text of a service, or undefined when it has none or it is not a string scalar. */
export function imageText(service: ServiceEntry): string | undefined {
  return asScalar(service.image?.node)?.value;
}

function notAMapping(src: ManifestSource, offset: number, what: string): ActionError {
  const at = positionOf(src, Math.max(offset, 0));
  return new ActionError(
    `${src.file}:${at.line}:${at.column}: ${what} must be a mapping of settings`,
    { file: src.file, line: at.line, column: at.column, phase: 'manifest' },
    'indent the settings under the name, e.g. "web:\\n  image: namespace/repo:tag"',
  );
}
