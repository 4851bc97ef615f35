/**
 * A small fault-injecting HTTP proxy for the registry: it forwards to the real registry on
 * loopback and, per rule, answers an error instead (429 with Retry-After, 503), resets the
 * connection mid-request, or delays. The engine pushes to the proxy's port; 127.0.0.0/8 is an
 * insecure registry for Docker by default, so plain HTTP works.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  method?: RegExp;
  path: RegExp;
  /** How many matching requests to hit (default 1; Infinity for all). */
  times?: number;
  action: { status: number; headers?: Record<string, string>; body?: string } | 'reset' | { delayMs: number };
}

export class FaultProxy {
  readonly hits: string[] = [];
  readonly log: string[] = [];
  private rules: (FaultRule & { left: number })[] = [];
  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const line = `${req.method} ${req.url}`;
    this.log.push(line);
    const rule = this.rules.find((r) => r.left > 0 && r.path.test(req.url ?? '') && (!r.method || r.method.test(req.method ?? '')));
    if (rule) {
      rule.left--;
      this.hits.push(line);
      const a = rule.action;
      if (a === 'reset') {
        // Read a little of the body first, so the reset lands mid-upload.
        req.once('data', () => req.socket.destroy());
        req.once('end', () => req.socket.destroy());
        return;
      }
      if ('status' in a) {
        req.resume();
        res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
        res.end(a.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${a.status}` }] }));
        return;
      }
      setTimeout(() => this.forward(req, res), a.delayMs);
      return;
    }
    this.forward(req, res);
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
