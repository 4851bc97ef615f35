/**
 * Direct rack authentication (doc §1, §1): HTTP Basic, any username, the password compared
 * with the rack's; username `jwt` takes a token minted by `POST /system/jwt/token`. GET needs a
 * role with `r`, everything else `w`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { randomHex } from './clock.js';
import { RackError } from './errors.js';
import type { Rack } from './rack.js';

interface Token {
  role: string;
  expires: number;
}

/** Tokens per rack; the real rack signs JWTs, here a random handle stands in for one. */
const tokens = new WeakMap<Rack, Map<string, Token>>();

/** Basic credentials, or empty strings when the header is missing or malformed (as Go's `BasicAuth`). */
export function basicAuth(headers: IncomingHttpHeaders): { user: string; password: string } {
  const h = headers.authorization ?? '';
  const m = /^Basic\s+(.+)$/i.exec(h);
  if (!m) return { user: '', password: '' };
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: '', password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The role of the request's credentials (`rwa` for the password), or a 401. */
export function authenticate(rack: Rack, headers: IncomingHttpHeaders): string {
  const { user, password } = basicAuth(headers);
  if (user === 'jwt' && rack.mode !== 'legacy') {
    const t = tokens.get(rack)?.get(password);
    if (!t) throw unauthenticated(rack, 'invalid authentication: token is malformed');
    if (t.expires < Date.now()) throw unauthenticated(rack, 'invalid authentication: token is expired');
    return t.role;
  }
  if (rack.password !== '' && password !== rack.password) throw unauthenticated(rack, 'invalid authentication');
  return rack.mode === 'v3' ? 'rwa' : 'rw';
}

/** `pkg/api/authorization.go`: reads need `r`, writes need `w`. */
export function authorize(role: string, method: string): void {
  const needed = method === 'GET' || method === 'HEAD' ? 'r' : 'w';
  if (!role.includes(needed)) throw new RackError(401, 'you are unauthorized to access this');
}

/** A 401 whose `WWW-Authenticate` header v3 adds and v2 does not. */
export class Unauthenticated extends RackError {
  constructor(
    message: string,
    readonly challenge: boolean,
  ) {
    super(401, message);
  }
}

function unauthenticated(rack: Rack, message: string): Unauthenticated {
  if (rack.mode === 'legacy') {
    return new Unauthenticated(
      'Unable to authenticate.\nPlease check that your password is correct and try again.\nIf this keeps happening run `convox login` again.',
      false,
    );
  }
  return new Unauthenticated(message, rack.mode === 'v3');
}

/** Mint a token for `role` (`read`, `write` or `admin`) valid for `hours`. */
export function issueToken(rack: Rack, role: string, hours: number): string {
  const roles: Record<string, string> = { read: 'r', write: 'rw', admin: 'rwa' };
  const r = roles[role];
  if (!r) throw new RackError(400, `invalid role: ${role}`);
  const token = `${randomHex(16)}.${randomHex(32)}.${randomHex(22)}`;
  let map = tokens.get(rack);
  if (!map) tokens.set(rack, (map = new Map()));
  map.set(token, { role: r, expires: Date.now() + hours * 3_600_000 });
  return token;
}
