/**
 * Follows: moby/buildkit api/services/control/control.proto (StatusResponse).
 *
 * Decodes `moby.buildkit.trace` messages: the base64 `aux` of a BuildKit build's JSON lines is a
 * `moby.buildkit.v1.StatusResponse` (moby/buildkit api/services/control/control.proto).
 * Field numbers below are that file's; unknown fields are skipped so newer daemons still parse.
 */
import { fieldBytes, fieldNumber, fieldText, readFields } from './protobuf.js';

/** One step of the build graph (a Dockerfile instruction, a context load, the export). */
export interface Vertex {
  readonly digest: string;
  readonly inputs: readonly string[];
  readonly name: string;
  readonly cached: boolean;
  /** Milliseconds since the epoch, when present. */
  readonly started?: number;
  readonly completed?: number;
  readonly error: string;
  readonly progressGroup?: { readonly id: string; readonly name: string; readonly weak: boolean };
}

/** Progress of one piece of work inside a vertex (a layer download, "exporting layers"). */
export interface VertexStatus {
  readonly id: string;
  readonly vertex: string;
  readonly name: string;
  readonly current: number;
  readonly total: number;
  readonly timestamp?: number;
  readonly started?: number;
  readonly completed?: number;
}

/** Output a vertex wrote: `stream` 1 is stdout, 2 stderr. `msg` is raw bytes, any chunking. */
export interface VertexLog {
  readonly vertex: string;
  readonly timestamp?: number;
  readonly stream: number;
  readonly msg: Buffer;
}

