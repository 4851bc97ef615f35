/**
 * `convox registries` (doc §2.6, from convox/convox pkg/api/routes.go, pkg/api/controllers.go
 * and provider/k8s/registry.go at 9e0245260): add (`server`, `username`, `password` through
 * `c.Value`, no validation), list sorted by server WITH the passwords in clear, remove
 * (`ok`, or 404 `no such registry: <server>`). The rack never checks the credentials.
 */
import { RackError } from '../errors.js';
import { jsonReply, okReply } from '../http.js';
import type { Reply } from '../http.js';
import type { Ctx, Route } from '../router.js';
import { route, value } from '../router.js';

function registryAdd(ctx: Ctx): Reply {
  const entry = { server: value(ctx, 'server'), username: value(ctx, 'username'), password: value(ctx, 'password') };
  ctx.rack.state.registries.set(entry.server, entry);
  return jsonReply(entry);
}

function registryList(ctx: Ctx): Reply {
  const list = [...ctx.rack.state.registries.values()].sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
  return jsonReply(list);
}

function registryRemove(ctx: Ctx): Reply {
  const server = ctx.params.server ?? '';
  if (!ctx.rack.state.registries.delete(server)) throw new RackError(404, `no such registry: ${server}`);
  return okReply();
}

export const registryRoutes: Route[] = [
  route('POST', '/registries', registryAdd),
  route('GET', '/registries', registryList),
  route('DELETE', '/registries/{server:.*}', registryRemove),
];
