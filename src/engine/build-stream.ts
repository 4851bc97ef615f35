/**
 * Follows the Engine API's build answer (`POST /build`, JSON lines inside an HTTP 200) and turns
 * it into a readable log like `docker build --progress=plain`, a result, or an ActionError that
 * names the failing step. Both builders are understood: BuildKit (`moby.buildkit.trace`
 * protobuf progress, `moby.image.id`) and the classic builder (`stream` text, `aux.ID`).
 */
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import { decodeTrace } from '../buildkit/trace.js';
import type { StatusResponse, Vertex } from '../buildkit/trace.js';
import { readJsonLines } from './json-lines.js';

/** How many output lines of the failing step an error repeats. */
const TAIL_LINES = 20;

export interface FollowOptions {
  readonly log: Log;
  /** Called once, as soon as the daemon names the built image. */
  readonly onImageId?: (id: string) => void;
  /** The Dockerfile's path for annotations (workspace-relative); defaults to `Dockerfile`. */
  readonly dockerfile?: string;
  /** The Dockerfile's text, so a failing step can be placed on its line. */
  readonly dockerfileText?: string;
  readonly signal?: AbortSignal;
}

export interface BuildStreamResult {
  readonly imageId: string;
  /** Dockerfile steps run or taken from cache (`[2/5] RUN …`, `Step 2/5 : …`). */
  readonly steps: number;
  readonly cachedSteps: number;
  readonly warnings: readonly string[];
}

/** Reads a whole build answer, logging as it goes. Resolves with the image or throws ActionError (phase `build`). */
export async function readBuildStream(
  stream: AsyncIterable<Buffer | string>,
  options: FollowOptions,
): Promise<BuildStreamResult> {
  const progress = new BuildProgress(options);
  try {
    await readJsonLines(stream, (m) => progress.handle(m), {
      signal: options.signal,
      onMalformed: (bad) =>
        options.log.warning(`Ignored line ${bad.line} of the build output, which is not JSON: ${bad.text.slice(0, 200)}`),
    });
  } catch (e) {
    if (options.signal?.aborted || e instanceof ActionError) throw e;
    return progress.finish(e);
  }
  return progress.finish();
}

interface VertexState {
  index: number;
  name: string;
  started?: number;
  done: boolean;
  cached: boolean;
  error: string;
  partial: Map<number, string>;
  tail: Tail;
}

/** The state machine behind readBuildStream; `handle` each parsed JSON line, then `finish`. */
export class BuildProgress {
  private readonly vertexes = new Map<string, VertexState>();
  private readonly statusesDone = new Set<string>();
  private readonly classic = new ClassicPrinter((l) => this.options.log.info(l));
  private readonly warnings: string[] = [];
  private imageId: string | undefined;
  private daemonError: string | undefined;
  private nextIndex = 1;

  constructor(private readonly options: FollowOptions) {}

  handle(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (m.id === 'moby.buildkit.trace' && typeof m.aux === 'string') return this.trace(m.aux);
    const aux = m.aux as { ID?: unknown } | undefined;
    if (typeof aux?.ID === 'string') return this.image(aux.ID);
    const detail = m.errorDetail as { message?: unknown } | undefined;
    if (typeof detail?.message === 'string' || typeof m.error === 'string') {
      this.daemonError = String(detail?.message ?? m.error);
      return;
    }
    if (typeof m.stream === 'string') return this.classic.text(m.stream);
    if (typeof m.status === 'string' && !hasProgress(m)) {
      this.options.log.info(`${typeof m.id === 'string' ? `${m.id}: ` : ''}${m.status}`);
    }
  }

