/**
 * The rack HTTP client: authentication (Basic, the Console's `Rack` header and `Session`
 * challenge), form and raw-stream bodies as the Convox CLI sends them, error answers turned into
 * RackError (a rack name the Console refused, explained from its rack list), and retries that
 * never repeat a write the rack may have acted on.
 *
 * Retry rules: reads are retried on network errors, timeouts and 5xx (bounded, each logged);
 * the object upload too (same key, so repeating it is harmless; its body comes from a factory);
 * other writes only when no connection was ever made, which proves the rack never saw them.
 * Writes go over fresh connections so that proof holds (a stale keep-alive socket would blur it).
 */
import http from 'node:http';
import https from 'node:https';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { exchange, TransportError } from '../net/http.js';
import type { HttpAnswer } from '../net/http.js';
import { rackError, RackError, rackErrorText } from './rack-error.js';
import type { RequestLabel } from './rack-error.js';
import { definedFields } from '../net/defined-fields.js';
import { consoleRackNames, isRackNameRefusal, rackNameError } from './rack-name.js';
import { rackLabel } from './target.js';
import type { RackTarget } from './target.js';
import { DeadlineExceeded, realSleep, retryDelayMs } from './timing.js';
import { encodeForm, parseSessionChallenge } from './wire.js';
import type { FormValue } from './wire.js';
import { readSocket } from './websocket.js';
import type { SocketRead } from './websocket.js';
import type { Sleep } from './timing.js';

export interface ClientOptions {
  log: Log;
  secrets: Secrets;
  signal?: AbortSignal;
  sleep?: Sleep;
  random?: () => number;
  /** e.g. `convox-image-deploy/1.2.0`. */
  userAgent?: string;
  /** Attempts for a read (first try included). */
  readAttempts?: number;
  /** A read whose socket is silent this long is abandoned and retried. */
  readIdleMs?: number;
  now?: () => number;
}

type Kind = 'read' | 'write' | 'upload';
/** A label without the method and path, which the client fills in. */
export type Purpose = Omit<RequestLabel, 'method' | 'path'>;

