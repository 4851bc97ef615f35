/**
 * Loading a manifest: the value, the tree, and every way that can fail, reported with the
 * file, line and column a person needs to fix it.
 */
import { ActionError } from '../errors.js';
import { lineText, positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import { loadManifestValue } from './load.js';
import { YamlStructureError, buildTree } from './yaml-tree.js';
import type { MapNode, ScalarNode, Tree, YamlNode } from './yaml-tree.js';

/** A manifest whose top level is a mapping. */
export interface ParsedManifest {
  readonly value: Record<string, unknown>;
  readonly root: MapNode;
  /**
   * Set when the file repeats a mapping key (js-yaml's offset of the first): `value` was read with
   * the later key winning, and the plan decides, by manifest kind, whether that stands.
   */
  readonly repeatedKey?: { readonly offset: number | undefined };
}

interface YamlErrorLike {
  reason?: string;
  mark?: { position?: number };
  message?: string;
}

/**
 * Reads `src` with both parsers: the `yaml` package for the tree (where things are written),
 * js-yaml for the value (what they load as). Throws ActionError for empty, malformed,
 * multi-document or non-mapping files, and for a file the two parsers do not both read.
 */
export function parseManifest(src: ManifestSource): ParsedManifest {
  let tree: Tree | undefined;
  let structure: YamlStructureError | undefined;
  try {
    tree = buildTree(src.text);
  } catch (e) {
    if (!(e instanceof YamlStructureError)) throw e;
    structure = e;
  }
  let value: unknown;
  let repeatedKey: ParsedManifest['repeatedKey'];
  try {
    value = loadManifestValue(src.text, tree?.error ? undefined : tree?.root);
  } catch (e) {
    const error = e as YamlErrorLike;
    // A repeated key is the deployer's call (duplicates.ts), once the tree can show where it is.
    if (error.reason !== 'duplicated mapping key' || !tree || tree.error || structure) throw loadError(src, error, tree);
    repeatedKey = { offset: error.mark?.position };
    try {
      value = loadManifestValue(src.text, tree.root, { repeatedKeys: true });
    } catch (again) {
      throw loadError(src, again as YamlErrorLike, tree);
    }
  }
  if (structure)
    throw fail(src, structure.offset, structure.message, 'give the value its own anchor outside the collection, or write it out');
  if (tree?.error) {
    throw fail(
      src,
      tree.error.offset,
      `not valid YAML: ${tree.error.message}`,
      'fix the YAML syntax at that position (a YAML linter shows the same error)',
    );
  }
  const root = tree?.root;
  if (value === null || value === undefined || root === undefined) throw emptyError(src);
  if (root.kind !== 'map' || typeof value !== 'object' || Array.isArray(value)) {
    throw fail(
      src,
      root.start,
      'the top level must be a mapping (services:, resources:, …), not a list or a single value',
      'check that this is your convox.yml or docker-compose.yml',
    );
  }
  return { value: value as Record<string, unknown>, root, repeatedKey };
}

/** An ActionError at a text offset, phase `manifest`, with `file:line:column:` before the message. */
export function fail(src: ManifestSource, offset: number | undefined, message: string, fix: string): ActionError {
  if (offset === undefined || offset < 0)
    return new ActionError(`${src.file}: ${message}`, { file: src.file, phase: 'manifest' }, fix);
  const at = positionOf(src, offset);
  return new ActionError(
    `${src.file}:${at.line}:${at.column}: ${message}`,
    { file: src.file, line: at.line, column: at.column, phase: 'manifest' },
    fix,
  );
}

function loadError(src: ManifestSource, e: YamlErrorLike, tree: Tree | undefined): ActionError {
  const documents = tree?.documents ?? 1;
  if (documents === 0) return emptyError(src);
  if (documents > 1) {
    return fail(
      src,
      undefined,
      `holds ${documents} YAML documents (separated by ---); a manifest is one document`,
      'keep one document in the manifest',
    );
  }
  const reason = e.reason ?? e.message ?? String(e);
  const offset = e.mark?.position;
  if (reason === 'duplicated mapping key' && offset !== undefined) return duplicateKeyError(src, offset, tree?.root);
  if (tree && !tree.error) {
    // The yaml package read it and the one known disagreement was smoothed over: another one.
    return fail(
      src,
      offset,
      `js-yaml cannot read this (${reason}), though the yaml package can; the action edits a manifest only when both of its YAML parsers read it`,
      'report this with the manifest; as a workaround, write that part the way a YAML 1.2 linter accepts',
    );
  }
  return fail(
    src,
    offset,
    `not valid YAML: ${reason}`,
    'fix the YAML syntax at that position (a YAML linter shows the same error)',
  );
}

/**
 * The refusal for a repeated mapping key whose text starts at `offset` (js-yaml's mark). Without a
 * tree (an unknown alias further on), the plain key's text names it.
 */
export function duplicateKeyError(src: ManifestSource, offset: number, root: YamlNode | undefined): ActionError {
  const key = keyAt(root, offset) ?? plainKeyAt(src.text, offset);
  const start = key && (key.style === 'single' || key.style === 'double') ? key.start - 1 : offset;
  const line = lineText(src, positionOf(src, start).line).trim();
  return fail(
    src,
    start,
    `key ${key ? `'${key.value}' ` : ''}appears twice in the same mapping (at "${line}"); YAML does not allow duplicate keys`,
    'remove or merge one of the two entries',
  );
}

/** The mapping key whose text starts at `offset` (the tree keeps duplicates; js-yaml names them). */
function keyAt(root: YamlNode | undefined, offset: number): ScalarNode | undefined {
  const pending: YamlNode[] = root ? [root] : [];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (node.kind === 'seq') pending.push(...node.items);
    if (node.kind !== 'map') continue;
    for (const { key, value } of node.pairs) {
      if (key.kind === 'scalar' && key.start === offset) return key;
      pending.push(key, value);
    }
  }
  return undefined;
}

function plainKeyAt(text: string, offset: number): Pick<ScalarNode, 'start' | 'value' | 'style'> | undefined {
  const value = /^[^\s:,{}[\]#"']+/.exec(text.slice(offset))?.[0];
  return value === undefined ? undefined : { start: offset, value, style: 'plain' };
}

function emptyError(src: ManifestSource): ActionError {
  return fail(
    src,
    undefined,
    'is empty (no YAML content, only whitespace or comments)',
    'add the services to the manifest, or point the manifest input at the right file',
  );
}