  /**
   * The result; throws ActionError when the daemon reported an error, the answer broke off
   * (`broken`: the read error) or never named an image. The daemon's own error wins.
   */
  finish(broken?: unknown): BuildStreamResult {
    this.classic.flush();
    for (const v of this.vertexes.values()) this.flushPartial(v);
    if (this.daemonError !== undefined || this.failedVertex()) throw this.failure();
    if (broken !== undefined) {
      throw new ActionError(
        `the connection to the Docker engine broke during the build: ${broken instanceof Error ? broken.message : String(broken)}`,
        { phase: 'build' },
        'check that the Docker daemon is healthy (docker info) and run the job again',
        { cause: broken },
      );
    }
    if (this.imageId === undefined) {
      throw new ActionError(
        'the build ended without the daemon naming an image: the connection to Docker may have dropped',
        { phase: 'build' },
        'check that the Docker daemon is healthy (docker info) and run the job again',
      );
    }
    const steps = [...this.vertexes.values()].filter((v) => v.done && isStep(v.name));
    return {
      imageId: this.imageId,
      steps: steps.length + this.classic.steps,
      cachedSteps: steps.filter((v) => v.cached).length + this.classic.cachedSteps,
      warnings: [...this.warnings, ...this.classic.warnings],
    };
  }

  private image(id: string): void {
    if (this.imageId !== undefined) return;
    this.imageId = id;
    this.options.onImageId?.(id);
  }

  private trace(aux: string): void {
    let status: StatusResponse;
    try {
      status = decodeTrace(aux);
    } catch (e) {
      this.options.log.warning(
        `Ignored a BuildKit progress message that could not be decoded: ${e instanceof Error ? e.message : String(e)}`,
      );
      return;
    }
    // BuildKit may send a vertex twice in one message: done (its cache check), then started
    // again (the real work, e.g. the context transfer). The last record is its state.
    const vertexes = [...new Map(status.vertexes.map((v) => [v.digest, v])).values()];
    // Headers first and completions last, so output and statuses that arrive in the same
    // message as a vertex's completion are printed before its DONE line.
    for (const v of vertexes) this.announce(v);
    for (const l of status.logs) this.output(l.vertex, l.stream, l.msg);
    for (const s of status.statuses) {
      const key = `${s.vertex} ${s.id}`;
      if (s.completed === undefined || this.statusesDone.has(key)) continue;
      this.statusesDone.add(key);
      const v = this.vertexes.get(s.vertex);
      const size = s.total > 0 ? ` ${progressBytes(s.total)}` : '';
      if (v) this.line(v, `${s.id}${size} done`);
    }
    for (const w of status.warnings) this.warning(w.short, w.source?.filename, w.ranges[0]?.start.line);
    for (const v of vertexes) this.complete(v);
  }

  private announce(update: Vertex): void {
    let v = this.vertexes.get(update.digest);
    if (!v) {
      v = { index: 0, name: update.name, done: false, cached: false, error: '', partial: new Map(), tail: new Tail(TAIL_LINES) };
      this.vertexes.set(update.digest, v);
    }
    // Pending vertexes are listed before they run; like the CLI, print them once they start.
    if (update.started === undefined && !update.cached && update.completed === undefined && !update.error) return;
    // Started again after a DONE (in a later message): it is running, and will say DONE again.
    if (v.done && update.completed === undefined && !update.cached && !update.error) v.done = false;
    this.header(v);
    v.started ??= update.started;
  }

  private complete(update: Vertex): void {
    const v = this.vertexes.get(update.digest);
    if (!v || v.index === 0 || v.done || (update.completed === undefined && !update.error)) return;
    this.flushPartial(v);
    v.done = true;
    v.cached = update.cached;
    v.error = update.error;
    if (update.cached) this.line(v, 'CACHED');
    else if (update.error) this.line(v, `ERROR: ${update.error}`);
    else this.line(v, `DONE ${seconds((update.completed ?? 0) - (v.started ?? update.completed ?? 0))}`);
  }

  private output(digest: string, streamNo: number, msg: Buffer): void {
    const v = this.vertexes.get(digest);
    if (!v) return;
    this.header(v);
    const text = (v.partial.get(streamNo) ?? '') + msg.toString('utf8');
    const lines = text.split('\n');
    v.partial.set(streamNo, lines.pop() ?? '');
    for (const l of lines) this.outputLine(v, l);
  }

