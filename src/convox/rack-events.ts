/**
 * The rack's own account of a rollout: `system/…` lines from the app log socket (atom or
 * CloudFormation events: health checks failing, pods crashing), printed as they come and kept
 * for the failure message. Follows the CLI: `Prefix: true`, `Since: 5s`, reopen a second after
 * each end. Best effort: a refused or failing socket only costs us these lines.
 */
import type { FlowContext } from './context.js';
import { LineBuffer } from './websocket.js';
import { appPath } from './types.js';
import type { RackProcess } from './types.js';

const KEEP = 30;

export class RackEvents {
  private readonly stopper = new AbortController();
  private readonly seen = new Set<string>();
  private readonly recent: string[] = [];
  private running: Promise<void> | undefined;

  /** `onEvent` is called for every new system line: the app's state has probably just changed. */
  constructor(
    private readonly ctx: FlowContext,
    private readonly onEvent: () => void = () => {},
  ) {}

  /** Starts following in the background. */
  start(): void {
    this.running ??= this.follow().catch((e: unknown) =>
      this.ctx.log.debug(`rack events stopped: ${this.ctx.secrets.redact(String(e))}`),
    );
  }

  /** Stops following and waits for the socket to close. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }

  /** True once a rack event named `id`: the rack has started rolling it out. */
  mentioned(id: string): boolean {
    return this.recent.some((line) => line.includes(id));
  }

  /** The last system lines seen (redacted). */
  tail(count = 15): string[] {
    return this.recent.slice(-count);
  }

  private async follow(): Promise<void> {
    const signal = AbortSignal.any([this.stopper.signal, this.ctx.deadline.signal]);
    const path = appPath(this.ctx.app, '/logs');
    while (!signal.aborted) {
      const lines = new LineBuffer();
      const read = await this.ctx.client.socket(path, {
        headers: { Prefix: 'true', Since: '5s', Follow: 'true' },
        signal,
        onData: (chunk) => lines.push(chunk).forEach((line) => this.line(line)),
        probe: appPath(this.ctx.app),
      });
      lines.flush().forEach((line) => this.line(line));
      if (read.end === 'refused') {
        this.ctx.log.debug(`app log socket refused: ${this.ctx.secrets.redact(read.error ?? '')}`);
        return;
      }
      await this.ctx.sleep(1000, signal).catch(() => undefined);
    }
  }

  private line(raw: string): void {
    // `<time> <source> <message>`: only the rack's own sources (system/…) explain a rollout.
    const source = raw.split(' ')[1] ?? '';
    if (!source.startsWith('system/') || this.seen.has(raw)) return;
    this.seen.add(raw);
    const safe = this.ctx.secrets.redact(raw);
    this.recent.push(safe);
    if (this.recent.length > KEEP * 2) this.recent.splice(0, KEEP);
    this.ctx.log.info(`rack: ${safe}`);
    this.onEvent();
  }
}

/** One line per process (`web  R…  running`), for failure messages; empty when unreadable. */
export async function describeProcesses(ctx: FlowContext): Promise<string[]> {
  try {
    const list = await ctx.client.get<RackProcess[]>(appPath(ctx.app, '/processes'), {
      what: `list the processes of ${ctx.app}`,
      app: ctx.app,
    });
    if (!Array.isArray(list)) return [];
    return list
      .slice(0, 20)
      .map((p) =>
        ctx.secrets.redact([p.service || p.name || '?', p.id ?? '', p.release ?? '', p.status ?? ''].filter(Boolean).join('  ')),
      );
  } catch {
    return [];
  }
}
