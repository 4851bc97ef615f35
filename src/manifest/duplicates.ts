/**
 * Duplicate mapping keys, refused where the deployer refuses them. YAML forbids them and Compose
 * refuses any (gopkg.in/yaml.v3 decode.go: "mapping key ... already defined"); Convox decodes
 * convox.yml with gopkg.in/yaml.v2, which takes them (into a map a later key wins; into the
 * yaml.MapSlice that pkg/manifest/yaml.go `unmarshalMapSlice` decodes services, balancers and
 * their ports into, both stay), so in a convox.yml only a repeat the action reads through is refused: under
 * `services:` (and what services reach through aliases) or `services:` itself.
 */
import { keyString } from './mapping.js';
import type { ManifestKind } from './services.js';
import { duplicateKeyError } from './parse.js';
import { startOf } from './services.js';
import { positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import { deref, isMergeKey } from './yaml-tree.js';
import type { MapNode, YamlNode } from './yaml-tree.js';

/** A key that appears again in the same mapping: the second (and any later) occurrence. */
export interface DuplicateKey {
  readonly map: MapNode;
  readonly key: YamlNode;
  readonly name: string;
}

/** Every repeated key in the tree, in document order; merge keys (`<<`) may repeat. */
export function findDuplicateKeys(root: YamlNode): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const seenMaps = new Set<MapNode>();
  const pending: YamlNode[] = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (node.kind === 'alias' || node.kind === 'scalar') continue;
    if (node.kind === 'seq') {
      pending.push(...node.items);
      continue;
    }
    if (seenMaps.has(node)) continue;
    seenMaps.add(node);
    const names = new Set<string>();
    for (const { key, value } of node.pairs) {
      const name = isMergeKey(key) ? undefined : keyString(key);
      if (name !== undefined && names.has(name)) out.push({ map: node, key, name });
      if (name !== undefined) names.add(name);
      pending.push(key, value);
    }
  }
  return out.sort((a, b) => a.key.start - b.key.start);
}

/**
 * Throws ActionError for the first repeated key the deployer of `kind` refuses or the action reads
 * through; returns a note for each one left as written (convox.yml only). `fallback` is js-yaml's
 * offset, for a repeat it sees that the tree does not (then nothing can be said to be harmless).
 */
export function checkDuplicateKeys(
  src: ManifestSource,
  kind: ManifestKind,
  root: MapNode,
  fallback: number | undefined,
): string[] {
  const all = findDuplicateKeys(root);
  if (all.length === 0) throw duplicateKeyError(src, fallback ?? 0, root);
  const read = kind === 'convox' ? mapsUnderServices(root) : undefined;
  const refused = all.find((d) => !read || read.has(d.map) || (d.map === root && d.name === 'services'));
  if (refused) throw duplicateKeyError(src, refused.key.start, root);
  return all.map((d) => {
    const at = positionOf(src, startOf(d.key));
    return `${src.file}:${at.line}:${at.column}: key '${d.name}' appears twice in the same mapping; YAML does not allow that and Compose would refuse the file, but Convox reads it (gopkg.in/yaml.v2 does not refuse a repeated key), and the action leaves it as written`;
  });
}

/** Every mapping under `services:`, including those reached through aliases and merges. */
function mapsUnderServices(root: MapNode): Set<MapNode> {
  const out = new Set<MapNode>();
  const pending: YamlNode[] = root.pairs.filter((p) => keyString(p.key) === 'services').map((p) => p.value);
  for (let node = pending.pop(); node; node = pending.pop()) {
    const value = deref(node);
    if (value.kind === 'scalar' || out.has(value as MapNode)) continue;
    if (value.kind === 'seq') pending.push(...value.items);
    else {
      out.add(value);
      for (const { key, value: v } of value.pairs) pending.push(key, v);
    }
  }
  return out;
}
