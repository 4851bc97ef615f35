/**
 * Console mode (doc §1): this server plays console.convox.com in front of several racks. The
 * real Console is closed source; the choices made here are:
 * - credentials: any username; the password must be one of `passwords` or `deployKeys`, else
 *   401 `invalid authentication`;
 * - session challenge (option `session`): requests without a known `Session` header get 401 with
 *   `WWW-Authenticate: Session path="/session" token="false|true"`; `POST /session` answers
 *   `{"id": …}` for `token="false"`; for `token="true"` (hardware key) it always refuses;
 * - `GET /racks` lists `{name, organization: {name}, provider, status}`; `GET /auth` answers
 *   `{"id": …}` (deploy keys: 403); `GET /machines` answers `[]`;
 * - `Rack` header: a full `org/rack` name matches exactly; a bare `rack` resolves when exactly
 *   one listed rack has that name, 400 `ambiguous rack name: x` when several do, 404
 *   `rack not found: x` when none; a missing header is 400 `rack required`;
 * - deploy keys may not read releases (list/get), create or delete apps, cancel, mint JWTs:
 *   403 `Command not supported for deploy key (try build, promote, deploy)`.
 * Console-made refusals are text/plain; rack answers pass through untouched.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { randomHex } from './clock.js';
import { basicAuth } from './auth.js';
import { errorReply, jsonReply, textReply } from './http.js';
import type { Reply } from './http.js';
import type { Rack } from './rack.js';
import type { ConsoleOptions } from './types.js';

export const SESSION_PATH = '/session';

export const DEPLOY_KEY_REFUSAL = 'Command not supported for deploy key (try build, promote, deploy)';

const DEPLOY_KEY_DENIED: ReadonlyArray<readonly [string, RegExp]> = [
  ['GET', /^\/apps\/[^/]+\/releases(\/[^/]+)?$/],
  ['POST', /^\/apps$/],
  ['DELETE', /^\/apps\/[^/]+$/],
  ['POST', /^\/apps\/[^/]+\/cancel$/],
  ['POST', /^\/system\/jwt\/token$/],
  ['PUT', /^\/system$/],
  // `registries` is not among the deploy-key commands (docs/management/deploy-keys.md).
  ['GET', /^\/registries$/],
  ['POST', /^\/registries$/],
  ['DELETE', /^\/registries\//],
];

export interface ConsoleGateState {
  options: ConsoleOptions;
  racks: Map<string, Rack>;
  sessions: Set<string>;
}

export type GateResult = { reply: Reply } | { rack: Rack; deployKey: boolean };

/** Decide what the Console does with a request before (maybe) handing it to a rack. */
export function consoleGate(gate: ConsoleGateState, method: string, path: string, headers: IncomingHttpHeaders): GateResult {
  if (path === '/check') return { reply: textReply('ok') };
  const { password } = basicAuth(headers);
  const deployKey = (gate.options.deployKeys ?? []).includes(password);
  if (!deployKey && !(gate.options.passwords ?? []).includes(password)) {
    return { reply: errorReply(401, 'invalid authentication', false) };
  }
  const sessionReply = checkSession(gate, method, path, headers);
  if (sessionReply) return { reply: sessionReply };
  const own = consoleRoute(gate, method, path, deployKey);
  if (own) return { reply: own };
  const name = one(headers.rack);
  if (!name) return { reply: errorReply(400, 'rack required', false) };
  const found = resolveRack(gate, name);
  if (typeof found === 'string') return { reply: errorReply(found.startsWith('ambiguous') ? 400 : 404, found, false) };
  if (deployKey && DEPLOY_KEY_DENIED.some(([m, re]) => m === method && re.test(path))) {
    return { reply: errorReply(403, DEPLOY_KEY_REFUSAL, false) };
  }
  return { rack: found, deployKey };
}

function checkSession(gate: ConsoleGateState, method: string, path: string, headers: IncomingHttpHeaders): Reply | undefined {
  const mode = gate.options.session ?? 'none';
  if (mode === 'none') return undefined;
  if (path === SESSION_PATH) {
    if (mode === 'hardware') {
      if (method === 'GET') return jsonReply({ challenge: randomHex(32) });
      return errorReply(401, 'invalid challenge', false);
    }
    if (method !== 'POST') return { status: 405, headers: {}, body: Buffer.alloc(0) };
    const id = randomHex(32);
    gate.sessions.add(id);
    return jsonReply({ id });
  }
  if (gate.sessions.has(one(headers.session))) return undefined;
  const reply = errorReply(401, 'session required', false);
  reply.headers['www-authenticate'] = `Session path="${SESSION_PATH}" token="${mode === 'hardware'}"`;
  return reply;
}

function consoleRoute(gate: ConsoleGateState, method: string, path: string, deployKey: boolean): Reply | undefined {
  if (method !== 'GET') return undefined;
  if (path === '/racks') {
    return jsonReply(
      [...gate.racks.keys()].map((full) => {
        const [org = '', name = ''] = full.split('/');
        return { name, organization: { name: org }, provider: 'aws', status: 'running' };
      }),
    );
  }
  const named = /^\/racks\/(.+)$/.exec(path);
  if (named) return rackRecord(gate, decodeURIComponent(named[1] ?? ''));
  if (path === '/auth') return deployKey ? errorReply(403, DEPLOY_KEY_REFUSAL, false) : jsonReply({ id: 'user-0001' });
  if (path === '/machines') return jsonReply([]);
  return undefined;
}

/**
 * `GET /racks/{name}` (convox/convox pkg/console/rack.go `RackGet`, read by pkg/rack/console.go
 * `Parameters`): the Console's record of the rack, whose parameters hold what
 * `convox rack params` shows. Key casing is unknown (Go decodes it case-insensitively); lower.
 */
function rackRecord(gate: ConsoleGateState, name: string): Reply {
  const found = resolveRack(gate, name);
  if (typeof found === 'string') return errorReply(404, found, false);
  const [org = '', bare = ''] = found.name.split('/');
  return jsonReply({
    name: bare,
    organization: { name: org },
    parameters: found.state.parameters,
    provider: 'aws',
    status: 'running',
    version: found.version,
  });
}

/** Full name exactly, else a unique bare name; a string is the refusal. */
export function resolveRack(gate: ConsoleGateState, name: string): Rack | string {
  const exact = gate.racks.get(name);
  if (exact) return exact;
  const bare = [...gate.racks.entries()].filter(([full]) => full.split('/')[1] === name);
  if (bare.length === 1 && bare[0]) return bare[0][1];
  if (bare.length > 1) return `ambiguous rack name: ${name}`;
  return `rack not found: ${name}`;
}

function one(h: string | string[] | undefined): string {
  return (Array.isArray(h) ? h[0] : h) ?? '';
}
