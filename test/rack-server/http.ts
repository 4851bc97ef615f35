/**
 * Request bodies and responses the way Go's net/http + stdapi handle them: form parsing that
 * swallows urlencoded/multipart bodies, pretty JSON with Go's HTML escaping, `ok\n`, and errors
 * as text unless a v3 ≥ 3.24.1 rack is asked for JSON (doc §1, §1).
 */
import type { IncomingMessage } from 'node:http';
import { randomHex } from './clock.js';

/** What a handler answers; headers are merged over the rack's defaults. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ParsedBody {
  /** Fields from an urlencoded or multipart body. */
  form: Record<string, string>;
  /** The body as a raw-reading handler sees it: empty when the form parser consumed it. */
  raw: Buffer;
  bytes: number;
}

/** Read the whole body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Go's `ParseMultipartForm`: only POST/PUT/PATCH bodies with a form content type are parsed, and
 * then the body is gone for handlers that read it raw (why objects must be octet-stream).
 */
export function parseBody(method: string, contentType: string, body: Buffer): ParsedBody {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const parses = ['POST', 'PUT', 'PATCH'].includes(method);
  if (parses && type === 'application/x-www-form-urlencoded') {
    return { form: firstValues(new URLSearchParams(body.toString('latin1'))), raw: Buffer.alloc(0), bytes: body.length };
  }
  if (parses && type === 'multipart/form-data') {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    return { form: boundary ? parseMultipart(body, boundary) : {}, raw: Buffer.alloc(0), bytes: body.length };
  }
  return { form: {}, raw: body, bytes: body.length };
}

/** First value of each name, decoded as UTF-8 (URLSearchParams decodes percent-escapes as UTF-8). */
export function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    const key = Buffer.from(k, 'latin1').toString('utf8');
    if (!(key in out)) out[key] = Buffer.from(v, 'latin1').toString('utf8');
  }
  return out;
}

/** Plain fields of a multipart body; file parts (filename=…) are skipped. */
function parseMultipart(body: Buffer, boundary: string): Record<string, string> {
  const out: Record<string, string> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const value = part.subarray(headerEnd + 4, part.length - 2).toString('utf8');
      if (name !== undefined && !/filename=/i.test(head) && !(name in out)) out[name] = value;
    }
    at = next;
  }
  return out;
}

/** Go's `json.MarshalIndent(v, "", "  ")` plus newline: HTML characters escaped as Go does. */
export function goJson(value: unknown): string {
  return (
    JSON.stringify(value, null, 2)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029') + '\n'
  );
}

/** A handler's JSON answer. */
export function jsonReply(value: unknown, status = 200): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(goJson(value)) };
}

/** `ok\n`, typed by Go's content sniffing. */
export function okReply(): Reply {
  return textReply('ok\n');
}

/** Plain text (sniffed as text/plain by Go). */
export function textReply(text: string, status = 200): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(text) };
}

/** Raw bytes with the content type Go's sniffer would pick for the common cases. */
export function bytesReply(bytes: Buffer): Reply {
  return { status: 200, headers: { 'content-type': sniff(bytes) }, body: bytes };
}

function sniff(bytes: Buffer): string {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'application/x-gzip';
  const head = bytes.subarray(0, 512);
  const binary = head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

/** An empty-bodied answer (unknown route 404, mux's 405). */
export function emptyReply(status: number): Reply {
  return { status, headers: {}, body: Buffer.alloc(0) };
}

/**
 * stdapi's error writer: JSON `{"error":…}` (compact, newline) when asked and supported, else
 * Go's `http.Error` (text/plain, message + newline, nosniff).
 */
export function errorReply(status: number, message: string, json: boolean): Reply {
  if (json) {
    const body = JSON.stringify({ error: message }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
    return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(`${body}\n`) };
  }
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: Buffer.from(`${message}\n`),
  };
}

/** stdapi's `acceptsJSON`: any comma-separated media range equal to application/json. */
export function acceptsJson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0]?.trim() === 'application/json');
}

/** A `Request-Id`: 12 hex characters. */
export function requestId(): string {
  return randomHex(12);
}
