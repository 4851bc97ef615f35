/**
 * followPush, classifyPushError and pushTag, replaying push streams captured from a real engine.
 *
 * Every test/fixtures/streams/push-*.jsonl file is the byte-for-byte body of
 *   POST /v1.41/images/127.0.0.1:<port>/cap/push/push?tag=1   (X-Registry-Auth: e30= unless noted)
 * answered by dockerd 20.10.24 (the engine on /tmp/dk/docker.sock), pushing a two-layer
 * `FROM scratch` image to a throwaway fake Registry v2 server on 127.0.0.1 that answered each
 * port in one way (nothing but 127.0.0.1 was contacted):
 *
 *   push-pushed                   registry accepts everything (blobs uploaded: "Pushed")
 *   push-layer-exists             the same push again (HEAD finds the blobs: "Layer already exists")
 *   push-mounted                  another repository on that registry, with credentials ("Mounted from cap/third")
 *   push-connection-refused       127.0.0.1:1, where nothing listens
 *   push-401-no-credentials       401 + `WWW-Authenticate: Basic` on /v2/, no credentials given
 *   push-401-wrong-credentials    401 + JSON UNAUTHORIZED on every request, credentials given (engine retries layers first)
 *   push-401-empty-body           401 with an empty body on the blob upload
 *   push-403-denied               403 + JSON DENIED on the blob upload (engine retries layers first)
 *   push-403-text-body            403 with the text body `403 Forbidden\n`
 *   push-403-empty-body           403 with an empty body
 *   push-429                      429 + JSON TOOMANYREQUESTS on the blob upload
 *   push-manifest-500 / -503      layers accepted, manifest PUT answered 500 / 503
 *   push-blob-500-engine-retried  500 on the blob upload (the engine retries each layer 4 times first)
 *   push-upload-reset             TCP reset while the engine sends a layer (engine retries layers first)
 *   push-manifest-reset           TCP reset on the manifest PUT
 *   push-manifest-eof             connection closed without an answer on the manifest PUT
 *   push-ping-reset               TCP reset on GET /v2/
 *
 * and push-containerd-store.jsonl, the body of the same push (one `FROM scratch` layer, tag 1, to
 * 127.0.0.1:40109/cap/push) answered by Engine 29.8.1 with the containerd image store
 * (`features.containerd-snapshotter: true`) to distribution v3.1.2: no aux result, only the
 * `1: digest: … size: 405` status line.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import {
  classifyPushError,
  followPush,
  PushError,
  pushTag,
  type PushFailureKind,
  type PushedTag,
} from '../../../src/engine/push.js';
import { chunks, cut } from '../support/chunks.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/streams/${name}`, import.meta.url));

const DIGEST = 'sha256:f57e6dfd11474c4ca4b4ce9adb17808a022e2ed4a2fef311c56fd4f5e4159cd0';
const REF = '127.0.0.1:5000/acme/shop:1';
const REGISTRY = '127.0.0.1:5000';

/** The engine's countdown for a layer upload it retries: once per round (5, 10, 15, 20 s) per layer. */
const engineRetryLines = (first: string, second: string): string[] =>
  [5, 10, 15, 20].flatMap((s) =>
    [first, second].map((id) => `  ${id}: upload failed; the engine is retrying it (retrying in ${s} seconds)`),
  );

interface Followed {
  lines: string[];
  pushed?: PushedTag;
  error?: { message: string; kind: PushFailureKind };
}

async function follow(parts: readonly (Buffer | string)[]): Promise<Followed> {
  const log = new MemoryLog();
  try {
    const pushed = await followPush(Readable.from(chunks(parts)), REF, log);
    return { lines: log.lines, pushed };
  } catch (e) {
    if (!(e instanceof PushError)) throw e;
    return { lines: log.lines, error: { message: e.message, kind: e.kind } };
  }
}

