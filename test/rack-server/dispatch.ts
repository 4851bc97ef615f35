/**
 * One rack's request handling, as stdapi layers it: `/check` and unknown routes answer before
 * any middleware (no `Request-Id`), then authentication, authorisation and the handler; errors
 * become text (or JSON where the generation supports it).
 */
import { authenticate, authorize, Unauthenticated } from './auth.js';
import { RackError } from './errors.js';
import { acceptsJson, emptyReply, errorReply, jsonReply, requestId, textReply } from './http.js';
import type { Reply } from './http.js';
import type { Rack } from './rack.js';
import { supportsJsonErrors, v3Since } from './rack.js';
import { matchRoute } from './router.js';
import type { Ctx, Route, RouteMatch } from './router.js';
import { appRoutes } from './routes/apps.js';
import { buildRoutes } from './routes/builds.js';
import { objectRoutes } from './routes/objects.js';
import { registryRoutes } from './routes/registries.js';
import { releaseRoutes } from './routes/releases.js';
import { systemRoutes } from './routes/system.js';

/** Registration order matters where patterns overlap (e.g. `builds/{id}.tgz` before `builds/{id}`). */
export const ROUTES: readonly Route[] = [
  ...systemRoutes,
  ...appRoutes,
  ...buildRoutes,
  ...objectRoutes,
  ...releaseRoutes,
  ...registryRoutes,
];

/** The routes this rack's version has (a route added in 3.24.6 is an empty 404 before). */
function routesOf(rack: Rack): readonly Route[] {
  return ROUTES.filter((r) => !r.since || v3Since(rack, r.since));
}

/** The request as dispatch needs it; `rack` and `params` are filled in here. */
export type RequestInfo = Omit<Ctx, 'rack' | 'params'>;

/** Answer a plain HTTP request on `rack`. `viaConsole`: the Console already authenticated it. */
export async function rackHttp(rack: Rack, info: RequestInfo, viaConsole: boolean): Promise<Reply> {
  if (info.path === '/check') return textReply('ok');
  if (rack.mode === 'legacy') return legacyHttp(rack, info, viaConsole);
  const m = matchRoute(routesOf(rack), info.method, info.path, false);
  if (m === 404 || m === 405) return emptyReply(m);
  return routed(rack, info, () => {
    if (!viaConsole) authorize(authenticate(rack, info.headers), info.method);
    const handler = m.route.handler;
    if (!handler) throw new RackError(404, '');
    return handler({ ...info, rack, params: m.params });
  });
}

/** Match a WebSocket upgrade; a Reply when it cannot become a socket on this rack. */
export function rackSocketRoute(rack: Rack, info: RequestInfo): RouteMatch | Reply {
  if (rack.mode === 'legacy') return errorReply(404, 'not found', true);
  const m = matchRoute(routesOf(rack), info.method, info.path, true);
  if (m === 404 || m === 405) return emptyReply(m);
  return m;
}

/** Run `fn` with stdapi's error handling and the headers every routed answer carries. */
export async function routed(rack: Rack, info: RequestInfo, fn: () => Reply | Promise<Reply>): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await fn();
  } catch (e) {
    reply = errorFor(rack, e, acceptsJson(info.headers.accept));
  }
  reply.headers['request-id'] = requestId();
  if (rack.mode === 'v3') {
    reply.headers['x-content-type-options'] = 'nosniff';
    reply.headers['x-frame-options'] = 'DENY';
  }
  return reply;
}

/** Typed errors keep their status; anything else is a 500 with its message. */
export function errorFor(rack: Rack, e: unknown, wantsJson: boolean): Reply {
  const status = e instanceof RackError ? e.status : 500;
  const message = e instanceof Error ? e.message : String(e);
  const json = rack.mode === 'legacy' ? status !== 401 : supportsJsonErrors(rack) && wantsJson;
  const reply = errorReply(status, message, json);
  if (e instanceof Unauthenticated && e.challenge) reply.headers['www-authenticate'] = 'Basic realm="convox"';
  return reply;
}

/** Classic racks: enough for a client to read the version and refuse to go on. */
async function legacyHttp(rack: Rack, info: RequestInfo, viaConsole: boolean): Promise<Reply> {
  try {
    if (!viaConsole) authenticate(rack, info.headers);
  } catch (e) {
    return errorFor(rack, e, false);
  }
  if (info.method === 'GET' && info.path === '/system') {
    const s = rack.state.system;
    return jsonReply({ count: s.count, name: s.name, region: s.region, status: s.status, type: s.type, version: s.version });
  }
  return errorReply(404, 'not found', true);
}
