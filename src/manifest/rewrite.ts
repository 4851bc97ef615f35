/**
 * Manifest mode: splice the new reference into the exact bytes of each chosen `image:` scalar,
 * then load the result again and prove that nothing else changed.
 */
import type { ChosenService } from './choose.js';
import { rewriteImage, unsafeToRewrite } from './image-text.js';
import { fail } from './parse.js';
import type { ParsedManifest } from './parse.js';
import { renderScalar } from './scalar.js';
import { startOf } from './services.js';
import type { ManifestKind, ServiceEntry, ValuePath } from './services.js';
import { decodeManifest, positionOf, spliceBytes } from './source.js';
import type { ManifestSource, TextEdit } from './source.js';
import type { ServiceImage } from './types.js';
import { formatPath, usesOf } from './uses.js';
import type { Use } from './uses.js';
import { verifyEdit } from './verify.js';
import type { IntendedChange } from './verify.js';
import { loadManifestValue } from './load.js';
import { buildTree } from './yaml-tree.js';
import type { ScalarNode } from './yaml-tree.js';

/** What a rewrite produced. */
export interface Rewrite {
  readonly after: Buffer;
  readonly services: ServiceImage[];
  readonly notes: string[];
}

interface Target {
  readonly scalar: ScalarNode;
  readonly after: string;
  readonly chosen: ChosenService[];
}

/** Rewrites the chosen services' images to `repo:tag[@digest]`. Throws ActionError when unsafe. */
export function rewriteManifest(
  src: ManifestSource,
  parsed: ParsedManifest,
  kind: ManifestKind,
  all: readonly ServiceEntry[],
  chosen: readonly ChosenService[],
  next: { tag: string; digest?: string },
): Rewrite {
  const targets = groupTargets(src, chosen, next);
  const uses = usesIn(src, parsed, new Set(targets.keys()));
  const intended: IntendedChange[] = [];
  const edits: TextEdit[] = [];
  for (const target of targets.values()) {
    const paths = checkUses(src, kind, all, target, uses.get(target.scalar) ?? []);
    intended.push(...paths.map((path) => ({ path, after: target.after })));
    if (target.after !== target.scalar.value) edits.push(edit(src, target));
  }
  const after = spliceBytes(src, edits);
  verify(src, parsed, after, intended);
  const notes = chosen
    .filter((c) => c.variable)
    .map(
      (c) =>
        `service '${c.service.name}': the repository in "${c.text}" holds a variable, so it was kept as written and only the tag was replaced`,
    );
  return { after, services: serviceImages(src, chosen, targets), notes };
}

function usesIn(src: ManifestSource, parsed: ParsedManifest, targets: ReadonlySet<ScalarNode>): Map<ScalarNode, Use[]> {
  try {
    return usesOf(parsed.root, targets);
  } catch (e) {
    throw fail(
      src,
      undefined,
      `cannot check where the image values are used: ${(e as Error).message}`,
      'write the images out instead of building them from deeply nested aliases',
    );
  }
}

function groupTargets(
  src: ManifestSource,
  chosen: readonly ChosenService[],
  next: { tag: string; digest?: string },
): Map<ScalarNode, Target> {
  const targets = new Map<ScalarNode, Target>();
  for (const c of chosen) {
    const scalar = c.service.image?.node as ScalarNode;
    const unsafe = c.variable ? unsafeToRewrite(c.text) : undefined;
    if (unsafe) {
      throw fail(
        src,
        startOf(scalar),
        `service '${c.service.name}': cannot rewrite "${c.text}": ${unsafe}`,
        'write the repository literally (image: host/namespace/repo:tag), or use update: env with image: <repository>:${IMAGE_VERSION}',
      );
    }
    const existing = targets.get(scalar);
    if (existing) existing.chosen.push(c);
    else targets.set(scalar, { scalar, after: rewriteImage(c.text, next.tag, next.digest), chosen: [c] });
  }
  return targets;
}

/**
 * The paths a shared scalar reaches. Every image path must belong to a chosen service. Outside
 * the services, the place it is written is fine, and so is any `x-` extension (templates built
 * from templates); anywhere else the rewrite would change something that gets deployed.
 */
