import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { describeDaemonError, findStepLine, readBuildStream, type BuildStreamResult } from '../../../src/engine/build-stream.js';
import { ProtoWriter } from '../../../src/buildkit/protobuf.js';
import { chunks, cut } from '../support/chunks.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/streams/${name}`, import.meta.url));

const STAGES_DOCKERFILE = `FROM local/busybox:test AS build
RUN i=1; while [ $i -le 30 ]; do echo "output line $i"; i=$((i+1)); done; printf 'no newline at end'; exit 2

FROM local/busybox:test
COPY --from=build /etc/passwd /x
`;

interface Outcome {
  lines: string[];
  result?: BuildStreamResult;
  error?: { text: string; place: ActionError['place'] };
  imageIds: string[];
}

async function follow(parts: (Buffer | string)[], dockerfileText?: string): Promise<Outcome> {
  const log = new MemoryLog();
  const imageIds: string[] = [];
  try {
    const result = await readBuildStream(chunks(parts), {
      log,
      onImageId: (id) => imageIds.push(id),
      dockerfileText,
    });
    return { lines: log.lines, result, imageIds };
  } catch (e) {
    if (!(e instanceof ActionError)) throw e;
    return { lines: log.lines, error: { text: e.describe(), place: e.place }, imageIds };
  }
}

const MULTI_LOG = [
  '#1 [internal] load remote build context',
  '#1 DONE 0.0s',
  '#2 copy /context /',
  '#2 DONE 0.1s',
  '#3 [internal] load metadata for docker.io/local/busybox:test',
  '#3 DONE 0.0s',
  '#4 [1/5] FROM docker.io/local/busybox:test',
  '#4 CACHED',
  '#5 [2/5] WORKDIR /app',
  '#5 DONE 0.0s',
  '#6 [3/5] COPY hello.txt /app/',
  '#6 DONE 0.0s',
  '#7 [4/5] RUN echo "building…" && cat /app/hello.txt && echo "line two" 1>&2',
  '#7 building…',
  '#7 hello from the context',
  '#7 line two',
  '#7 DONE 0.1s',
  '#8 [5/5] RUN for i in 1 2 3; do echo "step $i"; done',
  '#8 step 1',
  '#8 step 2',
  '#8 step 3',
  '#8 DONE 0.1s',
  '#9 exporting to image',
  '#9 exporting layers done',
  '#9 writing image sha256:6becfa28d05db99b1ac8233534ba72c02b90e8a53748486d6aa8e98b7d952015 done',
  '#9 naming to docker.io/cap/multi:1 done',
  '#9 DONE 0.0s',
  'Successfully tagged cap/multi:1',
];

