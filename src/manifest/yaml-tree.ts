/**
 * A small YAML node tree with exact source offsets, built from the `yaml` package's Document.
 *
 * Why the `yaml` package: its composer keeps every node's source range and accepts what Compose
 * and Convox load (a flow collection closed at its key's indentation, as in getsentry/self-hosted,
 * which js-yaml 5 refuses). The failsafe schema keeps every scalar as the string it decodes to, so
 * `value` is the text before type resolution (`~` stays `~`). js-yaml stays the loader that
 * verifies (load.ts); this file only finds where things are written.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Alias, Node as DocNode, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { yamlLineBreaks } from './source.js';

export const MERGE_TAG = 'tag:yaml.org,2002:merge';
export const STR_TAG = 'tag:yaml.org,2002:str';

export type ScalarStyleName = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface ScalarNode {
  readonly kind: 'scalar';
  /** Offsets of the value text; for quoted scalars, inside the quotes; for block scalars, after the header line. */
  readonly start: number;
  readonly end: number;
  readonly style: ScalarStyleName;
  /** The decoded string (before type resolution: `~` stays `~`). */
  readonly value: string;
  /** The resolved tag: `tag:yaml.org,2002:str` for `!!str`, `!override` for a local tag. */
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
  readonly tag?: string;
  /** Offset of the closing `}` of a flow mapping. */
  readonly flowEnd?: number;
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly start: number;
  readonly items: YamlNode[];
  readonly anchor?: string;
  readonly tag?: string;
  /** Offset of the closing `]` of a flow sequence. */
  readonly flowEnd?: number;
}

export interface AliasNode {
  readonly kind: 'alias';
  readonly start: number;
  readonly name: string;
  readonly target: Exclude<YamlNode, AliasNode>;
}

export type YamlNode = ScalarNode | MapNode | SeqNode | AliasNode;
export type ValueNode = Exclude<YamlNode, AliasNode>;

/** The first syntax error the `yaml` package found: its message and offset. */
export interface SyntaxProblem {
  readonly message: string;
  readonly offset: number;
}

export interface Tree {
  readonly root: YamlNode | undefined;
  readonly documents: number;
  readonly error?: SyntaxProblem;
}

const STYLES: Record<string, ScalarStyleName> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
};

/**
 * Parses `text` into a tree of its first document. A syntax error is returned, not thrown (the
 * caller decides which parser's reason to show); an alias the tree cannot hold throws
 * YamlStructureError. Lone CR line breaks are given as LF, which keeps every offset.
 */
export function buildTree(text: string): Tree {
  const docs = parseAllDocuments(yamlLineBreaks(text), {
    schema: 'failsafe',
    uniqueKeys: false, // js-yaml reports duplicates, at the key, with the key's name
    prettyErrors: false,
    strict: false,
  });
  const documents = docs.length;
  const first = docs[0];
  const problem = docs.flatMap((d) => d.errors)[0];
  if (problem) return { root: undefined, documents, error: { message: problem.message, offset: problem.pos[0] } };
  if (!first || first.contents === null) return { root: undefined, documents };
  return { root: new TreeBuilder(text).node(first.contents as DocNode, false), documents };
}

/** Follows an alias to the node it names. */
export function deref(node: YamlNode): ValueNode {
  return node.kind === 'alias' ? node.target : node;
}

/** True for a plain `<<` key (or one tagged `!!merge`): a YAML merge key. */
export function isMergeKey(key: YamlNode): boolean {
  if (key.kind !== 'scalar' || key.value !== '<<') return false;
  return key.tag === undefined ? key.style === 'plain' : key.tag === MERGE_TAG;
}

/** True when a scalar resolves to null in the core schema (`~`, `null`, empty). */
export function isNullScalar(node: ScalarNode): boolean {
  return node.style === 'plain' && node.tag === undefined && /^(?:~|null|Null|NULL|)$/.test(node.value);
}

