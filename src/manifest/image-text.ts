/**
 * An `image:` value as text: split into repository, tag and digest without parsing, because a
 * manifest may hold `${VAR}` where the Docker grammar allows none. The repository text is kept
 * exactly as spelled when rewriting; only the tag and digest are replaced.
 */
import { parseReference, sameRepository } from '../image/reference.js';
import type { ImageReference } from '../image/reference.js';

export interface ImageText {
  /** Everything before the tag, as written (`127.0.0.1:5000/acme/shop`, `${REGISTRY}/shop`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Splits at the first `@` (digest) and the last `:` after the last `/` (tag), as Docker does,
 * except that a `:`, `/` or `@` inside a `${…}` expression (`${TAG:-latest}`, `${TAG:?set TAG}`,
 * `${REGISTRY:-127.0.0.1:5000}`) belongs to the expression, not to the reference.
 */
export function splitImageText(text: string): ImageText {
  const inside = expressionMask(text);
  const at = indexOutside(text, '@', inside);
  const end = at === -1 ? text.length : at;
  const rest = text.slice(0, end);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const colon = lastIndexOutside(text, ':', inside, end);
  const hasTag = colon !== -1 && colon > lastIndexOutside(text, '/', inside, end);
  return {
    repository: hasTag ? rest.slice(0, colon) : rest,
    tag: hasTag ? rest.slice(colon + 1) : undefined,
    digest,
  };
}

/**
 * For each UTF-16 position of `text`, whether it lies inside a `${…}` expression. Braces are
 * balanced (`${A:-${B}}` is one expression); a `${` that is never closed is plain text. Linear,
 * so a hostile value cannot make it slow.
 */
function expressionMask(text: string): Uint8Array {
  const open: { at: number; dollar: boolean }[] = [];
  const depth = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') open.push({ at: i, dollar: i > 0 && text[i - 1] === '$' });
    else if (ch === '}') {
      const o = open.pop();
      if (o?.dollar) {
        depth[o.at - 1] = (depth[o.at - 1] ?? 0) + 1;
        depth[i + 1] = (depth[i + 1] ?? 0) - 1;
      }
    }
  }
  const inside = new Uint8Array(text.length);
  let level = 0;
  for (let i = 0; i < text.length; i++) {
    level += depth[i] ?? 0;
    inside[i] = level > 0 ? 1 : 0;
  }
  return inside;
}

function indexOutside(text: string, ch: string, inside: Uint8Array): number {
  for (let i = 0; i < text.length; i++) if (text[i] === ch && !inside[i]) return i;
  return -1;
}

function lastIndexOutside(text: string, ch: string, inside: Uint8Array, end: number): number {
  for (let i = end - 1; i >= 0; i--) if (text[i] === ch && !inside[i]) return i;
  return -1;
}

/** The last path component of a repository as written, not splitting inside `${…}`. */
function lastComponent(repository: string): string {
  return repository.slice(lastIndexOutside(repository, '/', expressionMask(repository), repository.length) + 1);
}

/** True when the text holds a `${…}` or `$NAME` interpolation. */
export function hasVariable(text: string): boolean {
  return /\$(?:\{|[A-Za-z_])/.test(text);
}

/** How an image value relates to the pushed repository. */
export type ImageMatch =
  | { readonly kind: 'same' }
  | { readonly kind: 'other'; readonly repository: string }
  | { readonly kind: 'variable' }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Compares the repository of `text` with the pushed one after Docker's normalisation
 * (`docker.io/`, `index.docker.io/`, `library/`), ignoring tag and digest.
 */
export function matchImage(text: string, image: ImageReference): ImageMatch {
  const { repository } = splitImageText(text);
  if (hasVariable(repository)) return { kind: 'variable' };
  try {
    const parsed = parseReference(repository);
    return sameRepository(parsed, image) ? { kind: 'same' } : { kind: 'other', repository: parsed.repository };
  } catch (e) {
    return { kind: 'invalid', reason: (e as Error).message };
  }
}

/**
 * Why the tag of `text` cannot be replaced safely, or undefined when it can: with a variable in
 * the last path component (`${IMAGE}`, `acme/${APP}:1`) the variable may itself carry a tag.
 */
export function unsafeToRewrite(text: string): string | undefined {
  const last = lastComponent(splitImageText(text).repository);
  if (!hasVariable(last)) return undefined;
  return `the image name "${last}" is a variable, so the action cannot tell where its tag begins`;
}

/** The new value: the repository as spelled, then `:tag`, then `@digest` when pinning. */
export function rewriteImage(text: string, tag: string, digest?: string): string {
  return `${splitImageText(text).repository}:${tag}${digest ? `@${digest}` : ''}`;
}

/** True when the text contains `${name}` exactly (the form Convox interpolates). */
export function usesVariable(text: string, name: string): boolean {
  return text.includes(`\${${name}}`);
}

/**
 * The first `${name…}` in `text` that adds a shell operator (`${name:-dev}`, `${name-dev}`,
 * `${name:?msg}`), as the rack reads it: up to the first `}`. Convox has no such forms; it looks
 * up a variable named `name:-dev` (unset, so empty), so these are not uses of `name`.
 */
export function variableWithOperator(text: string, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\$\\{${escaped}[^A-Za-z0-9_}][^}]*\\}`).exec(text)?.[0];
}

/** The text with every `${name}` replaced by `value`: what the rack will pull. */
export function interpolate(text: string, name: string, value: string): string {
  return text.split(`\${${name}}`).join(value);
}