export interface SourcePosition {
  readonly line: number;
  readonly character: number;
}
export interface SourceRange {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

/** A build check warning (BuildKit ≥ 0.11): the Dockerfile position is in `source` + `ranges`. */
export interface VertexWarning {
  readonly vertex: string;
  readonly level: number;
  readonly short: string;
  readonly detail: readonly string[];
  readonly url: string;
  readonly source?: { readonly filename: string; readonly data: Buffer };
  readonly ranges: readonly SourceRange[];
}

export interface StatusResponse {
  readonly vertexes: readonly Vertex[];
  readonly statuses: readonly VertexStatus[];
  readonly logs: readonly VertexLog[];
  readonly warnings: readonly VertexWarning[];
}

/** Decodes the base64 `aux` string of a `moby.buildkit.trace` line. */
export function decodeTrace(aux: string): StatusResponse {
  return decodeStatusResponse(Buffer.from(aux, 'base64'));
}

/** Decodes a StatusResponse message. Throws ProtobufError on malformed bytes. */
export function decodeStatusResponse(buf: Uint8Array): StatusResponse {
  const out = {
    vertexes: [] as Vertex[],
    statuses: [] as VertexStatus[],
    logs: [] as VertexLog[],
    warnings: [] as VertexWarning[],
  };
  for (const f of readFields(buf)) {
    if (f.field === 1) out.vertexes.push(decodeVertex(fieldBytes(f)));
    else if (f.field === 2) out.statuses.push(decodeStatus(fieldBytes(f)));
    else if (f.field === 3) out.logs.push(decodeLog(fieldBytes(f)));
    else if (f.field === 4) out.warnings.push(decodeWarning(fieldBytes(f)));
  }
  return out;
}

function decodeVertex(buf: Buffer): Vertex {
  const v: { -readonly [K in keyof Vertex]: Vertex[K] } = { digest: '', inputs: [], name: '', cached: false, error: '' };
  const inputs: string[] = [];
  for (const f of readFields(buf)) {
    switch (f.field) {
      case 1:
        v.digest = fieldText(f);
        break;
      case 2:
        inputs.push(fieldText(f));
        break;
      case 3:
        v.name = fieldText(f);
        break;
      case 4:
        v.cached = fieldNumber(f) !== 0;
        break;
      case 5:
        v.started = decodeTimestamp(fieldBytes(f));
        break;
      case 6:
        v.completed = decodeTimestamp(fieldBytes(f));
        break;
      case 7:
        v.error = fieldText(f);
        break;
      case 8:
        v.progressGroup = decodeProgressGroup(fieldBytes(f));
        break;
    }
  }
  return { ...v, inputs };
}

function decodeStatus(buf: Buffer): VertexStatus {
  const s: { -readonly [K in keyof VertexStatus]: VertexStatus[K] } = { id: '', vertex: '', name: '', current: 0, total: 0 };
  for (const f of readFields(buf)) {
    switch (f.field) {
      case 1:
        s.id = fieldText(f);
        break;
      case 2:
        s.vertex = fieldText(f);
        break;
      case 3:
        s.name = fieldText(f);
        break;
      case 4:
        s.current = fieldNumber(f);
        break;
      case 5:
        s.total = fieldNumber(f);
        break;
      case 6:
        s.timestamp = decodeTimestamp(fieldBytes(f));
        break;
      case 7:
        s.started = decodeTimestamp(fieldBytes(f));
        break;
      case 8:
        s.completed = decodeTimestamp(fieldBytes(f));
        break;
    }
  }
  return s;
}

function decodeLog(buf: Buffer): VertexLog {
  const l: { -readonly [K in keyof VertexLog]: VertexLog[K] } = { vertex: '', stream: 0, msg: Buffer.alloc(0) };
  for (const f of readFields(buf)) {
    switch (f.field) {
      case 1:
        l.vertex = fieldText(f);
        break;
      case 2:
        l.timestamp = decodeTimestamp(fieldBytes(f));
        break;
      case 3:
        l.stream = fieldNumber(f);
        break;
      case 4:
        l.msg = fieldBytes(f);
        break;
    }
  }
  return l;
}

function decodeWarning(buf: Buffer): VertexWarning {
  const w: { -readonly [K in keyof VertexWarning]: VertexWarning[K] } = {
    vertex: '',
    level: 0,
    short: '',
    detail: [],
    url: '',
    ranges: [],
  };
  const detail: string[] = [];
  const ranges: SourceRange[] = [];
  for (const f of readFields(buf)) {
    switch (f.field) {
      case 1:
        w.vertex = fieldText(f);
        break;
      case 2:
        w.level = fieldNumber(f);
        break;
      case 3:
        w.short = fieldText(f);
        break;
      case 4:
        detail.push(fieldText(f));
        break;
      case 5:
        w.url = fieldText(f);
        break;
      case 6:
        w.source = decodeSourceInfo(fieldBytes(f));
        break;
      case 7:
        ranges.push(decodeRange(fieldBytes(f)));
        break;
    }
  }
  return { ...w, detail, ranges };
}

/** google.protobuf.Timestamp (seconds = 1, nanos = 2) as milliseconds since the epoch. */
function decodeTimestamp(buf: Buffer): number {
  let seconds = 0;
  let nanos = 0;
  for (const f of readFields(buf)) {
    if (f.field === 1) seconds = fieldNumber(f);
    else if (f.field === 2) nanos = fieldNumber(f);
  }
  return seconds * 1000 + nanos / 1e6;
}

/** pb.ProgressGroup (solver/pb/ops.proto): id = 1, name = 2, weak = 3. */
function decodeProgressGroup(buf: Buffer): NonNullable<Vertex['progressGroup']> {
  const g = { id: '', name: '', weak: false };
  for (const f of readFields(buf)) {
    if (f.field === 1) g.id = fieldText(f);
    else if (f.field === 2) g.name = fieldText(f);
    else if (f.field === 3) g.weak = fieldNumber(f) !== 0;
  }
  return g;
}

/** pb.SourceInfo: filename = 1, data = 2 (definition = 3 and language = 4 are not needed). */
function decodeSourceInfo(buf: Buffer): NonNullable<VertexWarning['source']> {
  let filename = '';
  let data: Buffer = Buffer.alloc(0);
  for (const f of readFields(buf)) {
    if (f.field === 1) filename = fieldText(f);
    else if (f.field === 2) data = fieldBytes(f);
  }
  return { filename, data };
}

/** pb.Range: start = 1, end = 2, each a pb.Position (line = 1, character = 2). */
function decodeRange(buf: Buffer): SourceRange {
  let start: SourcePosition = { line: 0, character: 0 };
  let end: SourcePosition = { line: 0, character: 0 };
  for (const f of readFields(buf)) {
    if (f.field === 1) start = decodePosition(fieldBytes(f));
    else if (f.field === 2) end = decodePosition(fieldBytes(f));
  }
  return { start, end };
}

function decodePosition(buf: Buffer): SourcePosition {
  let line = 0;
  let character = 0;
  for (const f of readFields(buf)) {
    if (f.field === 1) line = fieldNumber(f);
    else if (f.field === 2) character = fieldNumber(f);
  }
  return { line, character };
}
