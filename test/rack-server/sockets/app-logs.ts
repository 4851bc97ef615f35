/**
 * `SOCKET /apps/{app}/logs` (doc §1, §2.4): options in headers — `Since` (Go duration,
 * default 2m), `Prefix`, `Follow` (default true), `Filter`. A following stream ends with the EOF
 * frame once the app is no longer deploying and has been quiet for `logIdleMs`.
 */
import { goTimeSeconds, nowNs, parseGoDuration } from '../clock.js';
import { isDeploying } from '../deploy.js';
import { RackError } from '../errors.js';
import type { LogLine } from '../live-log.js';
import type { Ctx, LogSocket } from '../router.js';
import { header } from '../router.js';

export async function appLogs(ctx: Ctx, socket: LogSocket): Promise<void> {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  const sinceText = header(ctx, 'Since');
  const sinceMs = sinceText ? parseGoDuration(sinceText) : 120_000;
  if (sinceMs === undefined) throw new RackError(500, `time: invalid duration "${sinceText}"`);
  const prefix = header(ctx, 'Prefix') === 'true';
  const followOn = header(ctx, 'Follow') !== 'false';
  const filter = header(ctx, 'Filter');
  const from = nowNs() - BigInt(Math.round(sinceMs * 1e6));
  const show = (l: LogLine): string | undefined => {
    const text = prefix ? `${goTimeSeconds(l.at)} ${l.source} ${l.message}` : l.message;
    return !filter || text.includes(filter) ? `${text}\n` : undefined;
  };
  const backlog = app.logs.lines
    .filter((l) => l.at >= from)
    .map(show)
    .filter(Boolean)
    .join('');
  if (backlog) await socket.write(backlog);
  if (!followOn) return;
  let quietSince = Date.now();
  const unsubscribe = app.logs.subscribe((l) => {
    quietSince = Date.now();
    const text = show(l);
    if (text) void socket.write(text);
  });
  try {
    while (!socket.closed && !rack.timers.isClosed) {
      if (!isDeploying(app) && Date.now() - quietSince >= rack.timing.logIdleMs) break;
      await rack.timers.sleep(Math.max(1, rack.timing.logChunkMs));
    }
  } finally {
    unsubscribe();
  }
}
