/**
 * Docker image references, parsed and normalised the way the Docker CLI does
 * (github.com/distribution/reference): `nginx` is `docker.io/library/nginx`,
 * `index.docker.io/acme/shop` is `docker.io/acme/shop`, `127.0.0.1:5055/acme/shop:1` keeps its host.
 * The grammar itself is in reference-grammar.ts. Pure: no I/O.
 */
import { checkDigest, isImageId, matchReference, type ReferenceProblem, type ReferenceProblemKind } from './reference-grammar.js';

export { isValidTag } from './reference-grammar.js';

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** `docker.io`, or the host with optional port as written (`127.0.0.1:5055`, `[::1]:5000`). */
  readonly registry: string;
  /** The repository path inside the registry, e.g. `library/nginx`, `acme/shop`. */
  readonly path: string;
  readonly tag?: string;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest?: string;
  /** `${registry}/${path}`, normalised. */
  readonly repository: string;
  /** The text the reference was parsed from. */
  readonly original: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

/** A refused reference: the message names the text and the part that is wrong; `kind` says which rule. */
export class InvalidReferenceError extends Error {
  override readonly name = 'InvalidReferenceError';
  constructor(
    readonly kind: ReferenceProblemKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Why `digest` is not a valid content digest, or undefined when it is.
 * Only lowercase hex is accepted, as go-digest does.
 */
export function digestProblem(digest: string): string | undefined {
  return checkDigest(digest)?.reason;
}

/**
 * ParseNormalizedNamed's splitDockerDomain: the first component is a registry host only when it
 * contains `.` or `:` or is `localhost`; `index.docker.io` is `docker.io`, and a one-component
 * Docker Hub name is an official image under `library/`.
 *
 * Deliberate difference: since v0.6 upstream also takes an uppercase first component (`Acme/shop`)
 * as a host, which would send the push to `https://Acme/v2/`. In CI that is a typo for a Docker
 * Hub repository, and "must be lowercase" is the useful error, given before anything is built.
 */
function splitDockerDomain(text: string): { domain: string; remainder: string } {
  const slash = text.indexOf('/');
  const first = text.slice(0, Math.max(0, slash));
  const hosted = slash !== -1 && (/[.:]/.test(first) || first === 'localhost');
  const domain = !hosted || first === 'index.docker.io' ? DOCKER_HUB : first;
  const remainder = hosted ? text.slice(slash + 1) : text;
  return { domain, remainder: domain === DOCKER_HUB && !remainder.includes('/') ? `library/${remainder}` : remainder };
}

/**
 * Parses and normalises an image reference as the Docker CLI does (ParseNormalizedNamed), with the
 * differences documented in test/fixtures/reference/. Throws an InvalidReferenceError whose message
 * says exactly what is wrong (uppercase repository, bad tag, bad digest, path over 255 characters).
 */
export function parseReference(text: string): ImageReference {
  const fail = (problem: ReferenceProblem): never => {
    throw new InvalidReferenceError(problem.kind, `invalid image reference "${text}": ${problem.reason}`);
  };
  if (text.trim() === '') fail({ kind: 'empty', reason: 'it is empty' });
  if (isImageId(text)) {
    fail({ kind: 'identifier', reason: 'a bare 64-character hex string is an image ID, not a repository name' });
  }
  const { domain, remainder } = splitDockerDomain(text);
  const match = matchReference(`${domain}/${remainder}`);
  if ('kind' in match) return fail(match);
  // Deliberate difference: `bad_host.io/app` is not a host, so upstream parses it as a path with
  // no registry at all; there is nowhere to push that, so we say which host is wrong.
  if (match.domain !== domain) fail({ kind: 'host', reason: `registry host "${domain}" is invalid` });
  const { path, tag, digest } = match;
  return {
    registry: domain,
    path,
    tag,
    digest,
    repository: `${domain}/${path}`,
    original: text,
  };
}

/**
 * What Docker resolves a reference to (ParseDockerRef): with a digest, the digest alone (the tag
 * is ignored); otherwise the tag, `latest` when there is none.
 */
export function dockerRef(ref: ImageReference): ImageReference {
  const { tag: _tag, digest, ...rest } = ref;
  return digest !== undefined ? { ...rest, digest } : { ...rest, tag: ref.tag ?? 'latest' };
}

/** What `formatReference` needs: a normalised repository, or its registry and path. */
export type ReferenceParts =
  | { readonly repository: string; readonly tag?: string | undefined; readonly digest?: string | undefined }
  | { readonly registry: string; readonly path: string; readonly tag?: string | undefined; readonly digest?: string | undefined };

function repositoryOf(ref: ReferenceParts): string {
  return 'repository' in ref ? ref.repository : `${ref.registry}/${ref.path}`;
}

/**
 * The short form Docker prints for a repository: `nginx` for `docker.io/library/nginx`,
 * `acme/shop` for `docker.io/acme/shop`; other registries keep their host.
 */
export function familiarName(repository: string): string {
  const hub = `${DOCKER_HUB}/`;
  if (!repository.startsWith(hub)) return repository;
  const path = repository.slice(hub.length);
  return path.startsWith('library/') && path.split('/').length === 2 ? path.slice('library/'.length) : path;
}

/** `repository[:tag][@digest]`, fully qualified, or in the familiar short form for display. */
export function formatReference(ref: ReferenceParts, familiar = false): string {
  const repository = repositoryOf(ref);
  const name = familiar ? familiarName(repository) : repository;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * True when both name the same repository. Host names compare case-insensitively (DNS does);
 * paths are lowercase by grammar.
 */
export function sameRepository(
  a: Pick<ImageReference, 'registry' | 'path'>,
  b: Pick<ImageReference, 'registry' | 'path'>,
): boolean {
  return a.registry.toLowerCase() === b.registry.toLowerCase() && a.path === b.path;
}

/** The host[:port] that serves the registry HTTP API: `registry-1.docker.io` for Docker Hub. */
export function registryApiHost(ref: Pick<ImageReference, 'registry'> | string): string {
  const registry = typeof ref === 'string' ? ref : ref.registry;
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}
