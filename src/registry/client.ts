/**
 * A small registry HTTP API v2 client: which digest does a tag point at, and does it exist.
 * Used to confirm a push (the registry serves the digest we pushed) and, for `build: false`, to
 * fail early when the tag to deploy does not exist.
 */
import { createHash } from 'node:crypto';
import { dockerRef, formatReference, registryApiHost, type ImageReference } from '../image/reference.js';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import { HttpStatusError, classifyError, describeFailure, isTransientNetworkError, retry } from '../retry.js';
import type { Secrets } from '../secrets.js';
import { basicAuthorization, fetchBearer, parseChallenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { registryRequest, type Exchange, type RegistryAnswer } from './http.js';

export interface RegistryClientOptions {
  readonly log: Log;
  readonly secrets: Secrets;
  readonly signal?: AbortSignal;
  /** Hosts to speak plain HTTP to; defaults to loopback hosts, as Docker treats them as insecure. */
  readonly insecureHttp?: (host: string) => boolean;
  /** The HTTP exchange (node:http/https, see ./http.ts); tests pass a recorder. */
  readonly exchange?: Exchange;
  /** Retry tuning; tests pass a fake sleep. */
  readonly attempts?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Per-request limit, so a registry that stops answering is retried instead of hanging. */
  readonly timeoutMs?: number;
}

/** Every manifest type a tag may point at, so the registry never converts (and re-digests) one. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DEFAULT_TIMEOUT_MS = 30_000;

/** `localhost`, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name.toLowerCase() === 'localhost' || /^127(\.\d{1,3}){3}$/.test(name) || name === '::1';
}

interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly digest?: string;
}

/** One manifest lookup: the URL, and the Authorization header learnt from challenges. */
class ManifestLookup {
  private authorization: string | undefined;
  readonly url: string;

  constructor(
    readonly ref: ImageReference,
    private readonly creds: RegistryCredentials | undefined,
    private readonly opts: RegistryClientOptions,
  ) {
    const host = registryApiHost(ref);
    const scheme = (opts.insecureHttp ?? isLoopbackHost)(host) ? 'http' : 'https';
    const target = dockerRef(ref);
    this.url = `${scheme}://${host}/v2/${ref.path}/manifests/${target.digest ?? target.tag}`;
  }

  /** The job's cancellation and this request's time limit, so a silent registry is retried instead of hanging. */
  private requestSignal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
  }

  private async send(method: 'HEAD' | 'GET'): Promise<RegistryAnswer> {
    const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
    if (this.authorization) headers['authorization'] = this.authorization;
    const req = { method, url: new URL(this.url), headers, signal: this.requestSignal() };
    const res = await registryRequest(req, this.opts.exchange);
    this.opts.log.debug(`${method} ${this.url} → ${res.status}`);
    return res;
  }

  /** Answers a 401's challenge; false when there is nothing more we could send. */
  private async authenticate(res: RegistryAnswer): Promise<boolean> {
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme === 'basic') {
      this.authorization = basicAuthorization(this.creds);
      return this.authorization !== undefined;
    }
    if (challenge?.scheme !== 'bearer') return false;
    const got = await fetchBearer({
      challenge,
      defaultScope: `repository:${this.ref.path}:pull`,
      creds: this.creds,
      secrets: this.opts.secrets,
      exchange: this.opts.exchange,
      signal: this.requestSignal(),
      registry: this.ref.registry,
    });
    if (!('authorization' in got)) return false;
    this.authorization = got.authorization;
    return true;
  }

  /** One attempt: HEAD, answering at most one challenge; GET only if no digest header came back. */
  async attempt(): Promise<Answer> {
    let res = await this.send('HEAD');
    if (res.status === 401 && (await this.authenticate(res))) res = await this.send('HEAD');
    if (res.status === 429 || res.status >= 500) throw new HttpStatusError(res.status, res.statusText, res.headers);
    if (res.status !== 200) return { status: res.status, statusText: res.statusText };
    const header = res.headers.get('docker-content-digest');
    if (header) return { status: 200, statusText: res.statusText, digest: header };
    // The header is only a SHOULD in the spec: hash the manifest bytes as the registry would.
    const full = await this.send('GET');
    if (full.status === 429 || full.status >= 500) throw new HttpStatusError(full.status, full.statusText, full.headers);
    if (full.status !== 200) return { status: full.status, statusText: full.statusText };
    return { status: 200, statusText: full.statusText, digest: `sha256:${createHash('sha256').update(full.body).digest('hex')}` };
  }
}

