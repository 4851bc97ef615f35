import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineSplitter, readJsonLines, type MalformedLine } from '../../../src/engine/json-lines.js';
import { chunks, cut } from '../support/chunks.js';

async function collect(parts: (string | Buffer)[]): Promise<{ messages: unknown[]; bad: MalformedLine[] }> {
  const messages: unknown[] = [];
  const bad: MalformedLine[] = [];
  await readJsonLines(chunks(parts), (m) => messages.push(m), { onMalformed: (b) => bad.push(b) });
  return { messages, bad };
}

describe('readJsonLines', () => {
  it.each([
    ['one line per chunk', ['{"a":1}\n', '{"b":2}\n'], [{ a: 1 }, { b: 2 }]],
    ['two lines in one chunk', ['{"a":1}\n{"b":2}\n'], [{ a: 1 }, { b: 2 }]],
    ['a line split across chunks', ['{"st', 'ream":"x"}\n'], [{ stream: 'x' }]],
    ['a last line without newline', ['{"a":1}\n{"b":2}'], [{ a: 1 }, { b: 2 }]],
    ['CRLF line ends and blank lines', ['{"a":1}\r\n\r\n\n{"b":2}\r\n'], [{ a: 1 }, { b: 2 }]],
    ['an empty stream', [], []],
  ])('%s', async (_name, parts, expected) => {
    expect((await collect(parts)).messages).toEqual(expected);
  });

  it('keeps a UTF-8 character split between chunks whole', async () => {
    const bytes = Buffer.from('{"stream":"building… ✓"}\n');
    const at = bytes.indexOf(Buffer.from('…')) + 1; // inside the three bytes of "…"
    const { messages } = await collect([bytes.subarray(0, at), bytes.subarray(at, at + 1), bytes.subarray(at + 1)]);
    expect(messages).toEqual([{ stream: 'building… ✓' }]);
  });

  it('reports a malformed line with its number and goes on', async () => {
    const { messages, bad } = await collect(['{"a":1}\nnot json\n{"b":2}\n']);
    expect(messages).toEqual([{ a: 1 }, { b: 2 }]);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ line: 2, text: 'not json' });
  });

  it('rejects on a malformed line when nobody listens for them', async () => {
    await expect(readJsonLines(chunks(['{"a":1}\n{"b":\n']), () => {})).rejects.toThrow(
      /line 2 of the daemon's answer is not JSON.*\{"b":/,
    );
  });

  it('stops at a throw from the handler', async () => {
    const seen: unknown[] = [];
    const run = readJsonLines(chunks(['{"a":1}\n{"b":2}\n']), (m) => {
      seen.push(m);
      throw new Error('stop');
    });
    await expect(run).rejects.toThrow('stop');
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('gives the same messages however the bytes are chunked', async () => {
    const text = Buffer.from(
      '{"stream":"Step 1/2 : FROM x"}\n{"stream":"\\n"}\n{"stream":"naïve — ünïcödé 日本\\n"}\n{"aux":{"ID":"sha256:ab"}}',
    );
    const whole = await collect([text]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (offsets) => {
        expect(await collect(cut(text, offsets))).toEqual(whole);
      }),
    );
  });
});

describe('LineSplitter', () => {
  it('returns nothing at the end when the stream ended with a newline', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb\n')).toEqual(['a', 'b']);
    expect(s.end()).toBeUndefined();
  });
});
