/**
 * A tiny registry stand-in on 127.0.0.1:0: each test scripts the answers, and every request is
 * recorded (method, path, query, headers, body) so tests can assert what the client sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryLog } from '../../../src/log.js';
import { parseReference, type ImageReference } from '../../../src/image/reference.js';
import type { RegistryClientOptions } from '../../../src/registry/client.js';
import { Secrets } from '../../../src/secrets.js';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorization?: string;
  readonly accept?: string;
  readonly userAgent?: string;
  readonly contentType?: string;
  readonly body: string;
}

export type Handler = (req: Seen, res: ServerResponse, n: number) => void;

export interface StandIn {
  readonly host: string;
  readonly seen: Seen[];
  ref(text: string): ImageReference;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts a stand-in on 127.0.0.1:`port` (default: any free port). */
export async function startStandIn(handler: Handler, port = 0): Promise<StandIn> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const entry: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: req.headers.authorization,
        accept: req.headers.accept,
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        body,
      };
      seen.push(entry);
      handler(entry, res, seen.length);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    seen,
    ref: (text) => parseReference(`${host}/${text}`),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void {
  res.writeHead(status, headers);
  res.end(body);
}

export const basicOf = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Options with a recording log, fresh secrets and a fake sleep that records its waits. */
export function clientOptions(
  extra: Partial<Omit<RegistryClientOptions, 'log'>> = {},
): RegistryClientOptions & { log: MemoryLog; waits: number[] } {
  const waits: number[] = [];
  return {
    log: new MemoryLog(),
    secrets: new Secrets(),
    sleep: async (ms: number) => {
      waits.push(ms);
    },
    random: () => 0.5,
    waits,
    ...extra,
  };
}
