/**
 * Reading mappings the way the deployer does: keys as `load` spells them, and `<<` merges with
 * YAML's precedence (a mapping's own keys win; among merged mappings the first one wins), or as
 * Convox reads a service (see `MergeRules`).
 */
import { loadManifestValue } from './load.js';
import type { ValuePath } from './services.js';
import { deref, isMergeKey, isNullScalar } from './yaml-tree.js';
import type { MapNode, ScalarNode, YamlNode } from './yaml-tree.js';

/**
 * How `<<` keys merge.
 * - `yaml`: YAML 1.1 merge keys, as js-yaml and Compose (Go's yaml.v3) apply them.
 * - `convox`: a Convox service body. convox/convox pkg/manifest/yaml.go `unmarshalMapSlice`
 *   decodes `services:` into a yaml.MapSlice, where gopkg.in/yaml.v2 (decode.go `mappingSlice`)
 *   drops what a plain `<<:` merges; `remarshal` then writes each service out and reads it into a
 *   struct, so a quoted `"<<"` key comes back as a plain `<<:` and merges, field by field in
 *   document order (a later key wins; in a list of mappings the first wins).
 * - `own`: Convox's `services:` mapping itself: its own keys; a plain `<<:` there is dropped too.
 */
export type MergeRules = 'yaml' | 'convox' | 'own';

/** One key of a mapping as the loaded value sees it, with where its value came from. */
export interface Entry {
  readonly key: string;
  readonly keyNode: YamlNode;
  /** The value as written (an alias stays an alias). */
  readonly value: YamlNode;
  /** True when the key came in through a `<<` merge. */
  readonly merged: boolean;
  /** The anchor of the merged mapping that holds the key, when merged. */
  readonly mergeAnchor?: string;
  /** Where the value is in js-yaml's loaded mapping: `[key]`, or `['<<', …]` through a Convox merge. */
  readonly path: ValuePath;
}

const SIMPLE_KEY = /^[A-Za-z_][\w.-]*$/;
const NON_STRING_WORDS = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$/;

/**
 * The key as the default `{}` mapping stores it: `load` turns `~`, `true` or `0x1F` keys into
 * the strings `null`, `true`, `31`. Paths compared with the loaded value must use the same text.
 */
export function keyString(node: YamlNode): string | undefined {
  const key = deref(node);
  if (key.kind !== 'scalar') return undefined;
  if (key.style !== 'plain' || key.tag !== undefined) return key.value;
  if (isNullScalar(key)) return 'null';
  if (SIMPLE_KEY.test(key.value) && !NON_STRING_WORDS.test(key.value)) return key.value;
  try {
    return String(loadManifestValue(key.value));
  } catch {
    return key.value;
  }
}

/** Every key of `map` after merges, in a stable order: own keys first, then merged ones (YAML rules). */
export function entries(map: MapNode, rules: MergeRules = 'yaml', depth = 0): Entry[] {
  // Merges cannot form cycles (an alias follows its anchor), but a deep chain is still bounded.
  if (depth > 64) throw new Error('merge keys nest more than 64 levels deep');
  if (rules === 'convox') return convoxEntries(map, depth);
  const out: Entry[] = [];
  const seen = new Set<string>();
  for (const { key, value } of map.pairs) {
    const name = keyString(key);
    if (isMergeKey(key) || name === undefined || seen.has(name)) continue;
    seen.add(name);
    out.push({ key: name, keyNode: key, value, merged: false, path: [name] });
  }
  if (rules === 'own') return out;
  for (const { key, value } of map.pairs) {
    if (!isMergeKey(key)) continue;
    for (const source of mergeSources(value)) {
      for (const entry of entries(source, 'yaml', depth + 1)) {
        if (seen.has(entry.key)) continue;
        seen.add(entry.key);
        out.push(mergedEntry(entry, source, [entry.key]));
      }
    }
  }
  return out;
}

/** A quoted `"<<"` (or one tagged other than `!!merge`): a plain key in YAML, a merge for Convox. */
export function isQuotedMergeKey(key: YamlNode): boolean {
  return !isMergeKey(key) && keyString(key) === '<<';
}

/** The first key of `map` that is a merge key under YAML's rules, or a quoted one when `quoted`. */
export function mergeKeyOf(map: MapNode, quoted: boolean): { key: YamlNode; value: YamlNode } | undefined {
  return map.pairs.find((p) => (quoted ? isQuotedMergeKey(p.key) : isMergeKey(p.key)));
}

function convoxEntries(map: MapNode, depth: number): Entry[] {
  const out = new Map<string, Entry>();
  for (const { key, value } of map.pairs) {
    if (isMergeKey(key)) continue; // dropped by yaml.v2's MapSlice decoding
    const name = keyString(key);
    if (name === undefined) continue;
    if (name !== '<<') {
      out.set(name, { key: name, keyNode: key, value, merged: false, path: [name] });
      continue;
    }
    const target = deref(value);
    const sources =
      target.kind === 'seq'
        ? target.items.map((item, i) => ({ item, prefix: ['<<', i] })).reverse()
        : [{ item: value, prefix: ['<<'] }];
    for (const { item, prefix } of sources) {
      const source = deref(item);
      if (source.kind !== 'map') continue;
      for (const entry of entries(source, 'convox', depth + 1)) {
        out.set(entry.key, mergedEntry(entry, source, [...prefix, ...entry.path]));
      }
    }
  }
  return [...out.values()];
}

function mergedEntry(entry: Entry, source: MapNode, path: ValuePath): Entry {
  const mergeAnchor = entry.mergeAnchor ?? source.anchor;
  return { ...entry, merged: true, path, mergeAnchor };
}

/** The entry for `key` in `map`, after merges. */
export function lookup(map: MapNode, key: string, rules: MergeRules = 'yaml'): Entry | undefined {
  return entries(map, rules).find((e) => e.key === key);
}

/** True when `node` is absent in practice: an empty value, `~` or `null`. */
export function isNullNode(node: YamlNode | undefined): boolean {
  const value = node === undefined ? undefined : deref(node);
  return value === undefined || (value.kind === 'scalar' && isNullScalar(value));
}

/** A scalar value, or undefined for anything else. */
export function asScalar(node: YamlNode | undefined): ScalarNode | undefined {
  const value = node === undefined ? undefined : deref(node);
  return value?.kind === 'scalar' ? value : undefined;
}

function mergeSources(node: YamlNode): MapNode[] {
  const value = deref(node);
  if (value.kind === 'map') return [value];
  if (value.kind !== 'seq') return [];
  return value.items.map(deref).filter((item): item is MapNode => item.kind === 'map');
}
