/**
 * Reading mappings the way the loader does: keys as `load` spells them, and `<<` merges with
 * YAML's precedence (a mapping's own keys win; among merged mappings the first one wins).
 */
import { deref, isMergeKey, isNullScalar, loadManifestValue } from './yaml-tree.js';
import type { MapNode, ScalarNode, YamlNode } from './yaml-tree.js';

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

/** Every key of `map` after merges, in a stable order: own keys first, then merged ones. */
export function entries(map: MapNode, depth = 0): Entry[] {
  // Merges cannot form cycles (an alias follows its anchor), but a deep chain is still bounded.
  if (depth > 64) throw new Error('merge keys nest more than 64 levels deep');
  const out: Entry[] = [];
  const seen = new Set<string>();
  for (const { key, value } of map.pairs) {
    const name = keyString(key);
    if (isMergeKey(key) || name === undefined || seen.has(name)) continue;
    seen.add(name);
    out.push({ key: name, keyNode: key, value, merged: false });
  }
  for (const { key, value } of map.pairs) {
    if (!isMergeKey(key)) continue;
    for (const source of mergeSources(value)) {
      for (const entry of entries(source, depth + 1)) {
        if (seen.has(entry.key)) continue;
        seen.add(entry.key);
        const mergeAnchor = entry.mergeAnchor ?? source.anchor;
        out.push({ ...entry, merged: true, ...(mergeAnchor ? { mergeAnchor } : {}) });
      }
    }
  }
  return out;
}

/** The entry for `key` in `map`, after merges. */
export function lookup(map: MapNode, key: string): Entry | undefined {
  return entries(map).find((e) => e.key === key);
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