function authFailure(ref: ImageReference, creds: RegistryCredentials | undefined, answer: Answer): ActionError {
  const status = `${answer.status} ${answer.statusText}`.trim();
  const who = creds?.username ? `user "${creds.username}"` : 'the identity token';
  const what = !creds
    ? `${ref.path} needs credentials and none were found (${status})`
    : answer.status === 403
      ? `${who} may not read ${ref.path} (${status})`
      : `the credentials of ${who} were refused for ${ref.path} (${status})`;
  return new ActionError(
    `registry ${ref.registry}: ${what}`,
    { input: creds ? 'registry-password' : 'registry-username' },
    `set registry-username and registry-password to an account that can pull ${ref.path} on ${ref.registry}, ` +
      'or log in to it with docker/login-action before this step',
  );
}

/** `describeFailure`, with the time limit spelt out for timeouts. */
function describer(opts: RegistryClientOptions): (err: unknown) => string {
  return (err) => {
    const text = describeFailure(err);
    return text === 'timed out' ? `no answer within ${(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000}s` : text;
  };
}

function unreachable(lookup: ManifestLookup, err: unknown, attempts: number, opts: RegistryClientOptions): ActionError {
  const transient = err instanceof HttpStatusError || isTransientNetworkError(err);
  const tries = transient ? ` (${attempts} attempts)` : '';
  return new ActionError(
    `registry ${lookup.ref.registry} did not answer ${lookup.url}: ${describer(opts)(err)}${tries}`,
    {},
    transient
      ? 'the registry is unavailable or overloaded; re-run the job later'
      : 'check the registry host and port in the image reference; registries on other hosts must speak HTTPS',
    { cause: err },
  );
}

/** One manifest lookup with classified retries; ActionErrors name the registry. */
async function answerOf(lookup: ManifestLookup, opts: RegistryClientOptions): Promise<Answer> {
  const attempts = opts.attempts ?? 5;
  try {
    return await retry(`check ${formatReference(lookup.ref, true)}`, () => lookup.attempt(), {
      attempts,
      classify: classifyError,
      describe: describer(opts),
      log: opts.log,
      signal: opts.signal,
      sleep: opts.sleep,
      random: opts.random,
    });
  } catch (err) {
    if (err instanceof ActionError || opts.signal?.aborted) throw err;
    throw unreachable(lookup, err, attempts, opts);
  }
}

/**
 * The manifest digest `ref`'s tag (or digest) resolves to, or undefined when the registry has no
 * such tag. Auth failures and exhausted retries throw ActionErrors naming the registry.
 */
export async function lookupDigest(
  ref: ImageReference,
  creds: RegistryCredentials | undefined,
  opts: RegistryClientOptions,
): Promise<string | undefined> {
  const lookup = new ManifestLookup(ref, creds, opts);
  const answer = await answerOf(lookup, opts);
  if (answer.status === 200 && answer.digest) return answer.digest;
  if (answer.status === 404) return undefined;
  if (answer.status === 401 || answer.status === 403) throw authFailure(ref, creds, answer);
  throw new ActionError(
    `registry ${ref.registry} answered ${answer.status} ${answer.statusText} for ${lookup.url}`,
    {},
    'check that the image reference names a repository on this registry',
  );
}

/**
 * Would the registry let anyone read `ref` without credentials? `refused` when it answered an
 * anonymous manifest read with 401/403 (a private repository, or a registry that wants a login
 * for everything); `allowed` when it answered 200 or 404 (a public repository, tag there or not);
 * `unknown` when it could not be asked. Never sends credentials.
 */
export type AnonymousRead = 'allowed' | 'refused' | 'unknown';

export async function anonymousRead(ref: ImageReference, opts: RegistryClientOptions): Promise<AnonymousRead> {
  try {
    const answer = await answerOf(new ManifestLookup(ref, undefined, opts), opts);
    if (answer.status === 401 || answer.status === 403) return 'refused';
    return answer.status === 200 || answer.status === 404 ? 'allowed' : 'unknown';
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    return 'unknown';
  }
}

/**
 * The digest the registry serves for `ref`'s tag. Throws an ActionError when the tag does not
 * exist, credentials are refused, or the registry stays unavailable.
 */
export async function manifestDigest(
  ref: ImageReference,
  creds: RegistryCredentials | undefined,
  opts: RegistryClientOptions,
): Promise<string> {
  const digest = await lookupDigest(ref, creds, opts);
  if (digest !== undefined) return digest;
  throw new ActionError(
    `tag not found: ${formatReference(ref, true)} does not exist on registry ${ref.registry}`,
    {},
    'push the tag first, or check the image reference and tag (tags are case-sensitive)',
  );
}

/** True when the registry has `ref`'s tag; for `build: false`, which deploys an existing tag. */
export async function tagExists(
  ref: ImageReference,
  creds: RegistryCredentials | undefined,
  opts: RegistryClientOptions,
): Promise<boolean> {
  return (await lookupDigest(ref, creds, opts)) !== undefined;
}
