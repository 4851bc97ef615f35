/**
 * An `image:` value as text: split into repository, tag and digest without parsing, because a
 * manifest may hold `${VAR}` where the Docker grammar allows none. The repository text is kept
 * exactly as spelled when rewriting; only the tag and digest are replaced.
 */
import { parseReference, sameRepository } from '../docker/reference.js';
import type { ImageReference } from '../docker/reference.js';

export interface ImageText {
  /** Everything before the tag, as written (`127.0.0.1:5000/acme/shop`, `${REGISTRY}/shop`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits at the first `@` (digest) and the last `:` after the last `/` (tag), as Docker does. */
export function splitImageText(text: string): ImageText {
  const at = text.indexOf('@');
  const rest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const colon = rest.lastIndexOf(':');
  const hasTag = colon !== -1 && colon > rest.lastIndexOf('/');
  return {
    repository: hasTag ? rest.slice(0, colon) : rest,
    ...(hasTag ? { tag: rest.slice(colon + 1) } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
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
  const { repository } = splitImageText(text);
  const last = repository.slice(repository.lastIndexOf('/') + 1);
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

/** The text with every `${name}` replaced by `value`: what the rack will pull. */
export function interpolate(text: string, name: string, value: string): string {
  return text.split(`\${${name}}`).join(value);
}