describe('readBuildStream replaying real BuildKit streams', () => {
  it("prints a multi-step build like the CLI's plain progress and returns the image", async () => {
    const out = await follow([fixture('buildkit-multi.jsonl')]);
    expect(out.lines).toEqual(MULTI_LOG);
    expect(out.result).toEqual({
      imageId: 'sha256:6becfa28d05db99b1ac8233534ba72c02b90e8a53748486d6aa8e98b7d952015',
      steps: 5,
      cachedSteps: 1,
      warnings: [],
    });
    expect(out.imageIds).toEqual(['sha256:6becfa28d05db99b1ac8233534ba72c02b90e8a53748486d6aa8e98b7d952015']);
  });

  it("counts a cached rebuild's steps as cached", async () => {
    const out = await follow([fixture('buildkit-cached.jsonl')]);
    expect(out.result).toMatchObject({
      imageId: 'sha256:6becfa28d05db99b1ac8233534ba72c02b90e8a53748486d6aa8e98b7d952015',
      steps: 5,
      cachedSteps: 4,
    });
    expect(out.lines.filter((l) => l.endsWith('CACHED'))).toEqual([
      '#2 CACHED',
      '#5 CACHED',
      '#6 CACHED',
      '#7 CACHED',
      '#8 CACHED',
    ]);
  });

  it('follows a RUN --mount=type=cache build, each vertex once though the daemon reports FROM twice', async () => {
    const out = await follow([fixture('buildkit-cache-mount.jsonl')]);
    expect(out.result).toEqual({
      imageId: 'sha256:1dd7ca5e56fe165024075239a7592f511b8930b8824c874f2fc69277d1935c44',
      steps: 2,
      cachedSteps: 0,
      warnings: [],
    });
    expect(out.lines.filter((l) => l.startsWith('#4 '))).toEqual([
      '#4 [stage-0 1/2] FROM docker.io/local/busybox:test',
      '#4 DONE 0.0s',
    ]);
    expect(out.lines).toContain(
      '#5 [stage-0 2/2] RUN --mount=type=cache,target=/cache echo hello > /hello && ls /cache && touch /cache/x',
    );
  });

  it("names the failing RUN step, the daemon's message and the step's output", async () => {
    const out = await follow([fixture('buildkit-fail-run.jsonl')]);
    expect(out.lines.slice(-4)).toEqual([
      '#6 [3/3] RUN echo "compiling" && echo "error: something broke" >&2 && exit 3',
      '#6 compiling',
      '#6 error: something broke',
      '#6 ERROR: executor failed running [/bin/sh -c echo "compiling" && echo "error: something broke" >&2 && exit 3]: exit code: 3',
    ]);
    expect(out.error).toEqual({
      text: [
        'the image build failed at step [3/3] RUN echo "compiling" && echo "error: something broke" >&2 && exit 3: executor failed running [/bin/sh -c echo "compiling" && echo "error: something broke" >&2 && exit 3]: exit code: 3',
        'Last 2 lines of its output:',
        '    compiling',
        '    error: something broke',
        '  Fix: fix the failing step (its output is above) and run the job again',
      ].join('\n'),
      place: { phase: 'build' },
    });
  });

  it('keeps the last 20 output lines of the failing step, an unterminated last line included, and finds its Dockerfile line', async () => {
    const out = await follow([fixture('buildkit-stage-fail.jsonl')], STAGES_DOCKERFILE);
    const tail = Array.from({ length: 19 }, (_, i) => `    output line ${i + 12}`).concat('    no newline at end');
    expect(out.error?.text.split('\n').slice(1, 22)).toEqual(['Last 20 lines of its output:', ...tail]);
    expect(out.error?.text).toMatch(/^the image build failed at step \[build 2\/2\] RUN i=1;/);
    expect(out.error?.place).toEqual({ phase: 'build', file: 'Dockerfile', line: 2 });
    expect(out.lines.filter((l) => l.startsWith('#5 ')).length).toBe(1 + 31 + 1);
  });

  it('puts a Dockerfile syntax error on its line', async () => {
    const out = await follow([fixture('buildkit-syntax-error.jsonl')]);
    expect(out.error).toEqual({
      text: 'Dockerfile:3: the Dockerfile cannot be parsed: unknown instruction: RUNN\n  Fix: correct the instruction on that line (reference: https://docs.docker.com/reference/dockerfile/)',
      place: { phase: 'build', file: 'Dockerfile', line: 3 },
    });
  });

  it.each([
    [
      'buildkit-copy-missing.jsonl',
      'the image build failed at step [2/2] COPY nope.txt /nope.txt: failed to compute cache key: "/nope.txt" not found: not found',
      /missing from the build context/,
    ],
    [
      'buildkit-base-unauthorized.jsonl',
      'the image build failed at step [internal] load metadata for 127.0.0.1:5055/base/nothing:1: failed to solve with frontend dockerfile.v0: failed to create LLB definition: no active sessions',
      /credentials for its registry/,
    ],
  ])("%s fails with the daemon's reason and a fix", async (name, message, fix) => {
    const out = await follow([fixture(name)]);
    expect(out.error?.text.split('\n')[0]).toBe(message);
    expect(out.error?.text).toMatch(fix);
  });
});

describe('readBuildStream replaying real classic-builder streams', () => {
  it('prints the text and returns the image', async () => {
    const out = await follow([fixture('classic-multi.jsonl')]);
    expect(out.result).toEqual({
      imageId: 'sha256:2c7b8a6227c51484ea8a8e1f8f6aabbb8ce83a38360082faf76e42e34d6bfc65',
      steps: 6,
      cachedSteps: 0,
      warnings: [],
    });
    expect(out.lines.slice(0, 3)).toEqual([
      'Step 1/6 : FROM local/busybox:test',
      ' ---> ff9f062b3388',
      'Step 2/6 : WORKDIR /app',
    ]);
    expect(out.lines).toContain('line two'); // stderr, its colour codes removed
  });

  it('names the failing step and its output', async () => {
    const out = await follow(
      [fixture('classic-fail-run.jsonl')],
      'FROM local/busybox:test\nRUN echo "about to fail"\nRUN echo "compiling" && \\\n  echo "error: something broke" >&2 && exit 3\n',
    );
    expect(out.error?.text.split('\n').slice(0, 4)).toEqual([
      'the image build failed at step [3/3] RUN echo "compiling" && echo "error: something broke" >&2 && exit 3: The command \'/bin/sh -c echo "compiling" && echo "error: something broke" >&2 && exit 3\' returned a non-zero code: 3',
      'Last 2 lines of its output:',
      '    error: something broke',
      '    compiling',
    ]);
    expect(out.error?.place).toEqual({ phase: 'build', file: 'Dockerfile', line: 3 });
  });

  it('describes the HTTP 400 answer to an unparsable Dockerfile', () => {
    const body = JSON.parse(fixture('classic-syntax-error.http400.json').toString()) as { message: string };
    const e = describeDaemonError(body.message, { dockerfile: 'app/Dockerfile' });
    expect([e.message, e.place]).toEqual([
      'app/Dockerfile:3: the Dockerfile cannot be parsed: unknown instruction: RUNN',
      { phase: 'build', file: 'app/Dockerfile', line: 3 },
    ]);
  });
});