const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Talks to one rack (directly or through a Console). */
export class RackClient {
  /** HTTP requests and WebSocket upgrades made so far (for the bench and the summary). */
  requests = 0;
  private session: string | undefined;
  private readonly readAgent: http.Agent;
  private readonly writeAgent: http.Agent;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  /** When a request last succeeded (the Console session is known good then). */
  private lastOkAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly target: RackTarget,
    private readonly opts: ClientOptions,
  ) {
    opts.secrets.add(target.password, target.username);
    const tls = { rejectUnauthorized: !target.insecureTls };
    const https_ = target.baseUrl.startsWith('https:');
    this.readAgent = https_ ? new https.Agent({ ...tls, keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.writeAgent = https_ ? new https.Agent({ ...tls, keepAlive: false }) : new http.Agent({ keepAlive: false });
    this.sleep = opts.sleep ?? realSleep;
    this.now = opts.now ?? Date.now;
  }

  /** GET a JSON document; retried. */
  async get<T>(path: string, purpose: Purpose): Promise<T> {
    return parseJson<T>(await this.send('GET', path, undefined, 'read', purpose), purpose.what);
  }

  /** POST a form (a write: never repeated once it may have reached the rack). Returns JSON, or the text (`ok`). */
  async post<T>(path: string, form: Record<string, FormValue>, purpose: Purpose): Promise<T | string> {
    const body = Buffer.from(encodeForm(form));
    const answer = await this.send('POST', path, { body, type: 'application/x-www-form-urlencoded' }, 'write', purpose);
    return answer.headers['content-type']?.includes('json')
      ? parseJson<T>(answer, purpose.what)
      : answer.body.toString('utf8').trim();
  }

  /** PUT a form (a write, as POST); the rack answers the updated record. */
  async put<T>(path: string, form: Record<string, FormValue>, purpose: Purpose): Promise<T> {
    const body = Buffer.from(encodeForm(form));
    const answer = await this.send('PUT', path, { body, type: 'application/x-www-form-urlencoded' }, 'write', purpose);
    return parseJson<T>(answer, purpose.what);
  }

  /** POST a raw stream (object upload); repeated with a fresh stream when it fails. */
  async upload<T>(path: string, body: () => NodeJS.ReadableStream, purpose: Purpose): Promise<T> {
    return parseJson<T>(
      await this.send('POST', path, { body, type: 'application/octet-stream' }, 'upload', purpose),
      purpose.what,
    );
  }

  /**
   * Reads a SOCKET route to its end (see websocket.ts). A WebSocket cannot answer a Session
   * challenge, so in console mode we first make sure one was answered over HTTP, as the CLI
   * does with a throw-away GET (skipped right after a successful request), and retry once
   * after a 401 upgrade.
   */
  async socket(
    path: string,
    opts: { headers?: Record<string, string>; signal?: AbortSignal; onData: (chunk: Buffer) => void; probe: string },
  ): Promise<SocketRead> {
    for (let attempt = 1; ; attempt++) {
      if (this.target.rack && (attempt > 1 || this.now() - this.lastOkAt > 5000)) await this.probe(opts.probe);
      this.requests++;
      const read = await readSocket({
        url: `${this.target.baseUrl.replace(/^http/, 'ws')}${path}`,
        headers: { ...this.baseHeaders(), ...opts.headers },
        rejectUnauthorized: !this.target.insecureTls,
        signal: opts.signal,
        onData: opts.onData,
      });
      if (read.end !== 'refused' || attempt > 1 || !this.target.rack || !/answered 401/.test(read.error ?? '')) return read;
    }
  }

  private async probe(path: string): Promise<void> {
    try {
      await this.send('GET', path, undefined, 'read', { what: 'check the Console session' }, 1);
    } catch (e) {
      if (!(e instanceof ActionError && /does not support/.test(e.message))) throw e;
    }
  }

  close(): void {
    this.readAgent.destroy();
    this.writeAgent.destroy();
  }

  private baseHeaders(): Record<string, string> {
    const auth = Buffer.from(`${this.target.username}:${this.target.password}`).toString('base64');
    return definedFields({
      Authorization: `Basic ${auth}`,
      'User-Agent': this.opts.userAgent ?? 'convox-image-deploy',
      // JSON errors from v3 >= 3.24.1; every other rack answers text, which we parse too.
      Accept: 'application/json, text/plain;q=0.9, */*;q=0.8',
      Rack: this.target.rack,
      Session: this.session,
    });
  }

  private async send(
    method: string,
    path: string,
    body: Body | undefined,
    kind: Kind,
    purpose: Purpose,
    attempts?: number,
  ): Promise<HttpAnswer> {
    const label: RequestLabel = { method, path, ...purpose };
    const max = attempts ?? (kind === 'write' ? 3 : (this.opts.readAttempts ?? 5));
    for (let attempt = 1; ; attempt++) {
      let answer: HttpAnswer;
      try {
        answer = await this.withSession(method, path, body, kind);
      } catch (e) {
        if (attempt < max && this.mayRetry(e, kind)) {
          await this.pause(attempt, label, describeTransport(e));
          continue;
        }
        throw this.transportFailure(e, label);
      }
      if (answer.status >= 500 && kind !== 'write' && attempt < max) {
        await this.pause(attempt, label, `answered ${answer.status}`);
        continue;
      }
      if (answer.status >= 400) {
        const error = rackError(answer.status, answer.body.toString('utf8'), label, this.target, (t) =>
          this.opts.secrets.redact(t),
        );
        if (isRackNameRefusal(this.target, error)) throw await this.rackNameFailure(error);
        throw kind === 'write' && answer.status >= 500 ? mayHaveActed(error, label) : error;
      }
      this.lastOkAt = this.now();
      return answer;
    }
  }

  /**
   * The Console did not take the rack name (refused before any rack saw the request): list its
   * racks as the CLI does, without a `Rack` header, to say which ones could be meant.
   */
  private async rackNameFailure(refusal: RackError): Promise<RackError> {
    const headers = this.baseHeaders();
    delete headers.Rack;
    const redact = (t: string): string => this.opts.secrets.redact(t);
    try {
      const answer = await this.once('GET', '/racks', undefined, 'read', headers);
      if (answer.status >= 400)
        return rackNameError(this.target, refusal, {
          problem: redact(`GET /racks answered ${answer.status}: ${rackErrorText(answer.body.toString('utf8'), answer.status)}`),
        });
      return rackNameError(this.target, refusal, { names: consoleRackNames(safeJson(answer.body)) });
    } catch (e) {
      return rackNameError(this.target, refusal, { problem: redact(describeTransport(e)) });
    }
  }

  private async withSession(method: string, path: string, body: Body | undefined, kind: Kind): Promise<HttpAnswer> {
    const answer = await this.once(method, path, body, kind);
    const challenge = answer.status === 401 ? parseSessionChallenge(answer.headers['www-authenticate']) : undefined;
    if (!challenge) return answer;
    if (challenge.token) {
      throw new ActionError(
        `${rackLabel(this.target)} asks for a hardware security key (Session token="true") for the credential from ${this.target.passwordSource}`,
        { phase: 'deploy' },
        'use a Console deploy key (or the rack password with rack-host pointing at the rack itself); a hardware key cannot be used from CI',
      );
    }
    const opened = await this.once('POST', challenge.path, { body: Buffer.alloc(0), type: 'application/octet-stream' }, 'write');
    const id = opened.status < 300 ? (safeJson(opened.body) as { id?: unknown } | undefined)?.id : undefined;
    if (typeof id !== 'string' || !id) {
      throw new ActionError(
        `${rackLabel(this.target)} did not open a session (POST ${challenge.path} answered ${opened.status})`,
        { phase: 'deploy' },
        'retry; if it persists use a Console deploy key',
      );
    }
    this.opts.secrets.add(id);
    this.session = id;
    return this.once(method, path, body, kind);
  }

  private once(method: string, path: string, body: Body | undefined, kind: Kind, base = this.baseHeaders()): Promise<HttpAnswer> {
    this.requests++;
    const headers: Record<string, string> = { ...base, 'Content-Type': body?.type ?? 'application/octet-stream' };
    if (Buffer.isBuffer(body?.body)) headers['Content-Length'] = String(body.body.length);
    return exchange({
      method,
      url: new URL(`${this.target.baseUrl}${path}`),
      headers,
      body: body?.body,
      agent: kind === 'read' ? this.readAgent : this.writeAgent,
      signal: this.opts.signal,
      idleTimeoutMs: kind === 'read' ? (this.opts.readIdleMs ?? 30_000) : undefined,
    });
  }

  private mayRetry(e: unknown, kind: Kind): boolean {
    if (!(e instanceof TransportError) || this.opts.signal?.aborted) return false;
    if (isCertificateProblem(e.code)) return false; // will not fix itself
    return kind !== 'write' || (!e.sent && NEVER_CONNECTED.has(e.code ?? ''));
  }

  private async pause(attempt: number, label: RequestLabel, why: string): Promise<void> {
    const ms = retryDelayMs(attempt, this.opts.random);
    this.opts.log.info(
      this.opts.secrets.redact(
        `rack: ${label.method} ${label.path} ${why}; retrying in ${(ms / 1000).toFixed(1)}s (attempt ${attempt + 1})`,
      ),
    );
    await this.sleep(ms, this.opts.signal);
  }

  private transportFailure(e: unknown, label: RequestLabel): unknown {
    if (!(e instanceof TransportError)) return e;
    if (e instanceof TransportError && this.opts.signal?.reason instanceof DeadlineExceeded) return this.opts.signal.reason;
    const lost = label.method !== 'GET' && e.sent;
    return new ActionError(
      this.opts.secrets.redact(
        `could not ${label.what} on ${rackLabel(this.target)}: ${describeTransport(e)}` +
          (lost ? ' after the request was sent, so the rack may have acted on it; it was not repeated' : ''),
      ),
      { phase: 'deploy' },
      lost
        ? `check on the rack whether it went through (convox builds / convox releases --app ${label.app ?? '<app>'}), then re-run`
        : isCertificateProblem(e.code)
          ? 'the rack has a self-signed certificate: set rack-insecure-tls: true'
          : `check that ${this.target.baseUrl} is reachable from the runner (from ${this.target.source})`,
      { cause: e },
    );
  }
}

/**
 * A 5xx answer to a write does not prove the rack did nothing (a proxy's 502 after the rack
 * acted, a handler that failed half-way): say so, and how to check, as for a lost answer.
 */
function mayHaveActed(error: RackError, label: RequestLabel): RackError {
  return new RackError(
    `${error.message}; the rack may have acted on it anyway, so it was not repeated`,
    `check on the rack whether it went through (convox builds / convox releases --app ${label.app ?? '<app>'}), then re-run`,
    error.status,
    error.rackMessage,
  );
}

interface Body {
  body: Buffer | (() => NodeJS.ReadableStream);
  type: string;
}

function parseJson<T>(answer: HttpAnswer, what: string): T {
  const parsed = safeJson(answer.body);
  if (parsed === undefined) {
    throw new ActionError(
      `the rack's answer to "${what}" was not JSON (status ${answer.status})`,
      { phase: 'deploy' },
      'check that rack-host points at a Convox rack or Console',
    );
  }
  return parsed as T;
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isCertificateProblem(code: string | undefined): boolean {
  return /SELF_SIGNED|UNABLE_TO_VERIFY|CERT_|ERR_TLS_CERT/.test(code ?? '');
}

function describeTransport(e: unknown): string {
  if (e instanceof TransportError) return `${e.code ? `${e.code}: ` : ''}${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
