/**
 * Where a scalar ends up in the loaded value. An anchored scalar reached through aliases or
 * merges appears at several paths; rewriting it changes all of them, so all must be intended.
 */
import { entries } from './mapping.js';
import type { ValuePath } from './services.js';
import type { ScalarNode, YamlNode } from './yaml-tree.js';

/** One place a scalar appears: `direct` is the place it is written (no alias or merge on the way). */
export interface Use {
  readonly path: ValuePath;
  readonly direct: boolean;
  /** Length of the path of the mapping whose `<<:` merge the walk first came through. */
  readonly mergedAt?: number;
}

/** Alias expansion is exponential in the worst case ("billion laughs"); stop well before that. */
const MAX_VISITS = 200_000;
const MAX_DEPTH = 500;

/**
 * Every path at which each of `targets` appears in js-yaml's loaded value (YAML's merge rules).
 * Throws when the document expands too far.
 */
export function usesOf(root: YamlNode, targets: ReadonlySet<ScalarNode>): Map<ScalarNode, Use[]> {
  const found = new Map<ScalarNode, Use[]>();
  let visits = 0;
  const walk = (node: YamlNode, path: ValuePath, direct: boolean, mergedAt: number | undefined): void => {
    if (++visits > MAX_VISITS) throw new Error(`the document expands to more than ${MAX_VISITS} values through aliases`);
    if (path.length > MAX_DEPTH) throw new Error(`aliases nest values more than ${MAX_DEPTH} levels deep`);
    if (node.kind === 'alias') return walk(node.target, path, false, mergedAt);
    if (node.kind === 'scalar') {
      const use = { path, direct, mergedAt };
      if (targets.has(node)) found.set(node, [...(found.get(node) ?? []), use]);
      return;
    }
    if (node.kind === 'seq') {
      node.items.forEach((item, i) => walk(item, [...path, i], direct, mergedAt));
      return;
    }
    for (const entry of entries(node)) {
      const at = entry.merged ? (mergedAt ?? path.length) : mergedAt;
      walk(entry.value, [...path, entry.key], direct && !entry.merged, at);
    }
  };
  walk(root, [], true, undefined);
  return found;
}

/** `services.web.image`, `x-base["a.b"]`, `ports[0]`: a path as a person reads it. */
export function formatPath(path: ValuePath): string {
  return path
    .map((part, i) => {
      if (typeof part === 'number') return `[${part}]`;
      if (/^[\w-]+$/.test(part)) return i === 0 ? part : `.${part}`;
      return `[${JSON.stringify(part)}]`;
    })
    .join('');
}
