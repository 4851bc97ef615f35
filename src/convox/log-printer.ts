/**
 * Printing a rack log stream to the job log: lines re-split from arbitrary chunks, secrets
 * redacted, a byte count kept so a re-read of the stored log prints only what was missed (as
 * the CLI does), and the last lines kept for failure messages.
 */
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { LineBuffer } from './websocket.js';

const TAIL_LINES = 20;

export class LogPrinter {
  /** Bytes printed so far (counted as received, before redaction). */
  printed = 0;
  private readonly lines = new LineBuffer();
  private readonly recent: string[] = [];

  constructor(
    private readonly log: Log,
    private readonly secrets: Secrets,
    private readonly prefix = '',
  ) {}

  /** Prints a chunk of the stream. */
  write(chunk: Buffer): void {
    this.printed += chunk.length;
    for (const line of this.lines.push(chunk)) this.emit(line);
  }

  /**
   * A sink for a stream that starts again from the beginning (a reconnect, the stored log):
   * drops the bytes already printed and prints the rest.
   */
  resume(): (chunk: Buffer) => void {
    let skip = this.printed;
    return (chunk) => {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return;
      }
      this.write(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    };
  }

  /**
   * The last `bytes` printed are not in the stored log (the rack's `ERROR:` report that the live
   * stream failed): a re-read then prints what the stored log holds there instead of skipping it.
   */
  uncount(bytes: number): void {
    this.printed = Math.max(0, this.printed - bytes);
  }

  /** Prints an unterminated last line. */
  end(): void {
    for (const line of this.lines.flush()) this.emit(line);
  }

  /** The last non-empty lines printed (redacted). */
  tail(count = TAIL_LINES): string[] {
    return this.recent.slice(-count);
  }

  lastLine(): string | undefined {
    return this.recent[this.recent.length - 1];
  }

  private emit(line: string): void {
    const safe = this.secrets.redact(line);
    this.log.info(`${this.prefix}${safe}`);
    if (!safe.trim()) return;
    this.recent.push(safe);
    if (this.recent.length > TAIL_LINES * 2) this.recent.splice(0, TAIL_LINES);
  }
}
