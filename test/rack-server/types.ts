/**
 * Public types of the rack test server: its options, the recorded requests and the records
 * tests may read and write in `RackServer.state`. Behaviour follows docs/rack-api.md (cited as
 * "doc §x"), which names the Convox source file each rule comes from.
 */
import type { LiveLog, LogFeed } from './live-log.js';

/** `v3`: version `3.x`; `v2`: timestamp ≥ 20180708231844; `legacy`: any older timestamp. */
export type RackMode = 'v3' | 'v2' | 'legacy';

/** Durations in milliseconds. Defaults are small so tests stay fast. */
export interface RackTiming {
  /** How long a build takes from create to its last log line (default 60). */
  buildMs?: number;
  /** How long the app stays `updating` after a promote (default 80). */
  promoteMs?: number;
  /** How long status still reads `running` right after promote answered `ok` (default 20). */
  statusLagMs?: number;
  /** Pause between log frames written by a live stream (default 5). */
  logChunkMs?: number;
  /** How long `rollback` lasts before the app is `running` again (default 60). */
  rollbackMs?: number;
  /** Gap between a build log's EOF frame and the build's status flip (default 10). */
  statusFlipMs?: number;
  /** A following app-log socket ends after this much quiet while the app is not updating (default 100). */
  logIdleMs?: number;
  /** v2 only: build create answers after the ECS task started (default 0). */
  buildCreateMs?: number;
  /** How long the promote request itself takes before `ok` (v3 AWS pod-identity wait; default 0). */
  promoteCallMs?: number;
  /** Import-image: how long relaying one service's image takes (default 40). */
  importMs?: number;
}

export interface ConsoleOptions {
  /** Full names `org/rack`; `GET /racks` lists them and the `Rack` header must name one. */
  racks: string[];
  /** Deploy-key credentials (doc §1 restrictions apply). */
  deployKeys?: string[];
  /** Full-permission console credentials. */
  passwords?: string[];
  /** Challenge requests without a `Session` header (`token="false"` / `token="true"`). */
  session?: 'none' | 'session' | 'hardware';
}

export interface RegistryOptions {
  /** `host:port` of the plain-HTTP test registry, e.g. `127.0.0.1:5055`. */
  host: string;
  /**
   * With a username the rack holds credentials for `host` (as after `convox registries add`):
   * the registries list is seeded with them and builds pull with them. Without, pulls are
   * anonymous and a registry that wants auth refuses them.
   */
  username?: string;
  password?: string;
}

/** One `convox registries add` entry (doc §2.6): the rack returns the password in clear. */
export interface RegistryEntry {
  server: string;
  username: string;
  password: string;
}

export interface SeedApp {
  name: string;
  /** `KEY=VALUE` lines for the first release. */
  env?: string;
  /** Raw convox.yml text; with it the first release is backed by a completed build and active. */
  manifest?: string;
  status?: string;
  generation?: string;
}

export interface RackServerOptions {
  /** `GET /system` version: `3.24.9` (default, v3), `20260418101514` (v2), older timestamps (legacy). */
  version?: string;
  /** Rack password for direct mode (default `rack-pass`; empty string = no check, as on local racks). */
  password?: string;
  /** Act as a Convox Console in front of `racks` instead of a rack. */
  console?: ConsoleOptions;
  /** Test registry that every interpolated service `image:` must exist in. */
  registry?: RegistryOptions;
  apps?: SeedApp[];
  timing?: RackTiming;
  /** More rack registries (beyond the one `registry` may seed). */
  registries?: RegistryEntry[];
  /**
   * Rack parameters (e.g. `docker_hub_username`). v2 racks show them in `GET /system`; v3 racks
   * do not (k8s `SystemGet` fills none), only a Console's `GET /racks/{name}` does (doc §2.1).
   */
  parameters?: Record<string, string>;
  /** Import-image slots per API pod (default 4, as provider/k8s/build.go). */
  importSlots?: number;
}

export interface RecordedRequest {
  method: string;
  /** Decoded URL path, without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names, as Node reports them. */
  headers: Record<string, string>;
  /** Fields parsed from an urlencoded or multipart body (first value of each); the query is separate. */
  form: Record<string, string>;
  bodyBytes: number;
  websocket: boolean;
  /** Final status: 101 for accepted upgrades, 0 when the connection was reset by a fault. */
  status: number;
  /** `Date.now()` when the request arrived. */
  at: number;
}

/** Timestamps are nanoseconds since the epoch; `null` serialises as Go's zero time. */
export type Nanos = bigint;

export interface BuildRecord {
  id: string;
  app: string;
  description: string;
  entrypoint: string;
  gitSha: string;
  logs: string;
  /** Raw manifest text as found in the uploaded tarball (never interpolated). */
  manifest: string;
  process: string;
  release: string;
  reason: string;
  repository: string;
  status: string;
  started: Nanos | null;
  ended: Nanos | null;
  wildcardDomain: boolean;
  /** The live log a running build writes; sockets follow it. */
  log: LiveLog;
  /** Create parameters the build ran with. */
  params: BuildParams;
}

export interface BuildParams {
  url: string;
  manifestPath: string;
  buildArgs: string[];
  noCache: boolean;
  development: boolean;
  external: boolean;
}

export interface ReleaseRecord {
  id: string;
  app: string;
  build: string;
  env: string;
  manifest: string;
  description: string;
  created: Nanos;
}

export interface AppRecord {
  name: string;
  generation: string;
  locked: boolean;
  status: string;
  /** Active release id ('' before the first promote). */
  release: string;
  router: string;
  parameters: Record<string, string>;
  /** In creation order; the API lists them newest first. */
  builds: BuildRecord[];
  releases: ReleaseRecord[];
  /** Object store of this app: key → bytes. Build logs land at `build/<id>/logs`. */
  objects: Map<string, Buffer>;
  /** App log lines (`system/…` events during updates, service lines). */
  logs: LogFeed;
}
