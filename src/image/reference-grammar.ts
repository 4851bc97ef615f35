/**
 * Docker's reference grammar exactly as github.com/distribution/reference v0.6.0 (what docker/cli
 * vendors) defines it: the productions of its regexp.go, `Parse` from reference.go, and the digest
 * checks of opencontainers/go-digest. Written from the grammar in reference.go's package comment;
 * checked against upstream's own test tables (test/fixtures/reference/) and against the module
 * itself (test/unit/image/reference-oracle.test.ts). Go's regexp picks the submatches a
 * backtracking engine would, so JavaScript's regexps capture the same parts. Pure: no I/O.
 */

/** Why a reference is refused; the first six are distribution/reference's and go-digest's errors. */
export type ReferenceProblemKind =
  | 'empty' // ErrNameEmpty
  | 'format' // ErrReferenceInvalidFormat
  | 'uppercase' // ErrNameContainsUppercase
  | 'too-long' // ErrNameTooLong
  | 'digest-length' // digest.ErrDigestInvalidLength
  | 'digest-unsupported' // digest.ErrDigestUnsupported
  | 'digest-format' // digest.ErrDigestInvalidFormat
  | 'identifier' // ParseNormalizedNamed: a 64-hex image ID is not a name
  | 'host'; // ours: a registry host the grammar does not accept (see reference.ts)

export interface ReferenceProblem {
  readonly kind: ReferenceProblemKind;
  /** What is wrong, for a person: `tag "-x" is invalid: …`. */
  readonly reason: string;
}

/** What `Parse` finds: the domain as written (empty when there is none), the path, tag and digest. */
export interface ReferenceMatch {
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** RepositoryNameTotalLengthMax: since v0.6 it limits the path, not `domain/path`. */
export const PATH_LENGTH_MAX = 255;

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
// No dots: an IPv4 tail (`[::ffff:192.0.2.1]`) and zones (`%eth0`) are excluded on purpose upstream.
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const REFERENCE_RE = new RegExp(`^((?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest's DigestRegexpAnchored: tells a malformed digest from one of an unknown algorithm. */
const GO_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Hex lengths of the algorithms go-digest registers (and Docker links in). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** DomainRegexp: a host name, IPv4 or bracketed IPv6 address, optionally with `:port`. */
export function isValidDomain(text: string): boolean {
  return DOMAIN_RE.test(text);
}

/** The anchored name regexp (WithName without its length check): domain and path, or undefined. */
export function splitName(name: string): { domain: string; path: string } | undefined {
  const m = NAME_RE.exec(name);
  return m ? { domain: m[1] ?? '', path: m[2] ?? '' } : undefined;
}

/** True for a 64-character lowercase hex string: an image ID, which Docker refuses as a name. */
export function isImageId(text: string): boolean {
  return IDENTIFIER_RE.test(text);
}

/** True when `tag` is a legal Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** go-digest's Digest.Validate, in its order: shape, algorithm, length, then lowercase hex. */
export function checkDigest(digest: string): ReferenceProblem | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0 || colon === digest.length - 1) {
    return { kind: 'digest-format', reason: `digest "${digest}" must look like sha256:<64 hex characters>` };
  }
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    const supported = Object.keys(DIGEST_HEX_LENGTH).join(', ');
    return GO_DIGEST_RE.test(digest)
      ? { kind: 'digest-unsupported', reason: `digest algorithm "${algorithm}" is not supported (use ${supported})` }
      : { kind: 'digest-format', reason: `digest "${digest}" must look like sha256:<64 hex characters>` };
  }
  if (hex.length !== length) {
    return { kind: 'digest-length', reason: `${algorithm} digest must have ${length} hex characters, got ${hex.length}` };
  }
  if (!/^[a-f0-9]*$/.test(hex)) {
    return { kind: 'digest-format', reason: `digest "${digest}" must be lowercase hexadecimal after "${algorithm}:"` };
  }
  return undefined;
}

/**
 * distribution/reference's `Parse`: no normalisation, so `foo/bar` has the domain `foo`. The
 * kind of a refusal is upstream's; the reason says which part is wrong.
 */
export function matchReference(text: string): ReferenceMatch | ReferenceProblem {
  const m = REFERENCE_RE.exec(text);
  if (!m) {
    const kind = text === '' ? 'empty' : REFERENCE_RE.test(text.toLowerCase()) ? 'uppercase' : 'format';
    return { kind, reason: explain(text) };
  }
  const [, name = '', tag, digest] = m;
  const { domain, path } = splitName(name) ?? { domain: '', path: name };
  if (path.length > PATH_LENGTH_MAX) {
    return {
      kind: 'too-long',
      reason: `repository path is ${path.length} characters long; the limit is ${PATH_LENGTH_MAX} (the registry host does not count)`,
    };
  }
  const bad = digest === undefined ? undefined : checkDigest(digest);
  if (bad) return bad;
  return { domain, path, tag, digest };
}

/** Splits `name[:tag][@digest]`; a `:` before the last `/` belongs to a port, not a tag. */
function splitSuffixes(text: string): { name: string; tag?: string; digest?: string } {
  const at = text.indexOf('@');
  const rest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const colon = rest.lastIndexOf(':');
  if (colon === -1 || colon < rest.lastIndexOf('/')) return { name: rest, digest };
  return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
}

function tagReason(tag: string): string | undefined {
  if (tag === '') return 'tag after ":" is empty';
  if (tag.length > 128) return `tag "${tag.slice(0, 20)}…" is ${tag.length} characters long; the limit is 128`;
  if (isValidTag(tag)) return undefined;
  return `tag "${tag}" is invalid: it must start with a letter, digit or "_" and contain only letters, digits, "_", "." and "-"`;
}

function pathReason(path: string): string | undefined {
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

/** Which part of a reference the grammar refused, in words; only called once it has. */
function explain(text: string): string {
  if (text === '') return 'it is empty';
  if (/\s/.test(text)) return 'it contains whitespace';
  const { name, tag, digest } = splitSuffixes(text);
  const slash = name.indexOf('/');
  const first = name.slice(0, Math.max(0, slash));
  const hosted = slash !== -1 && (/[.:]/.test(first) || first === 'localhost');
  const reason =
    (tag === undefined ? undefined : tagReason(tag)) ??
    (digest === undefined ? undefined : digest === '' ? 'digest after "@" is empty' : checkDigest(digest)?.reason) ??
    (hosted && !isValidDomain(first) ? `registry host "${first}" is invalid` : undefined) ??
    pathReason(hosted ? name.slice(slash + 1) : name);
  return reason ?? `it does not follow Docker's grammar name[:tag][@digest]`;
}
