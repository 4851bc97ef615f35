/**
 * A small YAML node tree with source offsets, built from js-yaml's event stream.
 *
 * Why events: `load` returns plain values with no positions, and a hand-written scanner would
 * have to re-implement quoting, flow style and block scalars to find a value's span. js-yaml 5's
 * `parseEvents` is the same parser `load` uses and reports every scalar's exact value range, so
 * the span we splice is the span the parser read. `load` still runs first: it rejects what the
 * event parser lets through (duplicate keys, unknown aliases, bad merges) with a good position.
 */
import { COLLECTION_STYLE, CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, getScalarValue, load, mergeTag, parseEvents } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';

/** Compose and Convox files are YAML 1.1 in spirit: `<<` merge keys are common in both. */
export const MANIFEST_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

export type ScalarStyleName = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface ScalarNode {
  readonly kind: 'scalar';
  /** Offsets of the value text; for quoted scalars, inside the quotes. -1 for an empty value. */
  readonly start: number;
  readonly end: number;
  readonly style: ScalarStyleName;
  /** The decoded string (before type resolution: `~` stays `~`). */
  readonly value: string;
  readonly tag?: string;
  readonly anchor?: string;
  /** Inside a flow collection, where `,[]{}` end a plain scalar. */
  readonly inFlow: boolean;
}

export interface MapNode {
  readonly kind: 'map';
  readonly start: number;
  readonly pairs: { key: YamlNode; value: YamlNode }[];
  readonly anchor?: string;
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly start: number;
  readonly items: YamlNode[];
  readonly anchor?: string;
}

export interface AliasNode {
  readonly kind: 'alias';
  readonly start: number;
  readonly name: string;
  readonly target: Exclude<YamlNode, AliasNode>;
}

export type YamlNode = ScalarNode | MapNode | SeqNode | AliasNode;
export type ValueNode = Exclude<YamlNode, AliasNode>;

const STYLE_NAMES: Record<number, ScalarStyleName> = {
  [SCALAR_STYLE.PLAIN]: 'plain',
  [SCALAR_STYLE.SINGLE_QUOTED]: 'single',
  [SCALAR_STYLE.DOUBLE_QUOTED]: 'double',
  [SCALAR_STYLE.LITERAL_BLOCK]: 'literal',
  [SCALAR_STYLE.FOLDED_BLOCK]: 'folded',
};

/** Parses `text` with the manifest schema. Throws js-yaml's YAMLException on malformed input. */
export function loadManifestValue(text: string): unknown {
  return load(text, { schema: MANIFEST_SCHEMA });
}

/**
 * Builds the tree of `text`. Call `load` first when the text may be malformed: the event parser
 * alone does not check duplicate keys or aliases. Multi-document streams yield the first root.
 */
export function buildTree(text: string): { root: YamlNode | undefined; documents: number } {
  const events = parseEvents(text, {});
  const builder = new TreeBuilder(text);
  for (const event of events) builder.accept(event);
  return { root: builder.roots[0], documents: builder.documents };
}

/** Follows an alias to the node it names. */
export function deref(node: YamlNode): ValueNode {
  return node.kind === 'alias' ? node.target : node;
}

/** True for a plain `<<` key (or `!!merge`), which the schema turns into a merge. */
export function isMergeKey(key: YamlNode): boolean {
  if (key.kind !== 'scalar' || key.value !== '<<') return false;
  if (key.tag !== undefined) return key.tag === '!!merge' || key.tag === '!<tag:yaml.org,2002:merge>';
  return key.style === 'plain';
}

/** True when a scalar resolves to null in the core schema (`~`, `null`, empty). */
export function isNullScalar(node: ScalarNode): boolean {
  return node.style === 'plain' && node.tag === undefined && /^(?:~|null|Null|NULL|)$/.test(node.value);
}

type OpenCollection = MapNode | SeqNode;

/** A document the loader accepts but this module will not edit; `offset` is where the problem is. */
export class YamlStructureError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

class TreeBuilder {
  readonly roots: YamlNode[] = [];
  documents = 0;
  private readonly stack: OpenCollection[] = [];
  private readonly flow: boolean[] = [];
  private readonly anchors = new Map<string, ValueNode>();
  private pendingKey: YamlNode | undefined;
  private readonly pendingKeys: (YamlNode | undefined)[] = [];

  constructor(private readonly text: string) {}

  accept(event: Event): void {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        this.documents += 1;
        this.anchors.clear();
        return;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const anchor = this.slice(event.anchorStart, event.anchorEnd);
        const base = { start: event.start, ...(anchor ? { anchor } : {}) };
        const node: OpenCollection =
          event.type === EVENT_ID.MAPPING ? { kind: 'map', pairs: [], ...base } : { kind: 'seq', items: [], ...base };
        if (anchor) this.anchors.set(anchor, node);
        this.add(node);
        this.stack.push(node);
        this.flow.push(event.style === COLLECTION_STYLE.FLOW || this.flow.at(-1) === true);
        this.pendingKeys.push(this.pendingKey);
        this.pendingKey = undefined;
        return;
      }
      case EVENT_ID.SCALAR:
        this.add(this.scalar(event));
        return;
      case EVENT_ID.ALIAS: {
        const name = this.slice(event.anchorStart, event.anchorEnd) ?? '';
        const target = this.anchors.get(name);
        if (!target) throw new YamlStructureError(`the alias *${name} names no anchor before it`, event.anchorStart - 1);
        // The loader accepts a collection that contains an alias to itself; a manifest never needs one.
        if (this.stack.includes(target as OpenCollection))
          throw new YamlStructureError(`the alias *${name} refers to a collection that contains it`, event.anchorStart - 1);
        this.add({ kind: 'alias', start: event.anchorStart - 1, name, target });
        return;
      }
      case EVENT_ID.POP:
        // A POP closes a collection, or the document when no collection is open.
        if (this.stack.pop()) {
          this.flow.pop();
          this.pendingKey = this.pendingKeys.pop();
        }
        return;
    }
  }

  private scalar(event: ScalarEvent): ScalarNode {
    const anchor = this.slice(event.anchorStart, event.anchorEnd);
    const tag = this.slice(event.tagStart, event.tagEnd);
    const node: ScalarNode = {
      kind: 'scalar',
      start: event.valueStart,
      end: event.valueEnd,
      style: STYLE_NAMES[event.style] ?? 'plain',
      value: getScalarValue(this.text, event),
      inFlow: this.flow.at(-1) === true,
      ...(tag ? { tag } : {}),
      ...(anchor ? { anchor } : {}),
    };
    if (anchor) this.anchors.set(anchor, node);
    return node;
  }

  private add(node: YamlNode): void {
    const parent = this.stack.at(-1);
    if (!parent) {
      if (this.documents === this.roots.length + 1) this.roots.push(node);
      return;
    }
    if (parent.kind === 'seq') {
      parent.items.push(node);
    } else if (this.pendingKey === undefined) {
      this.pendingKey = node;
    } else {
      parent.pairs.push({ key: this.pendingKey, value: node });
      this.pendingKey = undefined;
    }
  }

  private slice(start: number, end: number): string | undefined {
    return start < 0 ? undefined : this.text.slice(start, end);
  }
}
