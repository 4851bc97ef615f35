/**
 * The HTTP and WebSocket front: records every request, applies request faults, routes through
 * the Console gate (console mode) to a rack, and frames sockets the Convox way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { authenticate, authorize } from './auth.js';
import { consoleGate } from './console.js';
import type { ConsoleGateState } from './console.js';
import { errorFor, rackHttp, rackSocketRoute } from './dispatch.js';
import type { RequestInfo } from './dispatch.js';
import type { RackFaults, RequestFault } from './faults.js';
import { parseBody, readBody } from './http.js';
import type { Reply } from './http.js';
import type { Rack, Timers } from './rack.js';
import { ConvoxSocket } from './sockets/framing.js';
import type { RecordedRequest } from './types.js';

export interface FrontOptions {
  /** The rack answering in direct mode. */
  rack: Rack;
  gate: ConsoleGateState | undefined;
  faults: RackFaults;
  timers: Timers;
  requests: RecordedRequest[];
}

export class Front {
  readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(private readonly o: FrontOptions) {}

  /** Plain HTTP requests. */
  async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const info = requestInfo(req);
    const record = this.record(req, info, false);
    const parsed = parseBody(info.method, header(req, 'content-type'), await readBody(req));
    Object.assign(info, { form: parsed.form, raw: parsed.raw });
    record.form = parsed.form;
    record.bodyBytes = parsed.bytes;
    const fault = await this.fault(info);
    if (fault && !fault.after && (fault.reset || fault.status)) return this.applyFault(fault, req.socket, res, record);
    const reply = await this.answer(info);
    if (fault?.after && (fault.reset || fault.status)) return this.applyFault(fault, req.socket, res, record);
    record.status = reply.status;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    res.end(reply.body);
  }

  /** WebSocket upgrades (SOCKET routes). Failures before the upgrade are plain HTTP answers. */
  async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const info = requestInfo(req);
    const record = this.record(req, info, true);
    const fault = await this.fault(info);
    if (fault && (fault.reset || fault.status)) return this.applyFault(fault, socket, undefined, record);
    let rack = this.o.rack;
    let viaConsole = false;
    if (this.o.gate) {
      const gate = consoleGate(this.o.gate, info.method, info.path, info.headers);
      if ('reply' in gate) return writeRaw(socket, gate.reply, record);
      rack = gate.rack;
      viaConsole = true;
      info.deployKey = gate.deployKey;
    }
    const m = rackSocketRoute(rack, info);
    if ('status' in m) return writeRaw(socket, m, record);
    if (!m.route.socket) return writeRaw(socket, await rackHttp(rack, info, viaConsole), record);
    if (!originAllowed(req)) return writeRaw(socket, originRefusal(), record);
    const handler = m.route.socket;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      record.status = 101;
      const sock = new ConvoxSocket(ws, this.o.faults.takeSocket(info.path));
      void (async () => {
        try {
          // stdapi authenticates inside the handler chain, i.e. after the upgrade.
          if (!viaConsole) authorize(authenticate(rack, info.headers), 'GET');
          await handler({ ...info, rack, params: m.params }, sock);
        } catch (e) {
          sock.error(errorFor(rack, e, false).body.toString('utf8').trimEnd());
        }
        sock.eof();
      })();
    });
  }

  private async answer(info: RequestInfo): Promise<Reply> {
    if (!this.o.gate) return rackHttp(this.o.rack, info, false);
    const gate = consoleGate(this.o.gate, info.method, info.path, info.headers);
    if ('reply' in gate) return gate.reply;
    return rackHttp(gate.rack, { ...info, deployKey: gate.deployKey }, true);
  }

  private record(req: IncomingMessage, info: RequestInfo, websocket: boolean): RecordedRequest {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const r: RecordedRequest = {
      method: info.method,
      path: info.path,
      query: Object.fromEntries(info.query),
      headers,
      form: {},
      bodyBytes: 0,
      websocket,
      status: 0,
      at: Date.now(),
    };
    this.o.requests.push(r);
    return r;
  }

  private async fault(info: RequestInfo): Promise<RequestFault | undefined> {
    const fault = this.o.faults.takeRequest(info.method, info.path);
    if (fault?.delayMs) await this.o.timers.sleep(fault.delayMs);
    return fault;
  }

  private applyFault(fault: RequestFault, socket: Duplex, res: ServerResponse | undefined, record: RecordedRequest): void {
    if (fault.reset) {
      record.status = 0;
      socket.destroy();
      return;
    }
    const status = fault.status ?? 500;
    const body = Buffer.from(fault.body ?? `${STATUS_CODES[status] ?? 'Error'}\n`);
    const reply: Reply = { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
    if (!res) return writeRaw(socket, reply, record);
    record.status = status;
    res.writeHead(status, { ...reply.headers, 'content-length': String(body.length) });
    res.end(body);
  }
}

function requestInfo(req: IncomingMessage): RequestInfo {
  // Split by hand: URL parsing would resolve `..`, and the rack's router does not clean paths.
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  let path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  try {
    path = decodeURIComponent(path);
  } catch {
    // Go keeps going with what it could decode; the raw path is close enough here.
  }
  return {
    method: req.method ?? 'GET',
    path,
    query,
    headers: req.headers,
    form: {},
    raw: Buffer.alloc(0),
    deployKey: false,
  };
}

function header(req: IncomingMessage, name: string): string {
  const h = req.headers[name];
  return (Array.isArray(h) ? h[0] : h) ?? '';
}

/** gorilla's default check: an Origin, if present, must name the Host. */
function originAllowed(req: IncomingMessage): boolean {
  const origin = header(req, 'origin');
  if (!origin) return true;
  try {
    return new URL(origin).host.toLowerCase() === header(req, 'host').toLowerCase();
  } catch {
    return false;
  }
}

/** gorilla writes `Forbidden`, then stdapi appends its `ERROR:` line to the same body. */
function originRefusal(): Reply {
  return {
    status: 403,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'sec-websocket-version': '13',
      'x-content-type-options': 'nosniff',
    },
    body: Buffer.from('Forbidden\nERROR: websocket: request origin not allowed by Upgrader.CheckOrigin\n'),
  };
}

/** An HTTP answer written straight onto an upgrade request's socket. */
function writeRaw(socket: Duplex, reply: Reply, record: RecordedRequest): void {
  record.status = reply.status;
  const head = [
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`,
    ...Object.entries(reply.headers).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${reply.body.length}`,
    'connection: close',
    '',
    '',
  ].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(head), reply.body]));
}
