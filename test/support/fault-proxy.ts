/**
 * A small fault-injecting HTTP proxy for the registry: it forwards to the real registry on
 * loopback and, per rule, answers an error instead (429 with Retry-After, 503, a body of the
 * test's choosing), resets the connection mid-request, delays, or never answers. The engine
 * pushes to the proxy's port; 127.0.0.0/8 is an insecure registry for Docker by default, so
 * plain HTTP works. Every request is recorded with what the proxy did to it.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction =
  /** Answer this instead of forwarding; `body` may be built from the request (to echo its headers). */
  | { status: number; headers?: Record<string, string>; body?: string | ((req: IncomingMessage) => string) }
  /** Destroy the connection after the first body chunk arrives (or at once when there is none). */
  | 'reset'
  /** Accept the request and never answer. */
  | 'hang'
  /** Forward after a delay. */
  | { delayMs: number };

export interface FaultRule {
  method?: RegExp;
  path: RegExp;
  /** Only requests whose headers pass (e.g. the engine's User-Agent, not the action's). */
  when?: (req: IncomingMessage) => boolean;
  /** How many matching requests to hit (default 1; Infinity for all). */
  times?: number;
  action: FaultAction;
}

export interface ProxiedRequest {
  method: string;
  url: string;
  userAgent: string;
  /** performance.now() when it arrived. */
  at: number;
  /** `forwarded`, or what the matching rule did. */
  fate: 'forwarded' | 'answered' | 'reset' | 'hang' | 'delayed';
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private rules: (FaultRule & { left: number })[] = [];
  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** `127.0.0.1:<port>`, to use as the registry host in image names. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests a rule acted on, as `METHOD url`. */
  get hits(): string[] {
    return this.requests.filter((r) => r.fate !== 'forwarded').map((r) => `${r.method} ${r.url}`);
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const entry: ProxiedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      userAgent: String(req.headers['user-agent'] ?? ''),
      at: performance.now(),
      fate: 'forwarded',
    };
    this.requests.push(entry);
    const rule = this.rules.find(
      (r) =>
        r.left > 0 && r.path.test(req.url ?? '') && (!r.method || r.method.test(req.method ?? '')) && (!r.when || r.when(req)),
    );
    if (!rule) return this.forward(req, res);
    rule.left--;
    const a = rule.action;
    if (a === 'reset') {
      entry.fate = 'reset';
      // Read a little of the body first, so the reset lands mid-upload.
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
      return;
    }
    if (a === 'hang') {
      entry.fate = 'hang';
      req.resume();
      return;
    }
    if ('status' in a) {
      entry.fate = 'answered';
      req.resume();
      const body =
        typeof a.body === 'function'
          ? a.body(req)
          : (a.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${a.status}` }] }));
      res.writeHead(a.status, {
        'Content-Type': 'application/json',
        'Docker-Distribution-Api-Version': 'registry/2.0',
        ...a.headers,
      });
      res.end(body);
      return;
    }
    entry.fate = 'delayed';
    const timer = setTimeout(() => this.forward(req, res), a.delayMs);
    req.socket.once('close', () => clearTimeout(timer));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const [host, port] = this.target.split(':');
    const headers = { ...req.headers, host: this.target };
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (u) => {
      // Location headers name the real registry; point them back at the proxy.
      const h = { ...u.headers };
      if (typeof h.location === 'string') h.location = h.location.replace(this.target, this.host);
      res.writeHead(u.statusCode ?? 502, h);
      u.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}
