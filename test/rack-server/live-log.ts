/** In-memory logs that sockets can follow: a build's byte stream and an app's line feed. */
import { nowNs } from './clock.js';

interface Follower {
  data(chunk: Buffer): void;
  end(): void;
}

/** A byte log written over time; `end()` is what the build pod's exit is to a follower. */
export class LiveLog {
  private readonly chunks: Buffer[] = [];
  private readonly followers = new Set<Follower>();
  private done = false;

  get ended(): boolean {
    return this.done;
  }

  write(text: string | Buffer): void {
    if (this.done) return;
    const chunk = typeof text === 'string' ? Buffer.from(text) : text;
    this.chunks.push(chunk);
    for (const f of this.followers) f.data(chunk);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    for (const f of [...this.followers]) f.end();
    this.followers.clear();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }

  /** Replay what was written, then follow; returns the unsubscribe function. */
  follow(data: (chunk: Buffer) => void, end: () => void): () => void {
    const backlog = this.bytes();
    if (backlog.length > 0) data(backlog);
    if (this.done) {
      end();
      return () => undefined;
    }
    const f: Follower = { data, end };
    this.followers.add(f);
    return () => this.followers.delete(f);
  }
}

/** One app log line: `<time> <source> <message>` when shown with `Prefix: true`. */
export interface LogLine {
  at: bigint;
  source: string;
  message: string;
}

/** App log lines with followers; old lines stay so `Since` can reach back. */
export class LogFeed {
  readonly lines: LogLine[] = [];
  private readonly followers = new Set<(line: LogLine) => void>();

  add(source: string, message: string): void {
    const line = { at: nowNs(), source, message };
    this.lines.push(line);
    for (const f of this.followers) f(line);
  }

  subscribe(fn: (line: LogLine) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}
