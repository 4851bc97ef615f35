/**
 * Answering a registry's `WWW-Authenticate` challenge the way the Docker engine does:
 * `Basic` gets the credentials directly; `Bearer realm=…,service=…,scope=…` gets a token from
 * the realm (Basic credentials, or an OAuth2 refresh grant for identity tokens), then `Bearer`.
 */
import { ActionError } from '../errors.js';
import { HttpStatusError } from '../retry.js';
import type { Secrets } from '../secrets.js';
import type { RegistryCredentials } from './credentials.js';
import { registryRequest, type Exchange, type RegistryRequest } from './http.js';

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses `WWW-Authenticate` (RFC 7235: scheme, then `key=value` or `key="quoted, value"` pairs).
 * Only the first challenge is read: registries send one.
 */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header ?? '');
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pair = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/gy;
  const rest = match[2] ?? '';
  for (let m = pair.exec(rest); m; m = pair.exec(rest)) {
    params[(m[1] ?? '').toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (pair.lastIndex >= rest.length) break;
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}

export interface TokenRequest {
  readonly challenge: Challenge;
  /** Used when the challenge names no scope. */
  readonly defaultScope: string;
  readonly creds: RegistryCredentials | undefined;
  readonly secrets: Secrets;
  /** Unset: node:http(s) through `src/net/http.ts`. */
  readonly exchange?: Exchange;
  readonly signal: AbortSignal | undefined;
  /** For messages: the registry being asked. */
  readonly registry: string;
}

const CLIENT_ID = 'convox-image-deploy';

function basic(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** The Authorization header a `Basic` challenge wants, or undefined when we have nothing to send. */
export function basicAuthorization(creds: RegistryCredentials | undefined): string | undefined {
  return creds && creds.password ? basic(creds) : undefined;
}

function tokenRequest(req: TokenRequest, realm: URL, scope: string): Omit<RegistryRequest, 'signal'> {
  const { creds, challenge } = req;
  const service = challenge.params['service'];
  if (creds?.identitytoken) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: creds.identitytoken,
      scope,
    });
    if (service) form.set('service', service);
    const body = Buffer.from(form.toString());
    return { method: 'POST', url: realm, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  if (service) realm.searchParams.set('service', service);
  realm.searchParams.set('scope', scope);
  if (creds?.username) realm.searchParams.set('account', creds.username);
  const authorization = basicAuthorization(creds);
  return { method: 'GET', url: realm, headers: authorization ? { authorization } : {} };
}

/** The token service's JSON answer, or `{}` when it is not JSON (reported as "returned no token"). */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) ?? {};
  } catch {
    return {};
  }
}

/**
 * Fetches a bearer token for `challenge` and returns the `Authorization` header to use.
 * The token is registered with `secrets` before it is returned. 429/5xx surface as
 * HttpStatusError (retryable); 401/403 from the realm are left to the caller via `status`.
 */
export async function fetchBearer(
  req: TokenRequest,
): Promise<{ authorization: string } | { status: number; statusText: string }> {
  const realmText = req.challenge.params['realm'];
  let realm: URL;
  try {
    realm = new URL(realmText ?? '');
  } catch {
    throw new ActionError(
      `registry ${req.registry} asked for a bearer token but named no usable realm (${JSON.stringify(realmText ?? '')})`,
      {},
      'this registry is misconfigured; check its token service settings',
    );
  }
  const scope = req.challenge.params['scope'] || req.defaultScope;
  const request = { ...tokenRequest(req, realm, scope), signal: req.signal };
  const res = await registryRequest(request, req.exchange);
  if (res.status === 401 || res.status === 403) return { status: res.status, statusText: res.statusText };
  if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, res.statusText, res.headers);
  const body = parseJson(res.body) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new ActionError(
      `the token service ${realm.origin} for registry ${req.registry} returned no token`,
      {},
      'this registry is misconfigured; check its token service',
    );
  }
  req.secrets.add(token);
  return { authorization: `Bearer ${token}` };
}
