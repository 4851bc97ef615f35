/**
 * The engine's own timing of each build, for any client: a unix-socket proxy in front of the
 * bench daemon passes every byte through unchanged and reads the progress of each POST /build
 * response as it goes by (the `moby.buildkit.trace` messages, whose vertexes carry BuildKit's
 * started/completed timestamps in nanoseconds). Ours and the docker CLI both talk through it,
 * so their context steps are compared at the engine's resolution, not the 0.1 s of a plain log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeTrace } from '../../src/buildkit/trace.js';

export interface EngineTiming {
  /** The first `t` of the build's query: the tag it was asked to produce. */
  readonly tag: string;
  /** Milliseconds the engine spent getting the context (session: `load build context`; tar: `load remote build context` + `copy /context /`). */
  readonly contextMs: number | undefined;
  /** Milliseconds from the POST /build request to the engine's image ID, seen at the proxy. */
  readonly buildMs: number | undefined;
}

export interface TimingProxy {
  /** `unix://…` for DOCKER_HOST. */
  readonly host: string;
  /** The timing of the build that produced `tag` (the last such build). */
  timing(tag: string): EngineTiming | undefined;
  close(): Promise<void>;
}

const CONTEXT_STEP = /^\[internal\] load (remote )?build context$|^copy \/context \/$/;

export async function startTimingProxy(dockerHost: string): Promise<TimingProxy> {
  const target = dockerHost.replace(/^unix:\/\//, '');
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-bench-proxy-'));
  const sock = path.join(dir, 'docker.sock');
  const timings = new Map<string, EngineTiming>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const engine = createConnection(target);
    sockets.add(client).add(engine);
    let build: BuildReader | undefined;
    client.on('data', (d: Buffer) => {
      // Requests on a kept-alive connection start a chunk of their own (the client waits for
      // each response); a hijacked session speaks HTTP/2 frames, which never match.
      const line = /^POST (\S*\/build\?\S*) HTTP/.exec(d.subarray(0, 4096).toString('latin1'));
      if (line) build = new BuildReader(new URLSearchParams(line[1]!.split('?')[1]).get('t') ?? '', (t) => timings.set(t.tag, t));
      engine.write(d);
    });
    engine.on('data', (d: Buffer) => {
      build?.read(d);
      client.write(d);
    });
    const end = (): void => {
      build?.finish();
      client.destroy();
      engine.destroy();
      sockets.delete(client);
      sockets.delete(engine);
    };
    client.on('close', end).on('error', end);
    engine.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return {
    host: `unix://${sock}`,
    timing: (tag) => timings.get(tag),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Follows one POST /build response: HTTP headers, chunked body, JSON lines. */
class BuildReader {
  private readonly posted = performance.now();
  private imageAt: number | undefined;
  private raw: Buffer = Buffer.alloc(0);
  private inBody = false;
  private chunkLeft = 0;
  private text = '';
  /** Per context-step vertex (by digest): each run's started → completed, ms. */
  private readonly runs = new Map<string, Map<number, number>>();
  private done = false;

  constructor(
    private readonly tag: string,
    private readonly report: (t: EngineTiming) => void,
  ) {}

  read(d: Buffer): void {
    this.raw = this.raw.length ? Buffer.concat([this.raw, d]) : d;
    if (!this.inBody) {
      const end = this.raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.inBody = true;
      this.raw = this.raw.subarray(end + 4);
    }
    // Transfer-Encoding: chunked (the engine streams the build's progress that way).
    for (;;) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, this.raw.length);
        this.text += this.raw.subarray(0, take).toString('utf8');
        this.raw = this.raw.subarray(take);
        this.chunkLeft -= take;
        if (this.chunkLeft > 0) break;
        continue;
      }
      const eol = this.raw.indexOf('\r\n');
      if (eol < 0) break;
      const size = this.raw.subarray(0, eol).toString('latin1').trim();
      this.raw = this.raw.subarray(eol + 2);
      if (size === '') continue;
      this.chunkLeft = parseInt(size, 16);
      if (this.chunkLeft === 0) {
        this.finish();
        break;
      }
    }
    this.lines();
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.lines();
    let contextMs: number | undefined;
    for (const runs of this.runs.values()) for (const [start, end] of runs) contextMs = (contextMs ?? 0) + (end - start);
    this.report({ tag: this.tag, contextMs, buildMs: this.imageAt === undefined ? undefined : this.imageAt - this.posted });
  }

  private lines(): void {
    let nl: number;
    while ((nl = this.text.indexOf('\n')) >= 0) {
      const line = this.text.slice(0, nl).trim();
      this.text = this.text.slice(nl + 1);
      if (!line) continue;
      let msg: { id?: string; aux?: unknown };
      try {
        msg = JSON.parse(line) as { id?: string; aux?: unknown };
      } catch {
        continue;
      }
      if (msg.id === 'moby.image.id') this.imageAt ??= performance.now();
      if (msg.id !== 'moby.buildkit.trace' || typeof msg.aux !== 'string') continue;
      for (const v of decodeTrace(msg.aux).vertexes) {
        if (!CONTEXT_STEP.test(v.name) || v.started === undefined || v.completed === undefined) continue;
        const runs = this.runs.get(v.digest) ?? new Map<number, number>();
        runs.set(v.started, v.completed);
        this.runs.set(v.digest, runs);
      }
    }
  }
}
