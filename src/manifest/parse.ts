/**
 * Loading a manifest: the value, the tree, and every way that can fail, reported with the
 * file, line and column a person needs to fix it.
 */
import { ActionError } from '../errors.js';
import { lineText, positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import { YamlStructureError, buildTree, loadManifestValue } from './yaml-tree.js';
import type { MapNode, ScalarNode, YamlNode } from './yaml-tree.js';

/** A manifest whose top level is a mapping. */
export interface ParsedManifest {
  readonly value: Record<string, unknown>;
  readonly root: MapNode;
}

interface YamlErrorLike {
  reason?: string;
  mark?: { position?: number };
  message?: string;
}

/** Loads `src`. Throws ActionError for empty, malformed, multi-document or non-mapping files. */
export function parseManifest(src: ManifestSource): ParsedManifest {
  let value: unknown;
  try {
    value = loadManifestValue(src.text);
  } catch (e) {
    throw loadError(src, e as YamlErrorLike);
  }
  const root = treeOf(src);
  if (value === null || value === undefined || root === undefined) throw emptyError(src);
  if (root.kind !== 'map' || typeof value !== 'object' || Array.isArray(value)) {
    throw fail(
      src,
      root.start,
      'the top level must be a mapping (services:, resources:, …), not a list or a single value',
      'check that this is your convox.yml or docker-compose.yml',
    );
  }
  return { value: value as Record<string, unknown>, root };
}

function treeOf(src: ManifestSource): YamlNode | undefined {
  try {
    return buildTree(src.text).root;
  } catch (e) {
    if (!(e instanceof YamlStructureError)) throw e;
    throw fail(src, e.offset, e.message, 'give the value its own anchor outside the collection, or write it out');
  }
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

function loadError(src: ManifestSource, e: YamlErrorLike): ActionError {
  const documents = countDocuments(src.text);
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
  if (reason === 'duplicated mapping key' && offset !== undefined) {
    // Without a tree (an unknown alias further on), fall back to the plain key's text.
    const key = keyAt(src.text, offset) ?? plainKeyAt(src.text, offset);
    const start = key && (key.style === 'single' || key.style === 'double') ? key.start - 1 : offset;
    const line = lineText(src, positionOf(src, start).line).trim();
    return fail(
      src,
      start,
      `key ${key ? `'${key.value}' ` : ''}appears twice in the same mapping (at "${line}"); YAML does not allow duplicate keys`,
      'remove or merge one of the two entries',
    );
  }
  return fail(
    src,
    offset,
    `not valid YAML: ${reason}`,
    'fix the YAML syntax at that position (a YAML linter shows the same error)',
  );
}

/** The mapping key whose text starts at `offset` (the event parser does not reject duplicates). */
function keyAt(text: string, offset: number): ScalarNode | undefined {
  let root: YamlNode | undefined;
  try {
    root = buildTree(text).root;
  } catch {
    return undefined;
  }
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

function countDocuments(text: string): number {
  try {
    return buildTree(text).documents;
  } catch {
    return 1; // malformed: let the loader's reason speak
  }
}
