/**
 * Env mode: the manifest stays as it is and the rack interpolates `${IMAGE_VERSION}`. We only
 * check that each chosen service really uses the variable, and say what the image will become.
 */
import type { ChosenService } from './choose.js';
import { familiarName } from '../image/reference.js';
import type { ImageReference } from '../image/reference.js';
import { interpolate, splitImageText, usesVariable, variableWithOperator } from './image-text.js';
import type { ImageText } from './image-text.js';
import { fail } from './parse.js';
import { renderScalar } from './scalar.js';
import { startOf } from './services.js';
import { lineText, positionOf } from './source.js';
import type { ManifestSource } from './source.js';
import type { ServiceImage } from './types.js';
import type { ScalarNode } from './yaml-tree.js';

/**
 * The chosen services with their interpolated images. Throws ActionError when one does not have
 * `${envVar}` as exactly the tag of its repository: anything else makes the rack pull a reference
 * that was never pushed.
 */
export function envServices(
  src: ManifestSource,
  chosen: readonly ChosenService[],
  image: ImageReference,
  envVar: string,
  tag: string,
): ServiceImage[] {
  return chosen.map((c) => {
    const scalar = c.service.image?.node as ScalarNode;
    const variable = `\${${envVar}}`;
    if (!usesVariable(c.text, envVar)) {
      const suggestion = suggestedLine(src, scalar, `${splitImageText(c.text).repository}:${variable}`);
      const operator = variableWithOperator(c.text, envVar);
      const why = operator
        ? `: the rack replaces only that exact form and has no defaults, so it reads ${operator} as a variable named "${operator.slice(2, -1)}" and puts an empty string there, and`
        : ', so';
      throw fail(
        src,
        startOf(scalar),
        `update is 'env' but the image of service '${c.service.name}' ("${c.text}") does not use ${variable}${why} setting ${envVar} would not change what it runs`,
        suggestion,
      );
    }
    const parts = splitImageText(c.text);
    if (parts.digest !== undefined && !parts.digest.includes(variable)) {
      throw fail(
        src,
        startOf(scalar),
        `the image of service '${c.service.name}' ("${c.text}") pins the digest ${parts.digest}, which wins over any tag, so setting ${envVar} would not change what it runs`,
        `remove "@${parts.digest}" from the image`,
      );
    }
    const why = notExactlyTheTag(parts, variable);
    if (why) {
      const repository = parts.repository.includes(variable) ? familiarName(image.repository) : parts.repository;
      throw fail(
        src,
        startOf(scalar),
        `update is 'env' but in the image of service '${c.service.name}' ("${c.text}") ${variable} ${why}: the rack would pull "${interpolate(c.text, envVar, tag)}", a reference that was never pushed`,
        suggestedLine(src, scalar, `${repository}:${variable}`),
      );
    }
    const at = positionOf(src, startOf(scalar));
    const anchor = c.service.image?.anchor ?? scalar.anchor;
    return {
      service: c.service.name,
      line: at.line,
      column: at.column,
      before: c.text,
      after: interpolate(c.text, envVar, tag),
      anchor,
    };
  });
}

function notExactlyTheTag(parts: ImageText, variable: string): string | undefined {
  if (parts.tag === variable && !parts.repository.includes(variable) && parts.digest === undefined) return undefined;
  if (parts.repository === variable && parts.tag === undefined && parts.digest === undefined) return 'is the whole image';
  if (parts.tag?.includes(variable) && parts.tag !== variable) return 'is not the whole tag';
  return 'is not the tag';
}

/** "change line 7 to:  image: acme/shop:${IMAGE_VERSION}", keeping indentation and quoting. */
function suggestedLine(src: ManifestSource, scalar: ScalarNode, value: string): string {
  const fallback = `write image: ${value}`;
  if (scalar.start < 0) return fallback;
  const { line } = positionOf(src, scalar.start);
  const lineStart = src.lineStarts[line - 1] ?? 0;
  const current = lineText(src, line);
  const rendered = renderScalar(value, scalar);
  if (rendered instanceof Error || scalar.end - lineStart > current.length) return fallback;
  const written = current.slice(0, scalar.start - lineStart) + rendered + current.slice(scalar.end - lineStart);
  return `change line ${line} to:\n    ${written}`;
}
