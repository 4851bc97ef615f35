/**
 * `SOCKET /apps/{app}/builds/{id}/logs` (doc §2.2): follow a running build's live log, replay
 * the stored log of a finished one. The live stream may end before the status flips.
 */
import type { Ctx, LogSocket } from '../router.js';

export async function buildLogs(ctx: Ctx, socket: LogSocket): Promise<void> {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  const build = rack.state.requireBuild(app, ctx.params.id ?? '');
  const deadline = Date.now() + 5 * 60_000;
  // `created`: the rack polls until the build pod starts (v3 writes a notice every 10 s).
  let lastNotice = Date.now();
  while (build.status === 'created' && !socket.closed && Date.now() < deadline && !rack.timers.isClosed) {
    await rack.timers.sleep(Math.max(1, rack.timing.logChunkMs));
    if (Date.now() - lastNotice >= 10_000) {
      await socket.write('waiting for build to start...\n');
      lastNotice = Date.now();
    }
  }
  if (build.status === 'running' || build.status === 'created') {
    await follow(socket, (data, end) => build.log.follow(data, end));
    return;
  }
  const stored = app.objects.get(`build/${build.id}/logs`);
  if (stored) await socket.write(stored);
  else if (build.status === 'failed') await socket.write('build failed -- no build logs available\n');
}

/** Pipe a followable log into the socket until it ends or the client leaves. */
export function follow(
  socket: LogSocket,
  subscribe: (data: (chunk: Buffer) => void, end: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const handle: { off?: () => void; done: boolean } = { done: false };
    const finish = (): void => {
      if (handle.done) return;
      handle.done = true;
      handle.off?.();
      resolve();
    };
    handle.off = subscribe((chunk) => void socket.write(chunk), finish);
    if (handle.done) handle.off();
    socket.onClose(finish);
  });
}