describe('readBuildStream on any chunking', () => {
  const names = [
    'buildkit-multi.jsonl',
    'buildkit-cached.jsonl',
    'buildkit-fail-run.jsonl',
    'buildkit-stage-fail.jsonl',
    'buildkit-syntax-error.jsonl',
    'classic-multi.jsonl',
    'classic-fail-run.jsonl',
  ];
  it.each(names)('%s gives the same log and outcome re-chunked at random boundaries', async (name) => {
    const bytes = fixture(name);
    const whole = await follow([bytes], STAGES_DOCKERFILE);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (offsets) => {
        expect(await follow(cut(bytes, offsets), STAGES_DOCKERFILE)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });
});

const trace = (w: ProtoWriter) => `${JSON.stringify({ id: 'moby.buildkit.trace', aux: w.finish().toString('base64') })}\n`;
const stamp = (s: number) => new ProtoWriter().varint(1, s);
const vertex = (digest: string, name: string, extra: (w: ProtoWriter) => ProtoWriter = (w) => w) =>
  new ProtoWriter().message(1, extra(new ProtoWriter().string(1, digest).string(3, name)));
const logOf = (digest: string, text: string, streamNo = 1) =>
  new ProtoWriter().message(
    3,
    new ProtoWriter().string(1, digest).message(2, stamp(1)).varint(3, streamNo).bytes(4, Buffer.from(text)),
  );
const IMAGE = '{"id":"moby.image.id","aux":{"ID":"sha256:feed"}}\n';

describe('readBuildStream on situations built by hand', () => {
  it('assembles output lines split across log records and keeps interleaved steps apart', async () => {
    const out = await follow([
      trace(vertex('a', '[a 1/1] RUN x', (w) => w.message(5, stamp(10)))),
      trace(vertex('b', '[b 1/1] RUN y', (w) => w.message(5, stamp(10)))),
      trace(logOf('a', 'hel')),
      trace(logOf('b', 'one\ntw')),
      trace(logOf('a', 'lo\n')),
      trace(logOf('b', 'o\n')),
      trace(logOf('a', '50%\r75%\r100%\n')),
      trace(logOf('a', 'err\n', 2)),
      trace(logOf('a', 'no newline at the end')),
      trace(vertex('a', '[a 1/1] RUN x', (w) => w.message(5, stamp(10)).message(6, stamp(12)))),
      trace(vertex('b', '[b 1/1] RUN y', (w) => w.message(5, stamp(10)).message(6, stamp(11)))),
      IMAGE,
    ]);
    expect(out.lines).toEqual([
      '#1 [a 1/1] RUN x',
      '#2 [b 1/1] RUN y',
      '#2 one',
      '#1 hello',
      '#2 two',
      '#1 100%',
      '#1 err',
      '#1 no newline at the end',
      '#1 DONE 2.0s',
      '#2 DONE 1.0s',
    ]);
  });

  it('a vertex reported done then started again (the context: cache check, then the transfer) says DONE once, when it is', async () => {
    const ctx = (w: ProtoWriter) => w.message(5, stamp(10));
    const out = await follow([
      // One message: done at once, then started again; the last record is the vertex's state.
      trace(
        vertex('c', '[internal] load build context', (w) => ctx(w).message(6, stamp(10))).message(
          1,
          ctx(new ProtoWriter().string(1, 'c').string(3, '[internal] load build context')),
        ),
      ),
      trace(vertex('c', '[internal] load build context', (w) => ctx(w).message(6, stamp(13)))),
      IMAGE,
    ]);
    expect(out.lines).toEqual(['#1 [internal] load build context', '#1 DONE 3.0s']);
  });

  it('a vertex started again in a later message says DONE again with its whole duration', async () => {
    const out = await follow([
      trace(vertex('c', '[internal] load build context', (w) => w.message(5, stamp(10)).message(6, stamp(10)))),
      trace(vertex('c', '[internal] load build context', (w) => w.message(5, stamp(10)))),
      trace(vertex('c', '[internal] load build context', (w) => w.message(5, stamp(10)).message(6, stamp(12)))),
      IMAGE,
    ]);
    expect(out.lines).toEqual(['#1 [internal] load build context', '#1 DONE 0.0s', '#1 DONE 2.0s']);
  });

  it('logs warnings with their Dockerfile position and returns them', async () => {
    const warning = new ProtoWriter()
      .string(1, 'v')
      .varint(2, 1)
      .bytes(3, Buffer.from('JSONArgsRecommended: JSON arguments recommended for CMD'))
      .message(6, new ProtoWriter().string(1, 'Dockerfile'))
      .message(7, new ProtoWriter().message(1, new ProtoWriter().varint(1, 4)));
    const out = await follow([trace(new ProtoWriter().message(4, warning)), IMAGE]);
    expect(out.lines).toEqual(['warning: JSONArgsRecommended: JSON arguments recommended for CMD']);
    expect(out.result?.warnings).toEqual(['JSONArgsRecommended: JSON arguments recommended for CMD']);
  });

  it.each([
    [
      'an error line with no step',
      [
        '{"errorDetail":{"message":"failed to solve: rpc error: code = Unknown"},"error":"failed to solve: rpc error: code = Unknown"}\n',
      ],
      'the image build failed: failed to solve: rpc error: code = Unknown',
    ],
    ['an error after the image ID', [IMAGE, '{"error":"push: denied"}\n'], 'the image build failed: push: denied'],
    [
      'a stream that ends without an image',
      ['{"stream":"Step 1/1 : FROM x\\n"}\n'],
      'the build ended without the daemon naming an image: the connection to Docker may have dropped',
    ],
  ])('fails on %s', async (_name, parts, message) => {
    const out = await follow(parts);
    expect(out.error?.text.split('\n')[0]).toBe(message);
    expect(out.error?.place.phase).toBe('build');
  });

  it.each([
    ['a broken connection', [], 'the connection to the Docker engine broke during the build: socket hang up'],
    [
      "a broken connection after the daemon's error",
      ['{"error":"failed to solve: boom"}\n'],
      'the image build failed at step [1/2] FROM x: failed to solve: boom',
    ],
  ])("fails on %s, the daemon's own error first", async (_name, before, message) => {
    async function* breaking(): AsyncGenerator<string> {
      yield '{"stream":"Step 1/2 : FROM x\\n"}\n';
      yield* before;
      throw new Error('socket hang up');
    }
    const e = await readBuildStream(breaking(), { log: new MemoryLog() }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(message);
  });

  it('reports a line that is not JSON and an undecodable trace, and goes on', async () => {
    const out = await follow(['<html>proxy error</html>\n', '{"id":"moby.buildkit.trace","aux":"CgU="}\n', IMAGE]);
    expect(out.lines).toEqual([
      'warning: Ignored line 1 of the build output, which is not JSON: <html>proxy error</html>',
      'warning: Ignored a BuildKit progress message that could not be decoded: field 1 runs past the end of the message (5 bytes at 2)',
    ]);
    expect(out.result?.imageId).toBe('sha256:feed');
  });

  it('prints a pull status without its progress bars', async () => {
    const out = await follow([
      '{"status":"Pulling from library/alpine","id":"3.20"}\n',
      '{"status":"Downloading","progressDetail":{"current":100,"total":200},"id":"abc"}\n',
      '{"status":"Pull complete","progressDetail":{},"id":"abc"}\n',
      '{"aux":{"ID":"sha256:cafe"}}\n',
    ]);
    expect(out.lines).toEqual(['3.20: Pulling from library/alpine', 'abc: Pull complete']);
    expect(out.result?.imageId).toBe('sha256:cafe');
  });
});

describe('findStepLine', () => {
  const df = [
    '# syntax=docker/dockerfile:1',
    'FROM alpine AS build',
    'run apk add \\',
    '  # a comment inside',
    '    make',
    '',
    'COPY . /src',
    'RUN make',
    'FROM alpine',
    'RUN make',
  ].join('\n');
  it.each([
    ['[build 2/4] RUN apk add make', 3],
    ['[build 3/4] COPY . /src', 7],
    ['[build 4/4] RUN make', 8], // the first of two identical instructions
    ['[stage-1 1/1] FROM docker.io/library/alpine:latest', undefined],
    ['[internal] load metadata for docker.io/library/alpine:latest', undefined],
    ['RUN make', undefined],
  ])('%s → %s', (step, line) => {
    expect(findStepLine(df, step)).toBe(line);
  });
});
