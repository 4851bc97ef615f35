/** JSON bodies in Go struct field order per generation (doc §2.7). */
import { goTime } from './clock.js';
import type { Rack } from './rack.js';
import type { AppRecord, BuildRecord, ReleaseRecord } from './types.js';

export function appJson(rack: Rack, app: AppRecord): Record<string, unknown> {
  return {
    generation: app.generation,
    locked: app.locked,
    name: app.name,
    release: app.release,
    router: app.router,
    status: app.status,
    parameters: sortKeys(app.parameters),
  };
}

export function buildJson(rack: Rack, b: BuildRecord): Record<string, unknown> {
  const common = {
    id: b.id,
    app: b.app,
    description: b.description,
    entrypoint: b.entrypoint,
    'git-sha': b.gitSha,
    logs: b.logs,
    manifest: b.manifest,
    process: b.process,
    release: b.release,
    reason: b.reason,
  };
  if (rack.mode === 'v3') {
    return { ...common, repository: b.repository, status: b.status, started: goTime(b.started), ended: goTime(b.ended) };
  }
  return {
    ...common,
    status: b.status,
    started: goTime(b.started),
    ended: goTime(b.ended),
    'wildcard-domain': b.wildcardDomain,
  };
}

/** `withEnv` false gives v2's list items, whose env lives in S3 and is loaded only by get. */
export function releaseJson(r: ReleaseRecord, withEnv = true): Record<string, unknown> {
  return {
    id: r.id,
    app: r.app,
    build: r.build,
    env: withEnv ? r.env : '',
    manifest: r.manifest,
    description: r.description,
    created: goTime(r.created),
  };
}

export function systemJson(rack: Rack): Record<string, unknown> {
  const s = rack.state.system;
  return {
    count: s.count,
    domain: s.domain,
    name: s.name,
    provider: s.provider,
    'rack-domain': s.domain,
    region: s.region,
    status: s.status,
    type: s.type,
    version: s.version,
    // v2 racks list their CloudFormation parameters (convox/rack provider/aws/system.go
    // `SystemGet`); v3's k8s `SystemGet` sets none, and Go omits the empty map.
    ...(rack.mode === 'v2' && Object.keys(rack.state.parameters).length ? { parameters: sortKeys(rack.state.parameters) } : {}),
  };
}

/** Go marshals maps with sorted keys. */
export function sortKeys(obj: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
