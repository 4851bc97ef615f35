import type Docker from 'dockerode';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import { retry } from '../retry.js';
import { readJsonLines } from './json-lines.js';

/** What the engine's push stream said about one tag. */
export interface PushedTag {
  readonly reference: string;
  readonly digest: string;
  readonly size?: number;
}

interface PushMessage {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/** Why a push failed, from the registry's words relayed by the engine. */
export type PushFailureKind = 'auth' | 'transient' | 'permanent';

/**
 * Classifies the engine's push error text: auth is never retried; throttling, 5xx and resets are.
 * The containerd image store words a registry's UNAVAILABLE and TOOMANYREQUESTS codes as
 * containerd's error kinds (`error from registry: unavailable`; moby daemon/containerd/registry_errors.go).
 * Status codes count only where the text says they are one (`HTTP status: 503`, `HTTP 403
 * response body`, `status: 429`): a bare `501` may be part of a port number in the same message.
 */
export function classifyPushError(message: string): PushFailureKind {
  const m = message.toLowerCase();
  if (AUTH_FAILURE.test(m)) return 'auth';
  if (TRANSIENT_FAILURE.test(m)) return 'transient';
  return 'permanent';
}

const anyOf = (...parts: RegExp[]): RegExp => new RegExp(parts.map((p) => p.source).join('|'));

const AUTH_FAILURE = anyOf(
  /unauthorized|authentication required|denied|no basic auth credentials|incorrect username or password/,
  /403 forbidden|\b(?:status:?|http)\s+40[13]\b/,
);

const TRANSIENT_FAILURE = anyOf(
  // Throttled, or the registry failing (the containerd store relays it without the status).
  /toomanyrequests|too many requests|\b(?:status:?|http)\s+(?:429|5\d\d)\b/,
  /service unavailable|^error from registry: (?:unavailable|resource exhausted)\b|bad gateway|gateway timeout|internal server error/,
  // The connection, broken or never made.
  /connection reset|broken pipe|use of closed network connection|i\/o timeout|unexpected eof|\beof\b|tls handshake timeout/,
  /connection refused|no such host|temporary failure/,
);

const THROTTLED_WAIT_MS = 2000;

function isThrottled(message: string): boolean {
  return /toomanyrequests|too many requests|\b(?:status:?|http)\s+429\b/i.test(message);
}

/**
 * `<tag>: digest: sha256:… size: N`, the status line every engine ends a good push with
 * (moby daemon/internal/distribution/push_v2.go for the graph-driver store, beside its aux
 * result; daemon/containerd/image_push.go `pushRef` for the containerd image store, Engine 29's
 * default, which sends no aux result at all: moby/moby v2.0.0-beta.24, Engine 29.8.1).
 */
const DIGEST_LINE = /^(.+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$/;

/**
 * Parses one tag's push stream; throws the registry's error text as a PushError. The digest is
 * the aux result's when there is one, else the status line's for this reference's tag.
 */
export async function followPush(stream: NodeJS.ReadableStream, reference: string, log: Log): Promise<PushedTag> {
  const tag = reference.slice(reference.lastIndexOf(':') + 1);
  let digest: string | undefined;
  let size: number | undefined;
  let fromStatus: { digest: string; size: number } | undefined;
  let error: string | undefined;
  const layers = new Set<string>();
  const countdown = new Map<string, number>();
  await readJsonLines(stream, (raw) => {
    const msg = raw as PushMessage;
    if (msg.errorDetail || msg.error) error = msg.errorDetail?.message ?? msg.error;
    if (msg.aux?.Digest) {
      digest = msg.aux.Digest;
      size = msg.aux.Size;
    }
    const line = !msg.id && msg.status ? DIGEST_LINE.exec(msg.status) : null;
    if (line && line[1] === tag) fromStatus = { digest: line[2]!, size: Number(line[3]) };
    if (!msg.id || !msg.status) return;
    if (/^(Pushed|Layer already exists|Mounted from)/.test(msg.status) && !layers.has(msg.id)) {
      layers.add(msg.id);
      log.info(`  ${msg.id}: ${msg.status}`);
    }
    // The engine retries a failed layer upload by itself, counting down a second at a time; say
    // so once per round (the count goes up again), or a push looks hung for the 5-15 s it takes.
    const seconds = /^Retrying in (\d+)/.exec(msg.status)?.[1];
    if (seconds === undefined) return;
    if (Number(seconds) > (countdown.get(msg.id) ?? 0))
      log.info(`  ${msg.id}: upload failed; the engine is retrying it (${msg.status.toLowerCase()})`);
    countdown.set(msg.id, Number(seconds));
  });
  if (error !== undefined) throw new PushError(error, classifyPushError(error), countdown.size > 0);
  if (!digest && fromStatus) ({ digest, size } = fromStatus);
  if (!digest) throw new PushError('the engine finished the push without reporting a digest', 'permanent');
  return { reference, digest, size };
}

export class PushError extends Error {
  constructor(
    message: string,
    readonly kind: PushFailureKind,
    /** The engine had already retried the failing layer uploads itself (its 5-10-15-20 s countdown). */
    readonly engineRetried = false,
  ) {
    super(message);
  }
}

export interface PushRequest {
  /** Repository as tagged locally (e.g. `127.0.0.1:5000/acme/shop`). */
  readonly repository: string;
  readonly tag: string;
  /** X-Registry-Auth for the engine; `{}` when anonymous (the engine insists on the header). */
  readonly authconfig: object;
  readonly registry: string;
  readonly log: Log;
  readonly signal?: AbortSignal;
  readonly attempts?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Pushes one tag with classified retries; fails with the registry's reason and the input to fix. */
export async function pushTag(docker: Docker, req: PushRequest): Promise<PushedTag> {
  const reference = `${req.repository}:${req.tag}`;
  let engineRetriedFailures = 0;
  try {
    return await retry(
      `push ${reference}`,
      async () => {
        const image = docker.getImage(req.repository);
        // dockerode's typings omit abortSignal and the authconfig-only call; the engine takes both.
        const push = image.push.bind(image) as unknown as (o: object) => Promise<NodeJS.ReadableStream>;
        const stream = await push({
          tag: req.tag,
          authconfig: req.authconfig,
          abortSignal: req.signal,
        });
        return followPush(stream, reference, req.log);
      },
      {
        attempts: req.attempts ?? 5,
        log: req.log,
        classify: (e) => {
          if (!(e instanceof PushError) || e.kind !== 'transient') return 'fatal';
          // After the engine's own ~50 s of layer retries one more whole push is worth a try;
          // four more would keep a job waiting for minutes on a registry that is down.
          if (e.engineRetried && ++engineRetriedFailures > 1) return 'fatal';
          // The engine does not relay a 429's Retry-After; registries ask for seconds, not the
          // sub-second first back-off, so a throttled push waits at least this long.
          return isThrottled(e.message) ? { retryAfterMs: THROTTLED_WAIT_MS } : 'retry';
        },
        signal: req.signal,
        sleep: req.sleep,
      },
    );
  } catch (e) {
    throw pushFailure(e, reference, req.registry);
  }
}

function pushFailure(e: unknown, reference: string, registry: string): ActionError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof PushError && e.kind === 'auth') {
    return new ActionError(
      `${registry} refused the push of ${reference}: ${message}`,
      { phase: 'push', input: 'registry-password' },
      `check 'registry-username' and 'registry-password' (or the docker/login-action step) for ${registry}, and that the account may push to this repository`,
    );
  }
  if (/connection refused|no such host|i\/o timeout|no route to host/i.test(message)) {
    return new ActionError(
      `pushing ${reference} to ${registry} failed: nothing answered (${message})`,
      { phase: 'push' },
      `check the registry host in 'image' and that ${registry} is up and reachable from the runner`,
      { cause: e },
    );
  }
  // For some failures the engine relays only the status ("received unexpected HTTP status: 500"),
  // not the registry's words, so the fix must not promise a message that is not there.
  return new ActionError(
    `pushing ${reference} to ${registry} failed: ${message}`,
    { phase: 'push' },
    `that is the registry's answer as the Docker engine relayed it; re-run when ${registry} is healthy (its own logs or status page say more)`,
    { cause: e },
  );
}