  private flushPartial(v: VertexState): void {
    for (const rest of v.partial.values()) if (rest !== '') this.outputLine(v, rest);
    v.partial.clear();
  }

  private outputLine(v: VertexState, raw: string): void {
    const text = stripAnsi(lastCarriageSegment(raw));
    v.tail.push(text);
    this.line(v, text);
  }

  private header(v: VertexState): void {
    if (v.index !== 0) return;
    v.index = this.nextIndex++;
    this.line(v, v.name);
  }

  private line(v: VertexState, text: string): void {
    this.options.log.info(`#${v.index} ${text}`);
  }

  private warning(text: string, file?: string, line?: number): void {
    this.warnings.push(text);
    this.options.log.warning(text, file ? { file, line } : undefined);
  }

  private failedVertex(): VertexState | undefined {
    const failed = [...this.vertexes.values()].filter((v) => v.error !== '');
    return failed.find((v) => !/context canceled|cancelled/i.test(v.error)) ?? failed[0];
  }

  private failure(): ActionError {
    const v = this.failedVertex();
    const step = v ? { name: v.name, tail: v.tail.lines() } : this.classic.failedStep();
    return describeDaemonError(this.daemonError ?? v?.error ?? 'unknown error', {
      step: step?.name,
      tail: step?.tail ?? [],
      dockerfile: this.options.dockerfile,
      dockerfileText: this.options.dockerfileText,
    });
  }
}

/** Classic builder output: free text, steps announced as `Step 2/5 : RUN …`. */
class ClassicPrinter {
  steps = 0;
  cachedSteps = 0;
  readonly warnings: string[] = [];
  private pending = '';
  private step: { name: string; tail: Tail } | undefined;

  constructor(private readonly print: (line: string) => void) {}

  text(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const l of lines) this.lineOut(stripAnsi(lastCarriageSegment(l)));
  }

  flush(): void {
    if (this.pending !== '') this.lineOut(stripAnsi(this.pending));
    this.pending = '';
  }

  failedStep(): { name: string; tail: string[] } | undefined {
    return this.step && { name: this.step.name, tail: this.step.tail.lines() };
  }

  private lineOut(line: string): void {
    const step = /^Step (\d+\/\d+) : (.*)$/.exec(line);
    if (step) {
      this.steps++;
      // Named like BuildKit's steps, so errors read the same whichever builder ran.
      this.step = { name: `[${step[1]}] ${step[2]}`, tail: new Tail(TAIL_LINES) };
    } else if (line === ' ---> Using cache') {
      this.cachedSteps++;
    } else if (/^\[warning\]/i.test(line)) {
      this.warnings.push(line.replace(/^\[warning\]\s*/i, ''));
    } else if (this.step && !/^ ---> |^Removing intermediate container /.test(line)) {
      this.step.tail.push(line);
    }
    this.print(line);
  }
}

function hasProgress(m: Record<string, unknown>): boolean {
  const p = m.progressDetail as { current?: unknown } | undefined;
  return typeof p?.current === 'number';
}

function isStep(name: string): boolean {
  return /^\[[^\]]*\d+\/\d+\] /.test(name);
}