describe('followPush on a successful push', () => {
  it.each([
    ['push-pushed.jsonl', ['  6c066c5a7d21: Pushed', '  df5b71a0a4be: Pushed']],
    ['push-layer-exists.jsonl', ['  df5b71a0a4be: Layer already exists', '  6c066c5a7d21: Layer already exists']],
    ['push-mounted.jsonl', ['  6c066c5a7d21: Mounted from cap/third', '  df5b71a0a4be: Mounted from cap/third']],
  ])('%s: returns aux.Digest and Size, and logs each layer once', async (name, lines) => {
    const out = await follow([fixture(name)]);
    expect(out.error).toBeUndefined();
    expect(out.pushed).toEqual({ reference: REF, digest: DIGEST, size: 731 });
    // Preparing/Pushing progress and the "1: digest: …" status line are not echoed.
    expect(out.lines).toEqual(lines);
  });

  it('reads the same result whichever byte the stream is split at', async () => {
    const bytes = fixture('push-pushed.jsonl');
    for (let at = 0; at <= bytes.length; at++) {
      const out = await follow(cut(bytes, [at]));
      expect(out.pushed, `split at byte ${at}`).toEqual({ reference: REF, digest: DIGEST, size: 731 });
      expect(out.lines).toHaveLength(2);
    }
    const bytewise = await follow([...bytes].map((b) => Buffer.from([b])));
    expect(bytewise.pushed).toEqual({ reference: REF, digest: DIGEST, size: 731 });
  });

  it('Engine 29 with the containerd image store sends no aux result: the digest comes from its status line', async () => {
    const bytes = fixture('push-containerd-store.jsonl');
    expect(bytes.toString('utf8')).not.toContain('"aux"');
    const log = new MemoryLog();
    const pushed = await followPush(Readable.from(chunks([bytes])), '127.0.0.1:40109/cap/push:1', log);
    expect(pushed).toEqual({
      reference: '127.0.0.1:40109/cap/push:1',
      digest: 'sha256:3111aa03c9c6fb3d6cbfb55def3bd52611c19e72acca1ff2ebf1aff51f287c4d',
      size: 405,
    });
    expect(log.lines).toEqual(['  1cff9400a82b: Pushed']);
  });

  it("without the aux line, the status line for this reference's tag gives the digest; another tag's does not", async () => {
    const text = fixture('push-pushed.jsonl').toString('utf8');
    const noAux = text
      .split('\r\n')
      .filter((l) => !l.includes('"aux"'))
      .join('\r\n');
    expect(noAux).toContain(`1: digest: ${DIGEST} size: 731`);
    expect((await follow([noAux])).pushed).toEqual({ reference: REF, digest: DIGEST, size: 731 });
    const otherTag = await follow([noAux.replace(`1: digest: ${DIGEST}`, `2: digest: ${DIGEST}`)]);
    expect(otherTag.pushed).toBeUndefined();
    expect(otherTag.error).toEqual({ message: 'the engine finished the push without reporting a digest', kind: 'permanent' });
  });

  it('takes the digest from the aux line when it differs from the status line', async () => {
    const other = `sha256:${'a'.repeat(64)}`;
    const text = fixture('push-pushed.jsonl')
      .toString('utf8')
      .replace(/"Digest":"sha256:[0-9a-f]+","Size":731/, `"Digest":"${other}","Size":99`);
    const out = await follow([text]);
    expect(out.pushed).toEqual({ reference: REF, digest: other, size: 99 });
  });

  it('has no size when the engine does not report one', async () => {
    const out = await follow([`{"status":"x"}\n{"aux":{"Tag":"1","Digest":"${DIGEST}"}}\n`]);
    expect(out.pushed).toEqual({ reference: REF, digest: DIGEST });
    expect(out.pushed?.size).toBeUndefined();
  });
});

