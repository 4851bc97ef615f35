/** Build routes (doc §2.2). The logs socket lives in sockets/build-logs.ts. */
import { randomHex } from '../clock.js';
import { startBuild } from '../build-runner.js';
import { RackError } from '../errors.js';
import { jsonReply } from '../http.js';
import type { Reply } from '../http.js';
import { buildJson } from '../json-shapes.js';
import type { Ctx, Route } from '../router.js';
import { route, value } from '../router.js';
import { buildLogs } from '../sockets/build-logs.js';
import { buildExport, buildImport } from './build-archive.js';
import { buildImportImage } from '../import-image.js';

async function buildCreate(ctx: Ctx): Promise<Reply> {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  const external = rack.mode === 'v3' && value(ctx, 'external') === 'true';
  const buildArgs = value(ctx, 'build-args');
  const b = rack.state.addBuild(app, {
    description: value(ctx, 'description'),
    gitSha: value(ctx, 'git-sha'),
    wildcardDomain: value(ctx, 'wildcard-domain') === 'true',
    params: {
      url: value(ctx, 'url'),
      manifestPath: value(ctx, 'manifest') || 'convox.yml',
      buildArgs: buildArgs ? buildArgs.split(',') : [],
      noCache: value(ctx, 'no-cache') === 'true',
      development: value(ctx, 'development') === 'true',
      external,
    },
  });
  if (external) {
    // The rack password really is in this JSON on v3 racks (doc §2.2).
    b.repository = `https://convox:${ctx.rack.password}@api.${rack.state.system.domain}/${app.name}`;
    return jsonReply(buildJson(rack, b));
  }
  if (rack.mode === 'v3') {
    b.status = 'running';
    b.process = `build-${b.id.toLowerCase()}-${randomHex(5)}`;
  } else {
    b.process = `arn:aws:ecs:us-east-1:000000000000:task/${randomHex(32)}`;
  }
  const answer = jsonReply(buildJson(rack, b));
  startBuild(rack, app, b);
  // v2 waits for the ECS task to start, yet answers the record as it was (`created`).
  if (rack.mode === 'v2' && rack.timing.buildCreateMs > 0) await rack.timers.sleep(rack.timing.buildCreateMs);
  return answer;
}

function buildGet(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  return jsonReply(buildJson(ctx.rack, ctx.rack.state.requireBuild(app, ctx.params.id ?? '')));
}

function buildList(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const limit = listLimit(ctx);
  return jsonReply(
    ctx.rack.state
      .buildsNewestFirst(app)
      .slice(0, limit)
      .map((b) => buildJson(ctx.rack, b)),
  );
}

/** `?limit=N`, default 10. */
export function listLimit(ctx: Ctx): number {
  const raw = ctx.query.get('limit');
  if (raw === null || raw === '') return 10;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n)) throw new RackError(500, `strconv.Atoi: parsing "${raw}": invalid syntax`);
  return n;
}

/** `PUT` as build pods and external builds use it; times as `YYYYMMDD.HHMMSS.nnnnnnnnn`. */
function buildUpdate(ctx: Ctx): Reply {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  const b = rack.state.requireBuild(app, ctx.params.id ?? '');
  const set = (name: string, fn: (v: string) => void): void => {
    const v = value(ctx, name);
    if (v) fn(v);
  };
  set('manifest', (v) => (b.manifest = v));
  set('entrypoint', (v) => (b.entrypoint = v));
  set('logs', (v) => (b.logs = v));
  set('release', (v) => (b.release = v));
  set('status', (v) => (b.status = v));
  set('started', (v) => (b.started = parseBuildTime(v)));
  set('ended', (v) => (b.ended = parseBuildTime(v)));
  return jsonReply(buildJson(rack, b));
}

function parseBuildTime(v: string): bigint {
  const m = /^(\d{4})(\d{2})(\d{2})\.(\d{2})(\d{2})(\d{2})\.(\d{1,9})$/.exec(v);
  if (!m) throw new RackError(500, `parsing time "${v}" as "20060102.150405.000000000": cannot parse`);
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '0').padEnd(9, '0'));
}

export const buildRoutes: Route[] = [
  route('POST', '/apps/{app}/builds', buildCreate),
  route('GET', '/apps/{app}/builds/{id}.tgz', buildExport),
  route('GET', '/apps/{app}/builds/{id}', buildGet),
  route('POST', '/apps/{app}/builds/import', buildImport),
  // pkg/api/routes.go gained this route in 3.24.6 (commit 20e71e0be); older racks answer 404.
  route('POST', '/apps/{app}/builds/{id}/image', buildImportImage, '3.24.6'),
  route('GET', '/apps/{app}/builds', buildList),
  route('SOCKET', '/apps/{app}/builds/{id}/logs', buildLogs),
  route('PUT', '/apps/{app}/builds/{id}', buildUpdate),
];
