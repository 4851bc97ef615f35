/**
 * A faithful Convox rack (or Console) test server, written from docs/rack-api.md.
 * Start it in-process; it binds 127.0.0.1 only. See README.md next to this file for behaviour,
 * knobs and the choices made where the real thing is unknown.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsoleGateState } from './console.js';
import { markUpdating } from './deploy.js';
import { RackFaults } from './faults.js';
import { DEFAULT_TIMING, modeOf, Timers } from './rack.js';
import type { Rack } from './rack.js';
import { Front } from './server.js';
import { RackState } from './state.js';
import type { RackMode, RackServerOptions, RecordedRequest } from './types.js';

export type * from './types.js';
export type { RequestFault, RequestFaultInit, BuildFault, PromoteFault, SocketFault, PathPattern } from './faults.js';
export { RackFaults } from './faults.js';
export { RackState } from './state.js';
export type { SystemRecord } from './state.js';
export { LiveLog, LogFeed } from './live-log.js';
export type { LogLine } from './live-log.js';
export { parseEnv, serializeEnv, envDiff } from './env.js';

export interface RackServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  password: string;
  version: string;
  mode: RackMode;
  /** Every request in arrival order, WebSocket upgrades included. */
  requests: RecordedRequest[];
  /** The rack's state (console mode: the first listed rack's). */
  state: RackState;
  /** Every rack's state by name (console mode: full `org/rack` names; direct mode: `rack`). */
  racks: Record<string, RackState>;
  faults: RackFaults;
  close(): Promise<void>;
}

/** Start a rack server on 127.0.0.1 (port 0 unless `port` is given). */
export async function startRackServer(opts: RackServerOptions = {}, port = 0): Promise<RackServer> {
  const faults = new RackFaults();
  const timers = new Timers();
  const racks = makeRacks(opts, faults, timers);
  const first = racks.values().next().value as Rack;
  faults.hooks = {
    appUpdating(app, ms, rackName) {
      const rack = rackName ? racks.get(rackName) : first;
      if (!rack) throw new Error(`no such rack: ${rackName}`);
      markUpdating(rack, rack.state.requireApp(app), ms);
    },
  };
  const gate: ConsoleGateState | undefined = opts.console ? { options: opts.console, racks, sessions: new Set() } : undefined;
  const requests: RecordedRequest[] = [];
  const front = new Front({ rack: first, gate, faults, timers, requests });
  const server = await listen(front, port);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    password: first.password,
    version: first.version,
    mode: first.mode,
    requests,
    state: first.state,
    racks: Object.fromEntries([...racks].map(([n, r]) => [n, r.state])),
    faults,
    close: async () => {
      timers.close();
      for (const ws of front.wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One rack in direct mode (named `rack`), or one per Console rack; each seeded alike. */
function makeRacks(opts: RackServerOptions, faults: RackFaults, timers: Timers): Map<string, Rack> {
  const version = opts.version ?? '3.24.9';
  const mode = modeOf(version);
  const names = opts.console ? opts.console.racks : ['rack'];
  if (names.length === 0) throw new Error('console mode needs at least one rack');
  const racks = new Map<string, Rack>();
  for (const full of names) {
    const rack: Rack = {
      name: full,
      version,
      mode,
      password: opts.password ?? 'rack-pass',
      state: new RackState(mode, full.split('/').pop() ?? full, version),
      timing: { ...DEFAULT_TIMING, ...opts.timing },
      registry: opts.registry,
      faults,
      timers,
      importSlots: opts.importSlots ?? 4,
    };
    for (const seed of opts.apps ?? []) rack.state.seedApp(seed);
    seedRegistries(rack, opts);
    racks.set(full, rack);
  }
  return racks;
}

/** The rack's registries and parameters as options give them. */
function seedRegistries(rack: Rack, opts: RackServerOptions): void {
  const r = opts.registry;
  if (r?.username !== undefined) {
    rack.state.registries.set(r.host, { server: r.host, username: r.username, password: r.password ?? '' });
  }
  for (const e of opts.registries ?? []) rack.state.registries.set(e.server, { ...e });
  rack.state.parameters = { ...opts.parameters };
}

async function listen(front: Front, port: number): Promise<Server> {
  const server = createServer((req, res) => void front.onRequest(req, res).catch(() => res.destroy()));
  // Go's server: 120 s idle keep-alive, no overall request timeout (uploads and v2 build creates are slow).
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  server.on('upgrade', (req, socket, head) => void front.onUpgrade(req, socket, head).catch(() => socket.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