describe('followPush on a failing push: the errorDetail of an HTTP-200 stream is thrown, never swallowed', () => {
  const cases: Array<[string, string, PushFailureKind, string[]]> = [
    [
      'push-connection-refused.jsonl',
      'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      'transient',
      [],
    ],
    ['push-401-no-credentials.jsonl', 'no basic auth credentials', 'auth', []],
    ['push-401-wrong-credentials.jsonl', 'unauthorized', 'auth', engineRetryLines('6c066c5a7d21', 'df5b71a0a4be')],
    ['push-401-empty-body.jsonl', 'unauthorized: authentication required', 'auth', []],
    ['push-403-denied.jsonl', 'denied', 'auth', engineRetryLines('6c066c5a7d21', 'df5b71a0a4be')],
    [
      'push-403-text-body.jsonl',
      'error parsing HTTP 403 response body: invalid character \'F\' after top-level value: "403 Forbidden\\n"',
      'auth',
      [],
    ],
    // A 403 with an empty body reaches us as a parse error; its status code still says refused.
    ['push-403-empty-body.jsonl', 'error parsing HTTP 403 response body: unexpected end of JSON input: ""', 'auth', []],
    ['push-429.jsonl', 'toomanyrequests: You have reached your pull rate limit.', 'transient', []],
    [
      'push-manifest-500.jsonl',
      'received unexpected HTTP status: 500 Internal Server Error',
      'transient',
      ['  df5b71a0a4be: Pushed', '  6c066c5a7d21: Pushed'],
    ],
    [
      'push-manifest-503.jsonl',
      'received unexpected HTTP status: 503 Service Unavailable',
      'transient',
      ['  6c066c5a7d21: Pushed', '  df5b71a0a4be: Pushed'],
    ],
    [
      'push-blob-500-engine-retried.jsonl',
      'received unexpected HTTP status: 500 Internal Server Error',
      'transient',
      engineRetryLines('6c066c5a7d21', 'df5b71a0a4be'),
    ],
    [
      'push-manifest-reset.jsonl',
      'Put "http://127.0.0.1:5113/v2/cap/push/manifests/1": read tcp 127.0.0.1:48854->127.0.0.1:5113: read: connection reset by peer',
      'transient',
      ['  6c066c5a7d21: Pushed', '  df5b71a0a4be: Pushed'],
    ],
    [
      'push-manifest-eof.jsonl',
      'Put "http://127.0.0.1:5114/v2/cap/push/manifests/1": EOF',
      'transient',
      ['  df5b71a0a4be: Pushed', '  6c066c5a7d21: Pushed'],
    ],
    [
      'push-ping-reset.jsonl',
      'Get "http://127.0.0.1:5115/v2/": read tcp 127.0.0.1:44854->127.0.0.1:5115: read: connection reset by peer',
      'transient',
      [],
    ],
    // The engine's words for a reset during a layer upload, after its own retries.
    [
      'push-upload-reset.jsonl',
      'write tcp 127.0.0.1:33688->127.0.0.1:5107: use of closed network connection',
      'transient',
      [
        '  6c066c5a7d21: upload failed; the engine is retrying it (retrying in 5 seconds)',
        '  df5b71a0a4be: upload failed; the engine is retrying it (retrying in 5 seconds)',
        ...[10, 15, 20].flatMap((s) =>
          ['df5b71a0a4be', '6c066c5a7d21'].map(
            (id) => `  ${id}: upload failed; the engine is retrying it (retrying in ${s} seconds)`,
          ),
        ),
      ],
    ],
  ];

  it.each(cases)('%s', async (name, message, kind, lines) => {
    const out = await follow([fixture(name)]);
    expect(out.pushed).toBeUndefined();
    expect(out.error).toEqual({ message, kind });
    expect(out.lines).toEqual(lines);
  });

  it('an error still wins when a digest was reported earlier in the same stream', async () => {
    const out = await follow([
      `{"status":"Pushed","progressDetail":{},"id":"6c066c5a7d21"}\r\n{"progressDetail":{},"aux":{"Tag":"1","Digest":"${DIGEST}","Size":731}}\r\n`,
      '{"errorDetail":{"message":"received unexpected HTTP status: 502 Bad Gateway"},"error":"received unexpected HTTP status: 502 Bad Gateway"}\r\n',
    ]);
    expect(out.pushed).toBeUndefined();
    expect(out.error).toEqual({ message: 'received unexpected HTTP status: 502 Bad Gateway', kind: 'transient' });
  });

  it('an error followed by more lines is still thrown', async () => {
    const out = await follow(['{"errorDetail":{"message":"denied"},"error":"denied"}\n{"status":"later"}\n']);
    expect(out.error).toEqual({ message: 'denied', kind: 'auth' });
  });

  it('reads `error` when there is no errorDetail, and prefers errorDetail.message when both are there', async () => {
    expect((await follow(['{"error":"unauthorized: x"}\n'])).error).toEqual({ message: 'unauthorized: x', kind: 'auth' });
    expect((await follow(['{"errorDetail":{"message":"from detail"},"error":"from error"}\n'])).error?.message).toBe(
      'from detail',
    );
  });

  it('an error split across chunks is read whole', async () => {
    const bytes = fixture('push-401-no-credentials.jsonl');
    for (let at = 0; at <= bytes.length; at += 7) {
      expect((await follow(cut(bytes, [at, at + 3]))).error, `split at ${at}`).toEqual({
        message: 'no basic auth credentials',
        kind: 'auth',
      });
    }
  });

  it('a line that is not JSON fails the push with the line number', async () => {
    await expect(followPush(Readable.from(['{"status":"ok"}\n<html>502</html>\n']), REF, new MemoryLog())).rejects.toThrow(
      "line 2 of the daemon's answer is not JSON",
    );
  });
});

