/**
 * Reads a stream of newline-delimited JSON, as the Engine API sends for build, pull and push.
 * Chunks may split lines and UTF-8 sequences anywhere; the last line may lack its newline.
 */
import { StringDecoder } from 'node:string_decoder';

/** A line that was not JSON, handed to `onMalformed` rather than dropped. */
export interface MalformedLine {
  /** 1-based line number in the stream. */
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

export interface JsonLinesOptions {
  /** Told about each line that does not parse; without it such a line rejects the promise. */
  readonly onMalformed?: (bad: MalformedLine) => void;
  readonly signal?: AbortSignal;
}

/**
 * Calls `onMessage` for each JSON value in `stream`, in order, and resolves when the stream ends.
 * A throw from `onMessage` stops reading and rejects. Blank lines are skipped.
 */
export async function readJsonLines(
  stream: AsyncIterable<Buffer | string>,
  onMessage: (message: unknown, line: number) => void,
  options: JsonLinesOptions = {},
): Promise<void> {
  const splitter = new LineSplitter();
  let lineNo = 0;
  const handle = (text: string): void => {
    lineNo++;
    const trimmed = text.trim();
    if (trimmed === '') return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      const bad = { line: lineNo, text: trimmed, reason: e instanceof Error ? e.message : String(e) };
      if (!options.onMalformed)
        throw new Error(`line ${bad.line} of the daemon's answer is not JSON (${bad.reason}): ${clip(bad.text)}`);
      options.onMalformed(bad);
      return;
    }
    onMessage(value, lineNo);
  };
  for await (const chunk of stream) {
    options.signal?.throwIfAborted();
    for (const line of splitter.push(chunk)) handle(line);
  }
  const rest = splitter.end();
  if (rest !== undefined) handle(rest);
}

/** Splits text arriving in arbitrary chunks into lines; keeps UTF-8 sequences whole. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** The complete lines that `chunk` finishes, without their `\n` (a `\r` before it is dropped too). */
  push(chunk: Buffer | string): string[] {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.map(stripCr);
  }

  /** The last line if the stream did not end with a newline. */
  end(): string | undefined {
    const text = this.pending + this.decoder.end();
    this.pending = '';
    return text === '' ? undefined : stripCr(text);
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
