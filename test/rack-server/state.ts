/**
 * What one rack holds: apps with their builds, releases, objects and logs. Tests may read and
 * change any of it; the server reads it afresh on every request.
 */
import { convoxId, nowNs } from './clock.js';
import { appNotFound, RackError } from './errors.js';
import { LiveLog, LogFeed } from './live-log.js';
import type { AppRecord, BuildRecord, RackMode, RegistryEntry, ReleaseRecord, SeedApp } from './types.js';

/** The `GET /system` answer's variable parts. */
export interface SystemRecord {
  name: string;
  version: string;
  status: string;
  provider: string;
  domain: string;
  region: string;
  type: string;
  count: number;
}

export class RackState {
  readonly apps = new Map<string, AppRecord>();
  readonly system: SystemRecord;
  /** `convox registries` entries by server (the rack keeps them in a docker config secret). */
  readonly registries = new Map<string, RegistryEntry>();
  /** Rack parameters (see RackServerOptions.parameters). */
  parameters: Record<string, string> = {};
  /** Import-image relays in flight (the API pod's semaphore). */
  importsInFlight = 0;

  constructor(
    readonly mode: RackMode,
    name: string,
    version: string,
  ) {
    this.system = {
      name,
      version,
      status: 'running',
      provider: 'aws',
      domain: `${name}.example.convox.cloud`,
      region: 'us-east-1',
      type: 't3.medium',
      count: 3,
    };
  }

  /** Add an empty app (status `running`, no release). */
  addApp(name: string, init: Partial<Pick<AppRecord, 'status' | 'generation'>> = {}): AppRecord {
    const app: AppRecord = {
      name,
      generation: init.generation ?? (this.mode === 'v3' ? '3' : '2'),
      locked: false,
      status: init.status ?? 'running',
      release: '',
      router: `router.${this.system.domain}`,
      parameters: {},
      builds: [],
      releases: [],
      objects: new Map(),
      logs: new LogFeed(),
    };
    this.apps.set(name, app);
    return app;
  }

  /** Seed an app as options describe it: a manifest brings a completed build and an active release. */
  seedApp(seed: SeedApp): AppRecord {
    const app = this.addApp(seed.name, seed);
    if (seed.manifest === undefined && seed.env === undefined) return app;
    let build = '';
    if (seed.manifest !== undefined) {
      const b = this.addBuild(app, { status: 'complete', manifest: seed.manifest, description: 'seed build' });
      b.log.write('seeded build\n');
      b.log.end();
      b.ended = b.started;
      app.objects.set(`build/${b.id}/logs`, b.log.bytes());
      b.logs = `object://${app.name}/build/${b.id}/logs`;
      build = b.id;
    }
    const r = this.addRelease(app, {
      build,
      env: seed.env ?? '',
      manifest: seed.manifest ?? '',
      description: build ? 'seed build' : 'env',
    });
    if (build) {
      const b = this.findBuild(app, build);
      if (b) b.release = r.id;
      app.release = r.id;
    }
    return app;
  }

  /** The app or a 404 `app not found`. */
  requireApp(name: string): AppRecord {
    const app = this.apps.get(name);
    if (!app) throw appNotFound(name);
    return app;
  }

  /** Create a build record with a fresh id, started now. */
  addBuild(app: AppRecord, init: Partial<BuildRecord> = {}): BuildRecord {
    const b: BuildRecord = {
      id: convoxId('B'),
      app: app.name,
      description: '',
      entrypoint: '',
      gitSha: '',
      logs: '',
      manifest: '',
      process: '',
      release: '',
      reason: '',
      repository: '',
      status: 'created',
      started: nowNs(),
      ended: null,
      wildcardDomain: false,
      log: new LiveLog(),
      params: { url: '', manifestPath: 'convox.yml', buildArgs: [], noCache: false, development: false, external: false },
      ...init,
    };
    app.builds.push(b);
    return b;
  }

  /** Create a release record with a fresh id, created now. */
  addRelease(app: AppRecord, init: Partial<ReleaseRecord> = {}): ReleaseRecord {
    const r: ReleaseRecord = {
      id: convoxId('R'),
      app: app.name,
      build: '',
      env: '',
      manifest: '',
      description: '',
      created: nowNs(),
      ...init,
    };
    app.releases.push(r);
    return r;
  }

  /** Newest first by `created`; equal stamps keep the later-added first. */
  releasesNewestFirst(app: AppRecord): ReleaseRecord[] {
    return app.releases
      .map((r, i) => ({ r, i }))
      .sort((x, y) => (x.r.created === y.r.created ? y.i - x.i : x.r.created > y.r.created ? -1 : 1))
      .map((x) => x.r);
  }

  /** Newest first by `started`. */
  buildsNewestFirst(app: AppRecord): BuildRecord[] {
    return app.builds
      .map((b, i) => ({ b, i }))
      .sort((x, y) => {
        const a = x.b.started ?? 0n;
        const c = y.b.started ?? 0n;
        return a === c ? y.i - x.i : a > c ? -1 : 1;
      })
      .map((x) => x.b);
  }

  /** The newest release by creation time, promoted or not (what builds and env reads fork). */
  newestRelease(app: AppRecord): ReleaseRecord | undefined {
    return this.releasesNewestFirst(app)[0];
  }

  /** v3 stores ids lower-cased, so lookups ignore case there; v2 (DynamoDB) is exact. */
  private sameId(a: string, b: string): boolean {
    return this.mode === 'v3' ? a.toUpperCase() === b.toUpperCase() : a === b;
  }

  findBuild(app: AppRecord, id: string): BuildRecord | undefined {
    return app.builds.find((b) => this.sameId(b.id, id));
  }

  findRelease(app: AppRecord, id: string): ReleaseRecord | undefined {
    return app.releases.find((r) => this.sameId(r.id, id));
  }

  /** The build or the not-found error each generation gives (v3: a 500 from Kubernetes). */
  requireBuild(app: AppRecord, id: string): BuildRecord {
    const b = this.findBuild(app, id);
    if (b) return b;
    if (this.mode === 'v3') throw new RackError(500, `builds.convox.com "${id.toLowerCase()}" not found`);
    throw new RackError(404, `build not found: ${id}`);
  }

  requireRelease(app: AppRecord, id: string): ReleaseRecord {
    const r = this.findRelease(app, id);
    if (r) return r;
    if (this.mode === 'v3') throw new RackError(500, `releases.convox.com "${id.toLowerCase()}" not found`);
    throw new RackError(404, `release not found: ${id}`);
  }
}