/** True for an application-specific tag (`!override`, `!reset`, `!Ref`), as opposed to `!!str`. */
export function isLocalTag(tag: string | undefined): tag is string {
  return tag !== undefined && tag.startsWith('!') && tag !== '!';
}

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
  private readonly anchors = new Map<string, ValueNode>();
  private readonly open: ValueNode[] = [];

  constructor(private readonly text: string) {}

  node(node: DocNode, inFlow: boolean): YamlNode {
    if (isAlias(node)) return this.alias(node);
    if (isScalar(node)) return this.named(node, this.scalar(node, inFlow));
    if (isMap(node)) return this.collection(node, 'map', inFlow);
    if (isSeq(node)) return this.collection(node, 'seq', inFlow);
    throw new YamlStructureError('a node of an unknown kind', 0);
  }

  private alias(node: Alias): AliasNode {
    const start = node.range?.[0] ?? 0;
    const target = this.anchors.get(node.source);
    if (!target) throw new YamlStructureError(`the alias *${node.source} names no anchor before it`, start);
    // YAML allows a collection that contains an alias to itself; a manifest never needs one.
    if (this.open.includes(target))
      throw new YamlStructureError(`the alias *${node.source} refers to a collection that contains it`, start);
    return { kind: 'alias', start, name: node.source, target };
  }

  private collection(node: YAMLMap | YAMLSeq, kind: 'map' | 'seq', inFlow: boolean): ValueNode {
    const [start = 0, valueEnd = 0] = node.range ?? [];
    const flow = node.flow === true || inFlow;
    const base = {
      start,
      anchor: node.anchor,
      tag: node.tag,
      flowEnd: node.flow && this.text[valueEnd - 1] === (kind === 'map' ? '}' : ']') ? valueEnd - 1 : undefined,
    };
    const built: MapNode | SeqNode = kind === 'map' ? { kind, pairs: [], ...base } : { kind, items: [], ...base };
    this.named(node, built);
    this.open.push(built);
    for (const item of node.items as unknown[]) {
      if (built.kind === 'seq') built.items.push(this.child(item, flow, start));
      else if (isPair(item)) {
        const key = this.child(item.key, flow, start);
        built.pairs.push({ key, value: this.child(item.value, flow, this.endOf(key)) });
      }
    }
    this.open.pop();
    return built;
  }

  /** A child node; an absent one (`key:` with nothing, `? key`) is an empty plain scalar. */
  private child(item: unknown, inFlow: boolean, at: number): YamlNode {
    if (item === null || item === undefined) return { kind: 'scalar', start: at, end: at, style: 'plain', value: '', inFlow };
    return this.node(isPair(item) ? (item.key as DocNode) : (item as DocNode), inFlow);
  }

  private scalar(node: Scalar, inFlow: boolean): ScalarNode {
    const [from = 0, to = 0] = node.range ?? [];
    const style = STYLES[node.type ?? 'PLAIN'] ?? 'plain';
    let start = from;
    let end = to;
    if (style === 'single' || style === 'double') {
      start = from + 1;
      end = to - 1;
    } else if (style === 'literal' || style === 'folded') {
      start = Math.min(to, this.lineEnd(from));
    }
    return {
      kind: 'scalar',
      start,
      end,
      style,
      // The failsafe schema leaves strings, except `!!merge`, which the package reads as a symbol.
      value: typeof node.value === 'string' ? node.value : String(node.source ?? ''),
      inFlow,
      tag: node.tag,
      anchor: node.anchor,
    };
  }

  /** Registers an anchor when the node is entered, so aliases inside it see it (and are refused). */
  private named<T extends ValueNode>(node: DocNode, built: T): T {
    if (node.anchor) this.anchors.set(node.anchor, built);
    return built;
  }

  private endOf(node: YamlNode): number {
    return node.kind === 'scalar' ? node.end : node.start;
  }

  /** The offset just past the line break that ends the line holding `offset`. */
  private lineEnd(offset: number): number {
    const match = /\r\n|\r|\n/g;
    match.lastIndex = offset;
    const found = match.exec(this.text);
    return found ? found.index + found[0].length : this.text.length;
  }
}
