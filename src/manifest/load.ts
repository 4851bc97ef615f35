/**
 * js-yaml, the loader that checks our reading: the whole file's value before and after an edit.
 * It is independent of the `yaml` package that finds the spans, so a wrong span shows up as a
 * value that changed where it should not have.
 */
import { CORE_SCHEMA, defineMappingTag, defineScalarTag, defineSequenceTag, load, mapTag, mergeTag } from 'js-yaml';
import type { ValueNode, YamlNode } from './yaml-tree.js';

/**
 * Compose and Convox files use `<<` merge keys, and Compose has `!override` and `!reset`. A local
 * tag (`!name`) loads as its untagged value: the action never edits a tag, only reads through it.
 */
const localScalar = defineScalarTag('!', { matchByTagPrefix: true, resolve: (source) => source, identify: () => false });
const localSequence = defineSequenceTag<unknown[]>('!', {
  matchByTagPrefix: true,
  create: () => [],
  addItem: (items, item) => {
    items.push(item);
  },
  identify: () => false,
});
const localMapping = defineMappingTag('!', {
  matchByTagPrefix: true,
  create: mapTag.create,
  addPair: mapTag.addPair,
  has: mapTag.has,
  keys: mapTag.keys,
  get: mapTag.get,
  identify: () => false,
});

export const MANIFEST_SCHEMA = CORE_SCHEMA.withTags(mergeTag, localScalar, localSequence, localMapping);

export interface LoadOptions {
  /** Read a repeated mapping key (the later one wins) instead of refusing it; see duplicates.ts. */
  readonly repeatedKeys?: boolean;
}

/**
 * Loads `text` with js-yaml. Throws js-yaml's YAMLException on malformed input.
 *
 * `tree` (the `yaml` package's reading of the same text) lets js-yaml read the one construct the
 * two disagree on: a flow collection whose closing bracket starts a line at its key's column
 * (`test: [` … `]`). YAML 1.2 wants that bracket indented one column more; Compose, Convox and
 * the `yaml` package accept it, js-yaml 5 reports "deficient indentation". One space before such
 * a bracket is separation inside the flow collection, so it changes no value, only the offsets
 * of what follows, and js-yaml's offsets are never used for edits.
 */
export function loadManifestValue(text: string, tree?: YamlNode, options: LoadOptions = {}): unknown {
  // js-yaml's `json` option lets a later duplicate key win instead of throwing, as yaml.v2 does.
  const settings = { schema: MANIFEST_SCHEMA, json: options.repeatedKeys === true };
  const ends = tree ? flowEnds(tree).filter((at) => startsLine(text, at)) : [];
  if (ends.length === 0) return load(text, settings);
  ends.sort((a, b) => a - b);
  try {
    return load(ends.map((at, i) => text.slice(ends[i - 1] ?? 0, at)).join(' ') + ' ' + text.slice(ends.at(-1)), settings);
  } catch (e) {
    // Report the position in the text as written: step back over the spaces added before it.
    const mark = (e as { mark?: { position?: number } }).mark;
    if (mark?.position !== undefined) {
      const at = mark.position;
      mark.position = at - ends.filter((end, i) => end + i < at).length;
    }
    throw e;
  }
}

function startsLine(text: string, at: number): boolean {
  let i = at;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i === 0 || text[i - 1] === '\n' || text[i - 1] === '\r';
}

function flowEnds(root: YamlNode): number[] {
  const out: number[] = [];
  const pending: ValueNode[] = root.kind === 'alias' ? [] : [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (node.kind === 'scalar') continue;
    if (node.flowEnd !== undefined) out.push(node.flowEnd);
    const children = node.kind === 'seq' ? node.items : node.pairs.flatMap((p) => [p.key, p.value]);
    for (const child of children) if (child.kind !== 'alias') pending.push(child);
  }
  return out;
}
