import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeStatusResponse, decodeTrace } from '../../../src/buildkit/trace.js';
import { ProtoWriter } from '../../../src/buildkit/protobuf.js';

const fixture = (name: string): Record<string, unknown>[] =>
  readFileSync(new URL(`../../fixtures/streams/${name}.jsonl`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const traces = (name: string) =>
  fixture(name)
    .filter((m) => m.id === 'moby.buildkit.trace')
    .map((m) => decodeTrace(m.aux as string));

const ts = (seconds: number, nanos: number) => new ProtoWriter().varint(1, seconds).varint(2, nanos);

describe('decodeTrace on captured daemon output', () => {
  it('decodes a vertex with inputs and timestamps', () => {
    const copy = traces('buildkit-multi')
      .flatMap((s) => s.vertexes)
      .find((v) => v.name === '[3/5] COPY hello.txt /app/' && v.completed);
    expect(copy).toEqual({
      digest: 'sha256:23620c44bf536d9b775b56e16c0d7c9fcc9c7c49c55beadd77fd2cd8f86c5249',
      inputs: [
        'sha256:05f637cd05ebba1730b947c9b118d9c1179a8e445bb669863aa3ab2444575e73',
        'sha256:8f23d0a7cfe25fae99cf5aff56df63d8d8725bcd716b909a4197e738be3b4ad4',
      ],
      name: '[3/5] COPY hello.txt /app/',
      cached: false,
      error: '',
      started: expect.closeTo(1795385801946.28, 1),
      completed: expect.closeTo(1795385801952.54, 1),
    });
  });

  it('decodes log records with their stream number and raw bytes', () => {
    const logs = traces('buildkit-multi').flatMap((s) => s.logs);
    expect(logs.map((l) => [l.stream, l.msg.toString()])).toEqual([
      [1, 'building…\n'],
      [1, 'hello from the context\n'],
      [2, 'line two\n'],
      [1, 'step 1\n'],
      [1, 'step 2\n'],
      [1, 'step 3\n'],
    ]);
    expect(logs[0]?.vertex).toBe('sha256:8539cf1c84ccab311d93017dfec86e0b9e8810f96e64b944c175c70d5eab8348');
  });

  it('decodes statuses and a vertex error', () => {
    const all = traces('buildkit-copy-missing');
    expect(all.flatMap((s) => s.vertexes).find((v) => v.error)?.error).toBe('"/nope.txt" not found: not found');
    const statuses = traces('buildkit-multi')
      .flatMap((s) => s.statuses)
      .filter((s) => s.completed);
    expect(statuses.map((s) => s.id)).toEqual([
      'exporting layers',
      'writing image sha256:6becfa28d05db99b1ac8233534ba72c02b90e8a53748486d6aa8e98b7d952015',
      'naming to docker.io/cap/multi:1',
    ]);
  });
});

describe('decodeStatusResponse on messages this daemon does not send', () => {
  it('decodes a warning with its source position (BuildKit ≥ 0.11 build checks)', () => {
    const position = (line: number, character: number) => new ProtoWriter().varint(1, line).varint(2, character);
    const warning = new ProtoWriter()
      .string(1, 'sha256:aa')
      .varint(2, 1)
      .bytes(3, Buffer.from('FromAsCasing: keywords casing do not match (line 1)'))
      .bytes(4, Buffer.from('detail one'))
      .bytes(4, Buffer.from('detail two'))
      .string(5, 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/')
      .message(6, new ProtoWriter().string(1, 'Dockerfile').bytes(2, Buffer.from('FROM a as b\n')))
      .message(7, new ProtoWriter().message(1, position(1, 0)).message(2, position(1, 11)));
    const status = decodeStatusResponse(new ProtoWriter().message(4, warning).finish());
    expect(status.warnings).toEqual([
      {
        vertex: 'sha256:aa',
        level: 1,
        short: 'FromAsCasing: keywords casing do not match (line 1)',
        detail: ['detail one', 'detail two'],
        url: 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
        source: { filename: 'Dockerfile', data: Buffer.from('FROM a as b\n') },
        ranges: [{ start: { line: 1, character: 0 }, end: { line: 1, character: 11 } }],
      },
    ]);
  });

  it('decodes a status with progress, a progress group, and skips unknown fields', () => {
    const msg = new ProtoWriter()
      .message(
        1,
        new ProtoWriter()
          .string(1, 'sha256:v')
          .string(3, 'pulling')
          .varint(4, true)
          .string(99, 'future field')
          .message(8, new ProtoWriter().string(1, 'g1').string(2, 'group').varint(3, true)),
      )
      .message(
        2,
        new ProtoWriter()
          .string(1, 'sha256:layer')
          .string(2, 'sha256:v')
          .varint(4, 1_500_000)
          .varint(5, 3_000_000_000)
          .message(6, ts(1_700_000_000, 500_000_000)),
      )
      .varint(42, 7)
      .finish();
    const status = decodeStatusResponse(msg);
    expect(status.vertexes).toEqual([
      {
        digest: 'sha256:v',
        inputs: [],
        name: 'pulling',
        cached: true,
        error: '',
        progressGroup: { id: 'g1', name: 'group', weak: true },
      },
    ]);
    expect(status.statuses).toEqual([
      {
        id: 'sha256:layer',
        vertex: 'sha256:v',
        name: '',
        current: 1_500_000,
        total: 3_000_000_000,
        timestamp: 1_700_000_000_500,
      },
    ]);
  });
});
