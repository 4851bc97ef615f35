/**
 * Docker image references, parsed and normalised the way the Docker CLI does
 * (github.com/distribution/reference): `nginx` is `docker.io/library/nginx`,
 * `index.docker.io/acme/shop` is `docker.io/acme/shop`, `127.0.0.1:5055/acme/shop:1` keeps its host.
 * Pure: no I/O.
 */

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
const NAME_TOTAL_LENGTH_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:.]+\\])`;
const DOMAIN_RE = new RegExp(`^${HOST}(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** Hex lengths of the algorithms registries accept (opencontainers/go-digest). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** True when `tag` is a legal Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/**
 * Why `digest` is not a valid content digest, or undefined when it is.
 * Only lowercase hex is accepted, as go-digest does.
 */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0) return `digest "${digest}" must look like sha256:<64 hex characters>`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `digest algorithm "${algorithm}" is not supported (use ${Object.keys(DIGEST_HEX_LENGTH).join(', ')})`;
  }
  if (!/^[a-f0-9]*$/.test(hex)) return `digest "${digest}" must be lowercase hexadecimal after "${algorithm}:"`;
  if (hex.length !== length) return `${algorithm} digest must have ${length} hex characters, got ${hex.length}`;
  return undefined;
}

/**
 * Splits the domain off a name as Docker does: the first component is a registry host only when
 * it contains `.` or `:` or is `localhost`. Unlike distribution/reference ≥ 0.6 we do not treat an
 * uppercase first component (`Acme/shop`) as a host: in CI that is a typo for a Docker Hub
 * repository, and "must be lowercase" is the useful error.
 */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost')) {
    return { domain: DOCKER_HUB, remainder: name };
  }
  return { domain: first === 'index.docker.io' ? DOCKER_HUB : first, remainder: name.slice(slash + 1) };
}

/** Splits `name[:tag][@digest]`; a `:` before the last `/` belongs to a port, not a tag. */
function splitSuffixes(text: string): { name: string; tag?: string; digest?: string } {
  const at = text.indexOf('@');
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const rest = at === -1 ? text : text.slice(0, at);
  const colon = rest.lastIndexOf(':');
  if (colon === -1 || colon < rest.lastIndexOf('/')) return { name: rest, ...(digest !== undefined ? { digest } : {}) };
  return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest !== undefined ? { digest } : {}) };
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'repository path is empty';
  if (path !== path.toLowerCase()) return `repository name "${path}" must be lowercase`;
  for (const component of path.split('/')) {
    if (component === '') return `repository name "${path}" has an empty path component (a leading, trailing or doubled "/")`;
    if (!PATH_COMPONENT_RE.test(component)) {
      return (
        `path component "${component}" of "${path}" is invalid: use lowercase letters and digits, ` +
        'separated by ".", "_", "__" or dashes, starting and ending with a letter or digit'
      );
    }
  }
  return undefined;
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'tag after ":" is empty';
  if (tag.length > 128) return `tag "${tag.slice(0, 20)}…" is ${tag.length} characters long; the limit is 128`;
  if (!isValidTag(tag)) {
    return `tag "${tag}" is invalid: it must start with a letter, digit or "_" and contain only letters, digits, "_", "." and "-"`;
  }
  return undefined;
}

/**
 * Parses and normalises an image reference. Throws an Error whose message says exactly what is
 * wrong (uppercase repository, bad tag, bad digest, empty, name over 255 characters).
 */
export function parseReference(text: string): ImageReference {
  const fail = (reason: string): never => {
    throw new Error(`invalid image reference "${text}": ${reason}`);
  };
  if (text.trim() === '') fail('it is empty');
  if (/\s/.test(text)) fail('it contains whitespace');
  if (IDENTIFIER_RE.test(text)) fail('a bare 64-character hex string is an image ID, not a repository name');
  const { name, tag, digest } = splitSuffixes(text);
  const { domain, remainder } = splitDomain(name);
  if (!DOMAIN_RE.test(domain)) fail(`registry host "${domain}" is invalid`);
  const path = domain === DOCKER_HUB && remainder !== '' && !remainder.includes('/') ? `library/${remainder}` : remainder;
  const problem = pathProblem(path) ?? (tag !== undefined ? tagProblem(tag) : undefined);
  if (problem) fail(problem);
  if (digest !== undefined) {
    const bad = digest === '' ? 'digest after "@" is empty' : digestProblem(digest);
    if (bad) fail(bad);
  }
  const repository = `${domain}/${path}`;
  if (repository.length > NAME_TOTAL_LENGTH_MAX) {
    fail(`repository name is ${repository.length} characters long; the limit is ${NAME_TOTAL_LENGTH_MAX}`);
  }
  return {
    registry: domain,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    repository,
    original: text,
  };
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