function checkUses(
  src: ManifestSource,
  kind: ManifestKind,
  all: readonly ServiceEntry[],
  target: Target,
  uses: readonly Use[],
): ValuePath[] {
  const chosenNames = new Set(target.chosen.map((c) => c.service.name));
  const anchor = target.chosen[0]?.service.image?.anchor ?? target.scalar.anchor;
  const shared = anchor ? `the anchored value &${anchor}` : `"${target.scalar.value}"`;
  for (const use of uses) {
    const owner = all.find((s) => s.image?.node === target.scalar && formatPath(s.imagePath) === formatPath(use.path));
    if (owner && chosenNames.has(owner.name)) continue;
    if (owner) {
      throw fail(
        src,
        startOf(target.scalar),
        `${shared} is also the image of service '${owner.name}', which is not being updated; rewriting it would change both`,
        `add '${owner.name}' to the services input, or give '${owner.name}' its own image: line`,
      );
    }
    if (!insideService(kind, all, use.path) && (use.direct || isExtension(kind, use.path))) continue;
    if (droppedByConvox(kind, use)) continue;
    throw fail(
      src,
      startOf(target.scalar),
      `${shared} is also used at ${formatPath(use.path)}, which is not a service image; rewriting it would change that too`,
      'give the services their own image: value instead of sharing this one',
    );
  }
  return uses.map((u) => u.path);
}

/** Under `services:`, Convox drops what a plain `<<:` merges (see MergeRules): it never deploys that copy. */
function droppedByConvox(kind: ManifestKind, use: Use): boolean {
  return kind === 'convox' && use.path[0] === 'services' && use.mergedAt !== undefined && use.mergedAt >= 1;
}

function isExtension(kind: ManifestKind, path: ValuePath): boolean {
  return kind !== 'compose-v1' && typeof path[0] === 'string' && path[0].startsWith('x-');
}

function insideService(kind: ManifestKind, all: readonly ServiceEntry[], path: ValuePath): boolean {
  const name = kind === 'compose-v1' ? path[0] : path[0] === 'services' ? path[1] : undefined;
  return name !== undefined && all.some((s) => s.name === name);
}

function edit(src: ManifestSource, target: Target): TextEdit {
  const { scalar } = target;
  const service = target.chosen[0]?.service.name ?? '';
  if (scalar.start < 0)
    throw fail(src, undefined, `the image of service '${service}' has no text to replace`, 'write the image on one line');
  const multiline = src.text.slice(scalar.start, scalar.end).includes('\n');
  const rendered =
    multiline && (scalar.style === 'plain' || scalar.style === 'single' || scalar.style === 'double')
      ? new Error('it spans several lines; write the image on one line')
      : renderScalar(target.after, scalar);
  if (rendered instanceof Error)
    throw fail(
      src,
      startOf(scalar),
      `cannot rewrite the image of service '${service}': ${rendered.message}`,
      `write it as image: ${target.after}`,
    );
  return { start: scalar.start, end: scalar.end, text: rendered };
}

function verify(src: ManifestSource, parsed: ParsedManifest, after: Buffer, intended: readonly IntendedChange[]): void {
  let value: unknown;
  try {
    const text = decodeManifest(src.file, after).text;
    const tree = buildTree(text);
    if (tree.error) throw new Error(`the yaml package: ${tree.error.message}`);
    value = loadManifestValue(text, tree.root, { repeatedKeys: parsed.repeatedKey !== undefined });
  } catch (e) {
    throw fail(
      src,
      undefined,
      `the edited manifest would not load (${(e as Error).message.split('\n')[0]}); nothing was written`,
      'report this with the manifest; as a workaround, quote the image value',
    );
  }
  const problem = verifyEdit(parsed.value, value, intended);
  if (problem)
    throw fail(
      src,
      undefined,
      `the edit did not verify: ${problem}; nothing was written`,
      'report this with the manifest; as a workaround, give each service a plain image: line',
    );
}

function serviceImages(src: ManifestSource, chosen: readonly ChosenService[], targets: Map<ScalarNode, Target>): ServiceImage[] {
  return chosen.map((c) => {
    const scalar = c.service.image?.node as ScalarNode;
    const at = positionOf(src, startOf(scalar));
    const anchor = c.service.image?.anchor ?? scalar.anchor;
    const after = targets.get(scalar)?.after ?? c.text;
    return { service: c.service.name, line: at.line, column: at.column, before: c.text, after, anchor };
  });
}
