/** App, process and cancel routes (doc §2, §2.4). The logs socket lives in sockets/app-logs.ts. */
import { goTime } from '../clock.js';
import { cancelUpdate, isDeploying } from '../deploy.js';
import { parseEnv } from '../env.js';
import { RackError } from '../errors.js';
import { jsonReply, okReply } from '../http.js';
import type { Reply } from '../http.js';
import { appJson } from '../json-shapes.js';
import { loadManifest } from '../manifest.js';
import type { Rack } from '../rack.js';
import type { Ctx, Route } from '../router.js';
import { route, value } from '../router.js';
import { appLogs } from '../sockets/app-logs.js';
import type { AppRecord, ReleaseRecord } from '../types.js';

function appList(ctx: Ctx): Reply {
  const apps = [...ctx.rack.state.apps.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return jsonReply(apps.map((a) => appJson(ctx.rack, a)));
}

function appGet(ctx: Ctx): Reply {
  return jsonReply(appJson(ctx.rack, ctx.rack.state.requireApp(ctx.params.app ?? '')));
}

function appCreate(ctx: Ctx): Reply {
  const name = value(ctx, 'name');
  if (!name) throw new RackError(500, 'name required');
  if (ctx.rack.state.apps.has(name)) throw new RackError(500, `app already exists: ${name}`);
  const app = ctx.rack.state.addApp(name, value(ctx, 'generation') ? { generation: value(ctx, 'generation') } : {});
  return jsonReply(appJson(ctx.rack, app));
}

function appCancel(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  if (app.status !== 'updating') throw new RackError(403, 'app is not updating');
  cancelUpdate(ctx.rack, app);
  return okReply();
}

/** One process per service of the active release; during a rollout the new release's too. */
export function processes(rack: Rack, app: AppRecord): Record<string, unknown>[] {
  const active = rack.state.findRelease(app, app.release);
  const out = active ? releaseProcesses(rack, app, active, 'running') : [];
  const newest = rack.state.newestRelease(app);
  if (isDeploying(app) && newest && newest.id !== active?.id) out.push(...releaseProcesses(rack, app, newest, 'pending'));
  return out;
}

function releaseProcesses(rack: Rack, app: AppRecord, r: ReleaseRecord, status: string): Record<string, unknown>[] {
  let services: string[] = [];
  try {
    services = loadManifest(r.manifest, parseEnv(r.env)).map((s) => s.name);
  } catch {
    services = [];
  }
  return services.map((service) => ({
    id: `${service}-${r.id.slice(1, 8).toLowerCase()}-${r.build.slice(1, 6).toLowerCase()}`,
    app: app.name,
    command: '',
    cpu: 0,
    host: '10.0.0.1',
    image: `registry.${rack.state.system.domain}/${app.name}:${service}.${r.build}`,
    instance: 'i-0123456789abcdef0',
    memory: 0,
    name: service,
    ports: [],
    release: r.id,
    ...(rack.mode === 'v3' ? { service } : {}),
    started: goTime(r.created),
    status,
  }));
}

function processList(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const release = ctx.query.get('release');
  const service = ctx.query.get('service');
  return jsonReply(
    processes(ctx.rack, app).filter((p) => (!release || p.release === release) && (!service || p.name === service)),
  );
}

function processGet(ctx: Ctx): Reply {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const p = processes(ctx.rack, app).find((x) => x.id === ctx.params.pid);
  if (!p) throw new RackError(404, `process not found: ${ctx.params.pid}`);
  return jsonReply(p);
}

export const appRoutes: Route[] = [
  route('POST', '/apps/{app}/cancel', appCancel),
  route('POST', '/apps', appCreate),
  route('GET', '/apps/{app}', appGet),
  route('GET', '/apps', appList),
  route('SOCKET', '/apps/{app}/logs', appLogs),
  route('GET', '/apps/{app}/processes/{pid}', processGet),
  route('GET', '/apps/{app}/processes', processList),
];
