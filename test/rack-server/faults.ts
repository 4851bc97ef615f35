/**
 * Mutable fault knobs. Each list is a queue consumed by matching events; tests push entries
 * (directly or through the helper methods) and may inspect `hits`/`remaining` afterwards.
 */

/** `*` matches within one path segment, `**` across segments; anything else is literal. */
export type PathPattern = string | RegExp;

export interface RequestFaultInit {
  /** Upper-case method; any when absent. WebSocket upgrades are `GET`. */
  method?: string;
  path: PathPattern;
  /** How many matching requests to affect (default 1; `Infinity` for all). */
  times?: number;
  /** Answer this status (500/502/503…) instead of the handler's answer. */
  status?: number;
  /** Body for `status` (default: the status text and a newline, text/plain). */
  body?: string;
  /** Destroy the connection instead of answering (a connection reset). */
  reset?: boolean;
  /**
   * Run the real handler first (its write lands), then replace or reset the answer: the client
   * sees a failure for a request that succeeded and must not repeat it blindly.
   */
  after?: boolean;
  /** Wait this long before handling (alone: a slow answer). */
  delayMs?: number;
}

export interface RequestFault extends RequestFaultInit {
  remaining: number;
  hits: number;
}

export interface BuildFault {
  /** Only builds of this app (any when absent). */
  app?: string;
  /**
   * `stuck`: stays `running` forever; `fail`: fails with a log ending `ERROR: <message>`;
   * `complete`: succeeds (useful with `unstreamedLines`).
   */
  outcome: 'stuck' | 'fail' | 'complete';
  message?: string;
  /** For `stuck`: end the log stream with EOF (pod gone, default) or keep it open forever. */
  stream?: 'eof' | 'hang';
  /** Stored log lines written after the live stream's EOF (the stored log holds more, doc §2.2). */
  unstreamedLines?: number;
}

export interface PromoteFault {
  app?: string;
  /**
   * `rollback`: updating → rollback → running with the previous release (v3 atom Reverted, v2
   * UPDATE_ROLLBACK_COMPLETE); `fast-rollback`: updating → running with the previous release,
   * `rollback` never visible; `failed`: updating → rollback → `failed` for good (v2
   * UPDATE_ROLLBACK_FAILED); `superseded`: someone else creates and promotes a newer release
   * mid-update, which ends up active.
   */
  outcome: 'rollback' | 'fast-rollback' | 'failed' | 'superseded';
}

export interface SocketFault {
  path: PathPattern;
  /** Destroy the socket (no EOF frame, no close frame) after this many data frames. */
  afterFrames: number;
  /**
   * Instead of destroying it, end the stream as the rack reports a failure after the upgrade:
   * once the write that reached `afterFrames` is out, `ERROR: <error>\n` (cut across frames
   * like any write) and EOF. The build itself goes on.
   */
  error?: string;
  times?: number;
  remaining?: number;
  hits?: number;
}

/** Hooks the server installs so knobs can act on rack state. */
export interface FaultHooks {
  appUpdating(app: string, ms: number, rack?: string): void;
}

export class RackFaults {
  readonly requests: RequestFault[] = [];
  readonly builds: BuildFault[] = [];
  readonly promotes: PromoteFault[] = [];
  readonly sockets: SocketFault[] = [];
  /** Put multi-byte UTF-8 characters in build logs; frames then split some of them (Go does not care). */
  unicodeLogs = false;
  hooks: FaultHooks | undefined;

  /** Queue a request fault; returns the live entry. */
  fail(init: RequestFaultInit): RequestFault {
    const f: RequestFault = { ...init, remaining: init.times ?? 1, hits: 0 };
    this.requests.push(f);
    return f;
  }

  /** Answer matching requests only after `delayMs`. */
  slow(method: string | undefined, path: PathPattern, delayMs: number, times = Infinity): RequestFault {
    return this.fail({ method, path, delayMs, times });
  }

  /** The next build (of `app`) fails with `ERROR: <message>`. */
  failBuild(message: string, app?: string): void {
    this.builds.push({ outcome: 'fail', message, app });
  }

  /** The next build (of `app`) stays `running` forever. */
  stickBuild(stream: 'eof' | 'hang' = 'eof', app?: string): void {
    this.builds.push({ outcome: 'stuck', stream, app });
  }

  /** The next promote (of `app`) ends as `outcome`. */
  nextPromote(outcome: PromoteFault['outcome'], app?: string): void {
    this.promotes.push({ outcome, app });
  }

  /** The next matching WebSocket drops after `afterFrames` data frames. */
  dropSocket(path: PathPattern, afterFrames: number, times = 1): void {
    this.sockets.push({ path, afterFrames, times, remaining: times, hits: 0 });
  }

  /** The next matching WebSocket ends after `afterFrames` data frames with `ERROR: <message>` and EOF. */
  failSocket(path: PathPattern, afterFrames: number, message: string, times = 1): void {
    this.sockets.push({ path, afterFrames, error: message, times, remaining: times, hits: 0 });
  }

  /** Put `app` into `updating` for `ms` (someone else's deployment), then back to `running`. */
  appUpdating(app: string, ms: number, rack?: string): void {
    if (!this.hooks) throw new Error('rack server not started');
    this.hooks.appUpdating(app, ms, rack);
  }

  clear(): void {
    this.requests.length = 0;
    this.builds.length = 0;
    this.promotes.length = 0;
    this.sockets.length = 0;
    this.unicodeLogs = false;
  }

  /** Consume one count of the first request fault matching. */
  takeRequest(method: string, path: string): RequestFault | undefined {
    const f = this.requests.find((r) => r.remaining > 0 && (!r.method || r.method === method) && matches(r.path, path));
    if (!f) return undefined;
    f.remaining -= 1;
    f.hits += 1;
    return f;
  }

  takeBuild(app: string): BuildFault | undefined {
    return take(this.builds, (b) => !b.app || b.app === app);
  }

  takePromote(app: string): PromoteFault | undefined {
    return take(this.promotes, (p) => !p.app || p.app === app);
  }

  takeSocket(path: string): SocketFault | undefined {
    const f = this.sockets.find((s) => (s.remaining ?? s.times ?? 1) > 0 && matches(s.path, path));
    if (!f) return undefined;
    f.remaining = (f.remaining ?? f.times ?? 1) - 1;
    f.hits = (f.hits ?? 0) + 1;
    return f;
  }
}

function take<T>(list: T[], pred: (t: T) => boolean): T | undefined {
  const i = list.findIndex(pred);
  return i < 0 ? undefined : list.splice(i, 1)[0];
}

/** Match a path against a pattern (see `PathPattern`). */
export function matches(pattern: PathPattern, path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path);
  if (!pattern.includes('*')) return pattern === path;
  const re = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`).test(path);
}