/** What a terminal would show of a line redrawn with `\r` (progress bars). */
function lastCarriageSegment(line: string): string {
  const parts = line.replace(/\r+$/, '').split('\r');
  return parts[parts.length - 1] ?? '';
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** Sizes as BuildKit's plain progress prints them: `1.20MB`. */
function progressBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(2)}${units[u]}`;
}

/** Keeps the last `size` lines pushed. */
class Tail {
  private readonly kept: string[] = [];
  constructor(private readonly size: number) {}
  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.size) this.kept.shift();
  }
  lines(): string[] {
    return [...this.kept];
  }
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

export interface DaemonErrorContext {
  /** The failing step as BuildKit names it: `[build 2/2] RUN make` (classic steps are renamed so). */
  readonly step?: string | undefined;
  /** Its last output lines. */
  readonly tail?: readonly string[];
  readonly dockerfile?: string | undefined;
  readonly dockerfileText?: string | undefined;
}

/**
 * Turns the daemon's error text into an ActionError (phase `build`) saying which step failed and
 * why, with the step's last output lines; a Dockerfile syntax error carries `place.file`/`line`.
 * Also for the classic builder's HTTP 400 answer (`{"message": "dockerfile parse error line 3: …"}`).
 */
export function describeDaemonError(message: string, ctx: DaemonErrorContext = {}): ActionError {
  const file = ctx.dockerfile ?? 'Dockerfile';
  const parse =
    /dockerfile parse error (?:on )?line (\d+): (.*)$/is.exec(message) ?? /\bDockerfile[\w.-]*:(\d+)\b:?\s*(.*)$/s.exec(message);
  if (parse) {
    const line = Number(parse[1]);
    return new ActionError(
      `${file}:${line}: the Dockerfile cannot be parsed: ${parse[2] || message}`,
      { phase: 'build', file, line },
      'correct the instruction on that line (reference: https://docs.docker.com/reference/dockerfile/)',
    );
  }
  const tail = ctx.tail ?? [];
  const output = tail.length
    ? `\nLast ${tail.length} line${tail.length === 1 ? '' : 's'} of its output:\n${tail.map((l) => `    ${l}`).join('\n')}`
    : '';
  const line = ctx.step && ctx.dockerfileText !== undefined ? findStepLine(ctx.dockerfileText, ctx.step) : undefined;
  const place = { phase: 'build', file: line ? file : undefined, line };
  const where = ctx.step ? ` at step ${ctx.step}` : '';
  return new ActionError(`the image build failed${where}: ${message}${output}`, place, fixFor(message, Boolean(ctx.step), tail));
}

function fixFor(message: string, hasStep: boolean, tail: readonly string[] = []): string {
  if (/no active sessions|unauthorized|authentication required|pull access denied|denied: /i.test(message)) {
    return 'a base image could not be pulled: give the action credentials for its registry (or make the image public), and check the image name';
  }
  // A full disk often shows only in the step's own output (`dd: … No space left on device`).
  if (/no space left on device|disk quota exceeded/i.test([message, ...tail].join('\n'))) {
    return "the build engine's disk is full: free space on the runner (docker system prune -af, docker builder prune -af) or use a runner with more disk";
  }
  if (/failed to compute cache key|not found: not found|no such file or directory/i.test(message)) {
    return 'a file the Dockerfile copies is missing from the build context: check the path, and that .dockerignore does not exclude it';
  }
  return hasStep
    ? 'fix the failing step (its output is above) and run the job again'
    : "read the daemon's message above, fix the cause and run the job again";
}

/**
 * The 1-based Dockerfile line of a step named like `[stage-0 2/3] RUN make`, found by comparing
 * the instruction text with the Dockerfile's instructions (continuation lines joined, spaces
 * collapsed). Undefined when no instruction matches exactly (FROM names are rewritten by BuildKit).
 */
export function findStepLine(dockerfileText: string, step: string): number | undefined {
  const m = /^\[[^\]]*\]\s+(.*)$/s.exec(step);
  if (!m?.[1]) return undefined;
  const want = normalize(m[1]);
  for (const ins of instructions(dockerfileText)) if (normalize(ins.text) === want) return ins.line;
  return undefined;
}

function normalize(instruction: string): string {
  const t = instruction.replace(/\s+/g, ' ').trim();
  const sp = t.indexOf(' ');
  return sp < 0 ? t.toUpperCase() : t.slice(0, sp).toUpperCase() + t.slice(sp);
}

function* instructions(text: string): Generator<{ line: number; text: string }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, '');
      let next = lines[++i] ?? '';
      // Comment lines inside a continued instruction are dropped without ending it.
      while (/^\s*#/.test(next) && i + 1 < lines.length) next = lines[++i] ?? '';
      joined += next;
    }
    yield { line: start + 1, text: joined };
  }
}
