import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ActionError } from '../errors.js';
import { definedFields } from '../net/defined-fields.js';
import type { Log } from '../log.js';
import type { BuildConfig } from '../config/config.js';
import { packContext, prepareContext, type PreparedContext } from '../context/pack.js';
import { describeDaemonError, readBuildStream } from './build-stream.js';
import type { ContextPrefetch } from '../context/prefetch.js';
import { openBuildSession, startBuildSession, type BuildSession, type CredentialsFor } from '../buildkit/session.js';
import type { EngineInfo } from './engine.js';

export interface BuildRequest {
  readonly config: BuildConfig;
  /** Full references to tag the result with (every tag the run pushes). */
  readonly references: readonly string[];
  /** Labels to set: OCI defaults merged with the user's (theirs win). */
  readonly labels: Readonly<Record<string, string>>;
  readonly engine: EngineInfo;
  /** Credentials by registry host, for base-image and cache pulls during the build. */
  readonly credentialsFor: CredentialsFor;
  /** Legacy builder's pull credentials (X-Registry-Config), keyed by registry host. */
  readonly registryConfig: Readonly<Record<string, { username: string; password: string }>>;
  readonly log: Log;
  readonly signal?: AbortSignal;
  /** The Dockerfile as the person knows it (workspace-relative), for annotations. */
  readonly dockerfileLabel: string;
  /** The context read ahead since the run started (prefetchContext); the session answers from it. */
  readonly contextPrefetch?: ContextPrefetch;
}

export interface BuildResult {
  readonly imageId: string;
  readonly builder: 'buildkit' | 'classic';
  readonly steps: number;
  readonly cachedSteps: number;
}

/** Query parameters of POST /build, as the Engine API names them. */
export function buildQuery(req: BuildRequest, dockerfileName: string, buildkit: boolean): Record<string, unknown> {
  const c = req.config;
  // Inline cache metadata lets a fresh runner reuse layers of a pushed image through cache-from.
  const buildargs = buildkit ? { BUILDKIT_INLINE_CACHE: '1', ...c.buildArgs } : { ...c.buildArgs };
  return definedFields({
    t: [...req.references],
    dockerfile: dockerfileName,
    buildargs,
    labels: { ...req.labels },
    target: c.target,
    nocache: c.noCache ? 'true' : undefined,
    pull: c.pull ? 'true' : undefined,
    cachefrom: c.cacheFrom.length ? JSON.stringify(c.cacheFrom) : undefined,
    platform: c.platform,
    networkmode: c.network,
    rm: 'true',
    forcerm: 'true',
    version: buildkit ? '2' : '1',
  });
}

/**
 * Builds through the Engine API: the context is packed and streamed by us (so .dockerignore is
 * honoured exactly), BuildKit when the engine has it (with a session that serves registry
 * credentials per host), the classic builder otherwise — and the log says which.
 */
export async function buildImage(docker: Docker, req: BuildRequest): Promise<BuildResult> {
  const { log } = req;
  if (!req.engine.buildkit) {
    if (req.engine.classicBecause === 'DOCKER_BUILDKIT')
      log.info('DOCKER_BUILDKIT=0: using the classic builder, as the docker CLI does');
    else
      log.warning(
        `The Docker engine ${req.engine.serverVersion} (API ${req.engine.apiVersion}, ${req.engine.os}) has no BuildKit; using the classic builder. RUN --mount and inline cache need BuildKit.`,
      );
    return buildFromTar(docker, req, undefined, await prepare(req, 'classic'));
  }
  // CID_CONTEXT_TRANSFER=tar forces the tar upload on a BuildKit engine (a fallback, and the
  // reference the benchmark compares with) — unless the tar would have to carry files that
  // BuildKit would then copy (it removes nothing from an uploaded tar: pack.ts).
  if (process.env.CID_CONTEXT_TRANSFER === 'tar') {
    const prepared = await prepare(req, 'buildkit');
    if (prepared.extras.length === 0)
      return buildFromTar(docker, req, await openBuildSession(docker, req.credentialsFor, req.log), prepared);
    log.info(
      `Context: not uploaded as a tar, which would have to carry ${prepared.extras.join(', ')} (excluded by .dockerignore or outside the context) into COPY .; served through the build session instead`,
    );
  }
  return buildFromSession(docker, req);
}

function prepare(req: BuildRequest, reader: 'classic' | 'buildkit'): Promise<PreparedContext> {
  return prepareContext({ contextDir: req.config.context, dockerfile: req.config.dockerfile, reader });
}

/**
 * BuildKit reads the context and the Dockerfile through the session, as from the docker CLI: no
 * tar is uploaded, so the engine skips storing and unpacking one.
 */
