/** One simulated rack: its generation, state, timing and the timers it runs on. */
import type { RackFaults } from './faults.js';
import type { RackState } from './state.js';
import type { RackMode, RackTiming, RegistryOptions } from './types.js';

export interface Rack {
  name: string;
  version: string;
  mode: RackMode;
  /** Direct-mode password ('' = no check); shown in external builds' `repository`. */
  password: string;
  state: RackState;
  timing: Required<RackTiming>;
  registry: RegistryOptions | undefined;
  faults: RackFaults;
  timers: Timers;
  /** Import-image slots per API pod (provider/k8s/build.go `maxConcurrentImports`). */
  importSlots: number;
}

export const DEFAULT_TIMING: Required<RackTiming> = {
  buildMs: 60,
  promoteMs: 80,
  statusLagMs: 20,
  logChunkMs: 5,
  rollbackMs: 60,
  statusFlipMs: 10,
  logIdleMs: 100,
  buildCreateMs: 0,
  promoteCallMs: 0,
  importMs: 40,
};

/** True when a v3 rack's version is at least `wanted` (`3.24.6`); false for v2 and legacy. */
export function v3Since(rack: Pick<Rack, 'mode' | 'version'>, wanted: string): boolean {
  if (rack.mode !== 'v3') return false;
  const parts = (v: string): number[] => v.split(/[.-]/).map((p) => parseInt(p, 10) || 0);
  const have = parts(rack.version);
  const need = parts(wanted);
  for (let i = 0; i < 3; i++) if ((have[i] ?? 0) !== (need[i] ?? 0)) return (have[i] ?? 0) > (need[i] ?? 0);
  return true;
}

/** The CLIs compare versions as strings: `3.…` sorts above every 14-digit timestamp (doc §2.1). */
export function modeOf(version: string): RackMode {
  if (version.startsWith('3.')) return 'v3';
  return version < '20180708231844' ? 'legacy' : 'v2';
}

/** JSON error bodies exist from v3 3.24.1 on (doc §1). */
export function supportsJsonErrors(rack: Rack): boolean {
  if (rack.mode !== 'v3') return false;
  const [major = 0, minor = 0, patch = 0] = rack.version.split('.').map((p) => parseInt(p, 10) || 0);
  return major > 3 || (major === 3 && (minor > 24 || (minor === 24 && patch >= 1)));
}

/** Timers that `close()` can cancel all at once, so no callback outlives the server. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;

  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(
      () => {
        this.pending.delete(t);
        if (!this.closed) fn();
      },
      Math.max(0, ms),
    );
    this.pending.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.pending.delete(t);
  }

  /** Resolves after `ms`, or never once closed (callers are abandoned, not woken). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
