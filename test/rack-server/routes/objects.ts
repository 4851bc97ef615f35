/** Object store routes (doc §2.2): source tarballs go up here before a build. */
import { randomHex } from '../clock.js';
import { RackError } from '../errors.js';
import { bytesReply, jsonReply, okReply } from '../http.js';
import type { Reply } from '../http.js';
import type { Ctx, Route } from '../router.js';
import { route } from '../router.js';

/** `{"Url": "object://app/key"}` — capital U, the struct has no JSON tag. */
function objectStore(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  let key = ctx.params.key ?? '';
  if (ctx.rack.mode === 'v3' && key.includes('..')) throw new RackError(400, 'invalid object key');
  if (key === '') key = `tmp/${randomHex(30)}`;
  // An urlencoded or multipart content type lets the form parser eat the body: `raw` is empty then.
  app.objects.set(key, Buffer.from(ctx.raw));
  return jsonReply({ Url: `object://${app.name}/${key}` });
}

function objectFetch(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const key = ctx.params.key ?? '';
  const data = app.objects.get(key);
  if (!data) throw new RackError(404, `object not found: ${key}`);
  return bytesReply(data);
}

/** JSON `true`/`false` with status 200 either way (so a HEAD alone cannot tell). */
function objectExists(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  return jsonReply(app.objects.has(ctx.params.key ?? ''));
}

function objectDelete(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const key = ctx.params.key ?? '';
  if (!app.objects.delete(key)) throw new RackError(404, `object not found: ${key}`);
  return okReply();
}

function objectList(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const prefix = ctx.query.get('prefix') ?? '';
  return jsonReply(
    [...app.objects.keys()].filter((k) => k.startsWith(prefix)).map((k) => ({ Url: `object://${app.name}/${k}` })),
  );
}

export const objectRoutes: Route[] = [
  route('DELETE', '/apps/{app}/objects/{key:.*}', objectDelete),
  route('HEAD', '/apps/{app}/objects/{key:.*}', objectExists),
  route('GET', '/apps/{app}/objects/{key:.*}', objectFetch),
  route('GET', '/apps/{app}/objects', objectList),
  route('POST', '/apps/{app}/objects/{key:.*}', objectStore),
];
