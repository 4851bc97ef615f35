/** Release routes and promote validation (doc §2.4, `pkg/api/validation.go`). */
import { startPromote } from '../deploy.js';
import { parseEnv } from '../env.js';
import { RackError } from '../errors.js';
import { jsonReply, okReply } from '../http.js';
import type { Reply } from '../http.js';
import { releaseJson } from '../json-shapes.js';
import { loadManifest } from '../manifest.js';
import { createRelease } from '../release-logic.js';
import type { ReleaseCreateOptions } from '../release-logic.js';
import type { Ctx, Route } from '../router.js';
import { param, route } from '../router.js';
import { listLimit } from './builds.js';

/** v3 list items carry `env`; v2 items have it empty (it lives in S3, loaded only by get). */
function releaseList(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  return jsonReply(
    ctx.rack.state
      .releasesNewestFirst(app)
      .slice(0, listLimit(ctx))
      .map((r) => releaseJson(r, ctx.rack.mode === 'v3')),
  );
}

function releaseGet(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  return jsonReply(releaseJson(ctx.rack.state.requireRelease(app, ctx.params.id ?? '')));
}

/** A parameter sent empty still counts: `env=` clears the env, `build=` drops the build. */
function releaseCreate(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const opts: ReleaseCreateOptions = {};
  const set = (key: keyof ReleaseCreateOptions, name: string): void => {
    const v = param(ctx, name);
    if (v !== undefined) opts[key] = v;
  };
  set('build', 'build');
  set('env', 'env');
  set('description', 'description');
  set('parentRelease', 'parent-release');
  return jsonReply(releaseJson(createRelease(ctx.rack, app, opts)));
}

/** v3 answers validation failures with 400; v2 loses the type and answers 500. */
function invalid(ctx: Ctx, message: string): RackError {
  return new RackError(ctx.rack.mode === 'v3' ? 400 : 500, message);
}

async function releasePromote(ctx: Ctx): Promise<Reply> {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  const force = (ctx.form.force ?? ctx.query.get('force')) === 'true';
  if (!force && app.status !== 'running') throw new RackError(403, 'app is currently updating');
  const r = rack.state.requireRelease(app, ctx.params.id ?? '');
  if (r.manifest.trim() === '') throw invalid(ctx, 'can not promote a release with an empty manifest');
  if (app.release !== '') {
    const active = rack.state.requireRelease(app, app.release);
    if (r.created < active.created) throw invalid(ctx, 'can not promote an older release, try rollback');
  }
  try {
    // Promote re-interpolates the raw manifest with this release's env (doc §2.8).
    loadManifest(r.manifest, parseEnv(r.env));
  } catch (e) {
    throw new RackError(500, (e as Error).message);
  }
  if (rack.timing.promoteCallMs > 0) await rack.timers.sleep(rack.timing.promoteCallMs);
  startPromote(rack, app, r.id);
  return okReply();
}

export const releaseRoutes: Route[] = [
  route('POST', '/apps/{app}/releases', releaseCreate),
  route('GET', '/apps/{app}/releases/{id}', releaseGet),
  route('GET', '/apps/{app}/releases', releaseList),
  route('POST', '/apps/{app}/releases/{id}/promote', releasePromote),
];