describe('classifyPushError', () => {
  it.each<[string, PushFailureKind]>([
    // As the engine relayed them in the captured streams.
    ['no basic auth credentials', 'auth'],
    ['unauthorized', 'auth'],
    ['unauthorized: authentication required', 'auth'],
    ['denied', 'auth'],
    ['error parsing HTTP 403 response body: invalid character \'F\' after top-level value: "403 Forbidden\\n"', 'auth'],
    ['error parsing HTTP 403 response body: unexpected end of JSON input: ""', 'auth'],
    ['toomanyrequests: You have reached your pull rate limit.', 'transient'],
    ['received unexpected HTTP status: 500 Internal Server Error', 'transient'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'transient'],
    [
      'Put "http://127.0.0.1:5113/v2/cap/push/manifests/1": read tcp 127.0.0.1:48854->127.0.0.1:5113: read: connection reset by peer',
      'transient',
    ],
    ['Put "http://127.0.0.1:5114/v2/cap/push/manifests/1": EOF', 'transient'],
    ['Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'transient'],
    ['write tcp 127.0.0.1:33688->127.0.0.1:5107: use of closed network connection', 'transient'],
    // As Engine 29 with the containerd image store relayed them (e2e registry-faults, 2026-12-04).
    ['error from registry: unavailable\nunavailable', 'transient'],
    ['error from registry: service unavailable', 'transient'],
    ['error from registry: storage backend on fire', 'permanent'],
    ['error from registry: manifest invalid - layer quota exceeded, injected', 'permanent'],
    // The other phrases the classifier knows.
    ['unauthorized: incorrect username or password', 'auth'],
    ['denied: requested access to the resource is denied', 'auth'],
    ['received unexpected HTTP status: 502 Bad Gateway', 'transient'],
    ['received unexpected HTTP status: 504 Gateway Timeout', 'transient'],
    ['write: broken pipe', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['dial tcp: lookup registry.example.com: no such host', 'transient'],
    ['dial tcp: lookup registry.example.com: Temporary failure in name resolution', 'transient'],
    ['manifest invalid: manifest invalid', 'permanent'],
    ['name unknown: repository name not known to registry', 'permanent'],
    ['', 'permanent'],
  ])('%j is %s', (message, kind) => {
    expect(classifyPushError(message)).toBe(kind);
  });

  it('auth words win over transient ones in the same message', () => {
    expect(classifyPushError('unauthorized: authentication required (status: 503)')).toBe('auth');
  });

  it('is case-insensitive', () => {
    expect(classifyPushError('UNAUTHORIZED')).toBe('auth');
    expect(classifyPushError('TOOMANYREQUESTS: slow down')).toBe('transient');
  });

  it('reads a status code only where the text says it is one, not in a port number', () => {
    // The same captured failure from two ephemeral ports, one of them holding "501".
    expect(classifyPushError('write tcp 127.0.0.1:33688->127.0.0.1:5107: use of closed network connection')).toBe('transient');
    expect(classifyPushError('write tcp 127.0.0.1:45012->127.0.0.1:5107: use of closed network connection')).toBe('transient');
    expect(classifyPushError('manifest invalid: layer pushed from 127.0.0.1:45012 is unknown')).toBe('permanent');
    expect(classifyPushError('blob upload invalid at 127.0.0.1:4290')).toBe('permanent');
    expect(classifyPushError('error parsing HTTP 502 response body: invalid character')).toBe('transient');
  });
});

/** An engine that answers each push with the next stream, recording what it was asked. */
function fakeEngine(streams: readonly (Buffer | string | Error)[]): {
  docker: Docker;
  calls: Array<{ repository: string; options: Record<string, unknown> }>;
} {
  const calls: Array<{ repository: string; options: Record<string, unknown> }> = [];
  let next = 0;
  const docker = {
    getImage: (repository: string) => ({
      push: async (options: Record<string, unknown>) => {
        calls.push({ repository, options });
        const s = streams[Math.min(next++, streams.length - 1)];
        if (s === undefined) throw new Error('no stream');
        if (s instanceof Error) throw s;
        return Readable.from([s]);
      },
    }),
  } as unknown as Docker;
  return { docker, calls };
}

interface Pushed {
  result?: PushedTag;
  error?: ActionError;
  attempts: number;
  waits: number[];
  lines: string[];
  calls: ReturnType<typeof fakeEngine>['calls'];
}

async function push(
  streams: readonly (Buffer | string | Error)[],
  opts: { attempts?: number; signal?: AbortSignal; authconfig?: object } = {},
): Promise<Pushed> {
  const { docker, calls } = fakeEngine(streams);
  const log = new MemoryLog();
  const waits: number[] = [];
  try {
    const result = await pushTag(docker, {
      repository: '127.0.0.1:5000/acme/shop',
      tag: '1',
      authconfig: opts.authconfig ?? {},
      registry: REGISTRY,
      log,
      sleep: async (ms) => {
        waits.push(ms);
      },
      attempts: opts.attempts,
      signal: opts.signal,
    });
    return { result, attempts: calls.length, waits, lines: log.lines, calls };
  } catch (e) {
    if (!(e instanceof ActionError)) throw e;
    return { error: e, attempts: calls.length, waits, lines: log.lines, calls };
  }
}

const AUTH_FIX =
  "check 'registry-username' and 'registry-password' (or the docker/login-action step) for 127.0.0.1:5000, and that the account may push to this repository";
const HEALTHY_FIX =
  "that is the registry's answer as the Docker engine relayed it; re-run when 127.0.0.1:5000 is healthy (its own logs or status page say more)";

describe('pushTag: what a person reads when a push fails', () => {
  it('returns the pushed tag, asking the engine for the tag with the given auth', async () => {
    const auth = { username: 'ci', password: 'pw', serveraddress: REGISTRY };
    const out = await push([fixture('push-pushed.jsonl')], { authconfig: auth });
    expect(out.result).toEqual({ reference: REF, digest: DIGEST, size: 731 });
    expect(out.attempts).toBe(1);
    expect(out.calls[0]).toEqual({ repository: '127.0.0.1:5000/acme/shop', options: { tag: '1', authconfig: auth } });
    expect(out.lines).toEqual(['  6c066c5a7d21: Pushed', '  df5b71a0a4be: Pushed']);
  });

  it.each([
    ['push-401-no-credentials.jsonl', 'no basic auth credentials'],
    ['push-401-wrong-credentials.jsonl', 'unauthorized'],
    ['push-401-empty-body.jsonl', 'unauthorized: authentication required'],
    ['push-403-denied.jsonl', 'denied'],
    [
      'push-403-text-body.jsonl',
      'error parsing HTTP 403 response body: invalid character \'F\' after top-level value: "403 Forbidden\\n"',
    ],
    ['push-403-empty-body.jsonl', 'error parsing HTTP 403 response body: unexpected end of JSON input: ""'],
  ])('%s: refused at once (never retried), naming the registry and registry-password', async (name, engineMessage) => {
    const out = await push([fixture(name), fixture('push-pushed.jsonl')]);
    expect(out.attempts).toBe(1);
    expect(out.waits).toEqual([]);
    expect(out.result).toBeUndefined();
    expect(out.error?.message).toBe(`127.0.0.1:5000 refused the push of ${REF}: ${engineMessage}`);
    expect(out.error?.place).toEqual({ phase: 'push', input: 'registry-password' });
    expect(out.error?.fix).toBe(AUTH_FIX);
    expect(out.error?.describe()).toBe(
      `input 'registry-password': 127.0.0.1:5000 refused the push of ${REF}: ${engineMessage}\n  Fix: ${AUTH_FIX}`,
    );
  });

  it("429: retried 5 times in all, each after at least 2 s, then reported with the registry's words", async () => {
    const out = await push([fixture('push-429.jsonl')]);
    expect(out.attempts).toBe(5);
    expect(out.waits).toEqual([2000, 2000, 2000, 2000]);
    expect(out.lines).toEqual(
      [2, 3, 4, 5].map(
        (n) => `push ${REF}: attempt ${n}/5 after toomanyrequests: You have reached your pull rate limit., waiting 2.0s`,
      ),
    );
    expect(out.error?.describe()).toBe(
      `pushing ${REF} to 127.0.0.1:5000 failed: toomanyrequests: You have reached your pull rate limit.\n  Fix: ${HEALTHY_FIX}`,
    );
    expect(out.error?.place).toEqual({ phase: 'push' });
    expect(out.error?.cause).toBeInstanceOf(PushError);
  });

  it.each([
    ['push-manifest-500.jsonl', 'received unexpected HTTP status: 500 Internal Server Error'],
    ['push-manifest-503.jsonl', 'received unexpected HTTP status: 503 Service Unavailable'],
    [
      'push-manifest-reset.jsonl',
      'Put "http://127.0.0.1:5113/v2/cap/push/manifests/1": read tcp 127.0.0.1:48854->127.0.0.1:5113: read: connection reset by peer',
    ],
    [
      'push-ping-reset.jsonl',
      'Get "http://127.0.0.1:5115/v2/": read tcp 127.0.0.1:44854->127.0.0.1:5115: read: connection reset by peer',
    ],
    ['push-manifest-eof.jsonl', 'Put "http://127.0.0.1:5114/v2/cap/push/manifests/1": EOF'],
  ])("%s: retried with backoff (attempts 2-5 logged), then reported with the engine's words", async (name, engineMessage) => {
    const out = await push([fixture(name)]);
    expect(out.attempts).toBe(5);
    expect(out.waits).toHaveLength(4);
    // Full jitter: each wait is below the doubling cap of 0.5, 1, 2, 4 s.
    out.waits.forEach((ms, i) => expect(ms).toBeLessThan(500 * 2 ** i));
    const retries = out.lines.filter((l) => l.startsWith(`push ${REF}: attempt`));
    expect(retries.map((l) => l.replace(/waiting \d+\.\ds$/, 'waiting …'))).toEqual(
      [2, 3, 4, 5].map((n) => `push ${REF}: attempt ${n}/5 after ${engineMessage}, waiting …`),
    );
    expect(out.error?.describe()).toBe(`pushing ${REF} to 127.0.0.1:5000 failed: ${engineMessage}\n  Fix: ${HEALTHY_FIX}`);
  });

  it.each([
    ['push-blob-500-engine-retried.jsonl', 'received unexpected HTTP status: 500 Internal Server Error'],
    ['push-upload-reset.jsonl', 'write tcp 127.0.0.1:33688->127.0.0.1:5107: use of closed network connection'],
  ])("%s: after the engine's own layer retries, pushed once more, not four times", async (name, engineMessage) => {
    const out = await push([fixture(name)]);
    expect(out.attempts).toBe(2);
    expect(
      out.lines.filter((l) => l.startsWith(`push ${REF}: attempt`)).map((l) => l.replace(/waiting \d+\.\ds$/, 'waiting …')),
    ).toEqual([`push ${REF}: attempt 2/5 after ${engineMessage}, waiting …`]);
    expect(out.error?.describe()).toBe(`pushing ${REF} to 127.0.0.1:5000 failed: ${engineMessage}\n  Fix: ${HEALTHY_FIX}`);
  });

  it('a 503 followed by a good push succeeds on the second attempt', async () => {
    const out = await push([fixture('push-manifest-503.jsonl'), fixture('push-pushed.jsonl')]);
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ reference: REF, digest: DIGEST, size: 731 });
    expect(out.attempts).toBe(2);
    expect(out.lines.filter((l) => l.includes('attempt'))).toHaveLength(1);
    expect(out.lines[2]).toMatch(
      new RegExp(
        `^push ${REF.replace(/\./g, '\\.')}: attempt 2/5 after received unexpected HTTP status: 503 Service Unavailable, waiting 0\\.\\ds$`,
      ),
    );
  });

  it('connection refused: retried, then "nothing answered" with a fix about the registry host', async () => {
    const out = await push([fixture('push-connection-refused.jsonl')]);
    expect(out.attempts).toBe(5);
    expect(out.error?.describe()).toBe(
      `pushing ${REF} to 127.0.0.1:5000 failed: nothing answered (Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused)\n` +
        "  Fix: check the registry host in 'image' and that 127.0.0.1:5000 is up and reachable from the runner",
    );
    expect(out.error?.place).toEqual({ phase: 'push' });
  });

  it('a reset during a layer upload, as the engine words it, is retried, and the next attempt lands', async () => {
    const out = await push([fixture('push-upload-reset.jsonl'), fixture('push-pushed.jsonl')]);
    expect(out.attempts).toBe(2);
    expect(out.error).toBeUndefined();
    expect(out.result?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('a stream without a digest fails at once', async () => {
    const out = await push(['{"status":"The push refers to repository [127.0.0.1:5000/acme/shop]"}\r\n']);
    expect(out.attempts).toBe(1);
    expect(out.error?.message).toBe(
      `pushing ${REF} to 127.0.0.1:5000 failed: the engine finished the push without reporting a digest`,
    );
  });

  it('honours attempts', async () => {
    const out = await push([fixture('push-manifest-500.jsonl')], { attempts: 2 });
    expect(out.attempts).toBe(2);
    expect(out.waits).toHaveLength(1);
  });

  it('an engine call that throws (not a PushError) is not retried and keeps its words', async () => {
    const out = await push([
      new Error('(HTTP code 404) no such image - An image does not exist locally with this tag: 127.0.0.1:5000/acme/shop'),
    ]);
    expect(out.attempts).toBe(1);
    expect(out.error?.message).toBe(
      `pushing ${REF} to 127.0.0.1:5000 failed: (HTTP code 404) no such image - An image does not exist locally with this tag: 127.0.0.1:5000/acme/shop`,
    );
  });

  it('passes the abort signal to the engine and stops retrying once it aborts', async () => {
    const controller = new AbortController();
    const { docker, calls } = fakeEngine([fixture('push-manifest-503.jsonl')]);
    const promise = pushTag(docker, {
      repository: '127.0.0.1:5000/acme/shop',
      tag: '1',
      authconfig: {},
      registry: REGISTRY,
      log: new MemoryLog(),
      signal: controller.signal,
      sleep: async () => {
        controller.abort(new ActionError('cancelled by SIGTERM', { phase: 'push' }));
      },
    });
    await expect(promise).rejects.toThrow(`pushing ${REF} to 127.0.0.1:5000 failed: cancelled by SIGTERM`);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.options.abortSignal).toBe(controller.signal);
  });
});
