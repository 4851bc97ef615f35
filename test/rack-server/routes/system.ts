/** `/system`, `/system/jwt/token` and `/auth` (doc §1, §2.1). */
import { issueToken } from '../auth.js';
import { RackError } from '../errors.js';
import { jsonReply, okReply } from '../http.js';
import type { Reply } from '../http.js';
import { systemJson } from '../json-shapes.js';
import type { Ctx, Route } from '../router.js';
import { route, value } from '../router.js';

function systemGet(ctx: Ctx): Reply {
  return jsonReply(systemJson(ctx.rack));
}

function jwtToken(ctx: Ctx): Reply {
  const hoursText = value(ctx, 'durationInHour') || '1';
  const hours = Number(hoursText);
  if (!Number.isFinite(hours) || hours <= 0) throw new RackError(400, `invalid duration: ${hoursText}`);
  return jsonReply({ token: issueToken(ctx.rack, value(ctx, 'role') || 'read', hours) });
}

export const systemRoutes: Route[] = [
  route('GET', '/auth', (): Reply => okReply()),
  route('GET', '/system', systemGet),
  route('POST', '/system/jwt/token', jwtToken),
];
