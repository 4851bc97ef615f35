/**
 * Convox WebSocket framing (doc §1): each server write is text frames of arbitrary bytes (we
 * deliberately cut through lines and even UTF-8 sequences, which Go never checks), an `ERROR:`
 * text frame on failure, and an empty binary frame as EOF — after which the server does not close.
 */
import type { WebSocket } from 'ws';
import type { SocketFault } from '../faults.js';
import type { LogSocket } from '../router.js';

/** Frame sizes cycle through these so line boundaries and frames never line up for long. */
const SIZES = [7, 19, 3, 41, 11, 64, 2, 29, 120, 5];

export class ConvoxSocket implements LogSocket {
  private frames = 0;
  private sizeIndex = 0;
  private dropped = false;
  /** A `failSocket` fault has ended the stream; the handler's later writes go nowhere. */
  private failed = false;
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    private readonly fault: SocketFault | undefined,
  ) {
    ws.on('close', () => {
      for (const fn of this.closeHandlers) fn();
    });
    // The SDK pings every 5 s; `ws` answers pings by itself. Client frames are ignored here.
    ws.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.dropped || this.failed || this.ws.readyState !== this.ws.OPEN;
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHandlers.push(fn);
  }

  async write(data: string | Buffer): Promise<void> {
    this.sendFramed(typeof data === 'string' ? Buffer.from(data) : data);
    // At a write's end, so the report starts a line as the rack's own writes do.
    if (this.fault?.error !== undefined && this.frames >= this.fault.afterFrames && !this.closed)
      this.failStream(this.fault.error);
  }

  private sendFramed(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.closed) {
      const size = SIZES[this.sizeIndex++ % SIZES.length] ?? 16;
      this.sendFrame(bytes.subarray(at, at + size));
      at += size;
    }
  }

  /** One text frame; a socket fault may destroy the connection after it. */
  private sendFrame(chunk: Buffer): void {
    this.ws.send(chunk, { binary: false });
    this.frames += 1;
    if (this.fault && this.fault.error === undefined && this.frames >= this.fault.afterFrames) this.drop();
  }

  /** `ERROR: …` then EOF, and nothing more: the rack gave up on this stream. */
  private failStream(message: string): void {
    this.sendFramed(Buffer.from(`ERROR: ${message}\n`));
    this.eof();
    this.failed = true;
  }

  /** Kill the TCP connection: no EOF frame, no close frame. */
  drop(): void {
    this.dropped = true;
    this.ws.terminate();
  }

  error(message: string): void {
    if (!this.closed) this.ws.send(Buffer.from(`ERROR: ${message}\n`), { binary: false });
  }

  /** The empty binary frame that means EOF. */
  eof(): void {
    if (!this.closed) this.ws.send(Buffer.alloc(0), { binary: true });
  }
}