async function buildFromSession(docker: Docker, req: BuildRequest): Promise<BuildResult> {
  const { log } = req;
  const dockerfileDir = path.dirname(req.config.dockerfile);
  // A failure to read the context (an unreadable file, say) reaches BuildKit as a failed
  // transfer; the build then fails with this error, which names the file, instead of BuildKit's.
  let contextError: unknown;
  const session = startBuildSession(docker, req.credentialsFor, log, {
    dirs: { context: req.config.context, dockerfile: dockerfileDir },
    prefetch: req.contextPrefetch,
    onError: (e) => (contextError ??= e),
  });
  // POST /build goes out with POST /session, as from the docker CLI: the engine waits for the
  // session to attach. If the engine refuses the session, the build request is dropped.
  const refused = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, refused.signal]) : refused.signal;
  try {
    const query = {
      ...buildQuery(req, path.basename(req.config.dockerfile), true),
      remote: 'client-session',
      session: session.id,
    };
    // An empty body: docker-modem would otherwise send the query as a JSON body.
    const [stream] = await Promise.all([
      dialBuild(docker, Readable.from([]), query, { ...req, signal }),
      session.opened.catch((e: unknown) => {
        refused.abort(e);
        throw e;
      }),
    ]);
    const result = await readBuildStream(stream as AsyncIterable<Buffer>, {
      log,
      dockerfile: req.dockerfileLabel,
      dockerfileText: await readText(req.config.dockerfile),
      signal: req.signal,
    }).catch((e: unknown) => {
      throw contextError instanceof ActionError ? contextError : e;
    });
    log.info('Context: served to BuildKit through the build session (.dockerignore applied)');
    return { imageId: result.imageId, builder: 'buildkit', steps: result.steps, cachedSteps: result.cachedSteps };
  } finally {
    session.close();
  }
}

/** The context as one streamed tar upload: the classic builder's way (and the fallback). */
async function buildFromTar(
  docker: Docker,
  req: BuildRequest,
  session: BuildSession | undefined,
  prepared: PreparedContext,
): Promise<BuildResult> {
  const { log } = req;
  const buildkit = session !== undefined;
  try {
    const packed = await packContext(
      {
        contextDir: req.config.context,
        dockerfile: req.config.dockerfile,
        reader: prepared.reader,
        signal: req.signal,
      },
      prepared,
    );
    const query = buildQuery(req, packed.dockerfileName, buildkit);
    if (session) query.session = session.id;
    const stream = await dialBuild(docker, packed.stream, query, req);
    const follow = readBuildStream(stream as AsyncIterable<Buffer>, {
      log,
      dockerfile: req.dockerfileLabel,
      dockerfileText: await readText(req.config.dockerfile),
      signal: req.signal,
    });
    // A packing failure (an unreadable file) breaks the upload; report it, not the broken connection.
    const [built, packing] = await Promise.allSettled([follow, packed.done]);
    if (packing.status === 'rejected') throw packing.reason;
    if (built.status === 'rejected') throw built.reason;
    const [result, packStats] = [built.value, packing.value];
    log.info(
      `Context: ${packStats.files} files, ${formatBytes(packStats.bytes)} sent, ${packStats.excluded} excluded by .dockerignore`,
    );
    return {
      imageId: result.imageId,
      builder: buildkit ? 'buildkit' : 'classic',
      steps: result.steps,
      cachedSteps: result.cachedSteps,
    };
  } finally {
    session?.close();
  }
}

function dialBuild(
  docker: Docker,
  body: NodeJS.ReadableStream,
  query: Record<string, unknown>,
  req: BuildRequest,
): Promise<NodeJS.ReadableStream> {
  const registryconfig = Object.fromEntries(
    Object.entries(req.registryConfig).map(([host, c]) => [host, { username: c.username, password: c.password }]),
  );
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        file: body,
        options: query,
        isStream: true,
        registryconfig: Object.keys(registryconfig).length ? registryconfig : undefined,
        abortSignal: req.signal,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      } as never,
      (err: unknown, stream: unknown) => {
        if (err) reject(engineBuildError(err, req.dockerfileLabel));
        else resolve(stream as NodeJS.ReadableStream);
      },
    );
  });
}

function engineBuildError(err: unknown, dockerfile: string): ActionError {
  const e = err as { message?: string; json?: { message?: string }; statusCode?: number };
  // The classic builder refuses an unparsable Dockerfile with HTTP 400 naming the line.
  if (e.json?.message) return describeDaemonError(e.json.message, { dockerfile });
  const message = e.message ?? String(err);
  return new ActionError(
    `the Docker engine refused the build: ${message}`,
    { phase: 'build' },
    'check the build inputs (file, target, platform, build-args) against the message above',
    { cause: err },
  );
}

/** 1234567 → "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
