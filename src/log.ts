/**
 * How modules talk to the person reading the job log. `main` hands one in; tests pass a
 * recorder. Nothing below `main` imports @actions/core for logging.
 */
export interface Log {
  info(message: string): void;
  warning(message: string, place?: { file?: string; line?: number; column?: number; title?: string }): void;
  error(message: string, place?: { file?: string; line?: number; column?: number; title?: string }): void;
  debug(message: string): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** A Log that remembers every line; for tests and for collecting a failure's tail. */
export class MemoryLog implements Log {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(m);
  }
  warning(m: string): void {
    this.lines.push(`warning: ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error: ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`group: ${name}`);
    try {
      return await fn();
    } finally {
      this.lines.push(`endgroup: ${name}`);
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
}
