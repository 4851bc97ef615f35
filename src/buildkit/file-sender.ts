/**
 * Follows: tonistiigi/fsutil send.go.
 *
 * Moves a listing's bytes over a DiffCopy call, as tonistiigi/fsutil's send.go does: a STAT
 * packet per entry (its index is the id BuildKit asks by), an empty STAT to end the listing,
 * DATA packets for each file BuildKit requests (and an empty DATA to end each file), FIN for
 * FIN, and an ERR packet with the message when the walk fails. Decides nothing about what is
 * sent. Packets are encoded straight into ~64 KB batches, one HTTP/2 write each: on a fresh
 * runner BuildKit asks for thousands of small files while the daemon needs the CPU too.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { ContextEntry, EntryKind } from '../context/filter.js';
import { unreadable } from '../context/filter.js';
import {
  canRequestData,
  dataPacketSize,
  errorPacket,
  PacketType,
  statFields,
  statPacketSize,
  typeOnlyPacket,
  writeDataPacket,
  writeStatPacket,
} from './fsutil-wire.js';
import { frameHeader, type ServerCall } from './grpc-server.js';
import { ProtobufError, readVarint, WireType } from './protobuf.js';

const CHUNK = 32 * 1024;
/** Bytes of packets per HTTP/2 write, for the listing and for the files' data. */
const BATCH = 64 * 1024;
/** Below this, a flush copies its bytes out and keeps the batch buffer. */
const SMALL_FLUSH = 16 * 1024;
/** The longest the listing runs before letting the event loop answer BuildKit's requests. */
const SLICE_MS = 2;

interface Requestable {
  readonly path: string;
  readonly abs: string;
  readonly kind: EntryKind;
  readonly size: bigint;
}

/**
 * Sends the STAT packets of `entries` and the empty STAT that ends them, registering each file
 * with `sender` under its id. A walk error goes out as an ERR packet and is thrown.
 */
export async function sendListing(
  call: ServerCall,
  listing: Iterable<ContextEntry>,
  sender: FileSender,
  resetOwner: boolean,
): Promise<void> {
  const entries = listing[Symbol.iterator]();
  const batch = new FrameBatch((frames) => call.sendFramed(frames));
  let id = 0;
  let slice = Date.now();
  try {
    for (let next = entries.next(); !next.done; next = entries.next()) {
      const entry = next.value;
      const fields = statFields(entry, resetOwner);
      if (canRequestData(fields.mode)) sender.register(id, entry);
      batch.stat(fields);
      id++;
      if (batch.full) await batch.flush();
      if ((id & 127) === 0 && Date.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
  } catch (e) {
    await batch.flush();
    await call.send(errorPacket(e instanceof Error ? e.message : String(e)));
    throw e;
  }
  batch.message(typeOnlyPacket(PacketType.STAT));
  await batch.flush();
}

/** Answers BuildKit's REQs in order with each file's DATA packets; FIN ends the call. */
export class FileSender {
  private readonly files = new Map<number, Requestable>();
  private readonly pending: Requestable[] = [];
  private readonly ids: number[] = [];
  private running: Promise<void> | undefined;
  private readonly out: FrameBatch;
  /** One read buffer for every file: its bytes are copied into the batch. */
  private readonly scratch = Buffer.allocUnsafe(CHUNK);

  constructor(
    private readonly call: ServerCall,
    private readonly onFailure: (error: unknown) => void,
    /** Bytes read ahead with the listing's stat (ContextPrefetch), sent instead of reading the file again. */
    private readonly readAhead?: (abs: string, size: bigint) => Buffer | undefined,
  ) {
    this.out = new FrameBatch((frames) => call.sendFramed(frames));
  }

  register(id: number, entry: ContextEntry): void {
    this.files.set(id, { path: entry.path, abs: entry.abs, kind: entry.kind, size: entry.stats.size });
  }

  /** One packet from BuildKit. Throws for a request fsutil would refuse. */
  receive(packet: Buffer): void {
    const { type, id, data } = decodePacket(packet);
    if (type === PacketType.REQ) {
      const file = this.files.get(id);
      if (!file) throw new Error(`invalid file id ${id}`);
      this.files.delete(id);
      this.pending.push(file);
      this.ids.push(id);
      // Start on the next microtask, once every REQ of the chunk being read is queued: the
      // files they ask for then go out in one write, not one write each.
      this.running ??= Promise.resolve()
        .then(() => this.pump())
        .finally(() => (this.running = undefined));
      this.running.catch((e: unknown) => this.onFailure(e));
    } else if (type === PacketType.FIN) {
      this.drained()
        .then(() => this.call.send(typeOnlyPacket(PacketType.FIN)))
        .then(
          () => this.call.end(),
          (e: unknown) => this.onFailure(e),
        );
    } else if (type === PacketType.ERR) {
      throw new Error(`error from receiver: ${data}`);
    }
  }

  private async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pump(): Promise<void> {
    for (;;) {
      const file = this.pending.shift();
      const id = this.ids.shift();
      if (file === undefined || id === undefined) {
        await this.out.flush();
        if (this.pending.length === 0) return;
        continue;
      }
      const kept = this.readAhead?.(file.abs, file.size);
      if (kept !== undefined) {
        this.out.data(id, kept);
        this.out.data(id, undefined);
        if (this.out.full) await this.out.flush();
        continue;
      }
      const fd = this.open(file);
      try {
        for (let n = fd === undefined ? 0 : this.read(fd, file); n > 0; n = this.read(fd!, file)) {
          this.out.data(id, this.scratch.subarray(0, n));
          if (this.out.full) await this.out.flush();
        }
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      // An empty DATA packet ends the file.
      this.out.data(id, undefined);
      if (this.out.full) await this.out.flush();
    }
  }

  /**
   * Opens a requested file. fsutil sends a file it cannot open as empty; a socket (listed as an
   * empty regular file) is sent so, but any other file that cannot be read fails the build,
   * naming it: an image must not ship an empty file where the context has one with content.
   */
  private open(file: Requestable): number | undefined {
    try {
      return openSync(file.abs, 'r');
    } catch (e) {
      if (file.kind === 'socket') return undefined;
      throw unreadable(file.path, e);
    }
  }

  private read(fd: number, file: Requestable): number {
    try {
      return readSync(fd, this.scratch, 0, CHUNK, null);
    } catch (e) {
      throw unreadable(file.path, e);
    }
  }
}

/** gRPC messages gathered in one buffer and handed to `sink` ~64 KB at a time (one HTTP/2 write each). */
class FrameBatch {
  private buf = Buffer.allocUnsafe(2 * BATCH);
  private size = 0;

  constructor(private readonly sink: (frames: Buffer) => Promise<void>) {}

  /** Holds BATCH bytes or more: time to flush. */
  get full(): boolean {
    return this.size >= BATCH;
  }

  /** Appends an encoded message. */
  message(m: Buffer): void {
    this.reserve(5 + m.length);
    frameHeader(this.buf, this.size, m.length);
    this.size += 5 + m.copy(this.buf, this.size + 5);
  }

  /** Appends a STAT packet, encoded in place. */
  stat(fields: ReturnType<typeof statFields>): void {
    const body = statPacketSize(fields);
    this.reserve(5 + body);
    frameHeader(this.buf, this.size, body);
    this.size = writeStatPacket(this.buf, this.size + 5, fields);
  }

  /** Appends a DATA packet, encoded in place; no data ends the file. */
  data(id: number, data: Buffer | undefined): void {
    const body = dataPacketSize(id, data?.length ?? 0);
    this.reserve(5 + body);
    frameHeader(this.buf, this.size, body);
    this.size = writeDataPacket(this.buf, this.size + 5, id, data);
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    // The sink holds on to what it was given until it is written. A full batch is handed over
    // and a new buffer taken; a small one (a few small files answered at once) is copied out, so
    // thousands of small answers do not each cost a fresh 128 KB buffer (and the GC to match).
    let out: Buffer;
    if (this.size >= SMALL_FLUSH) {
      out = this.buf.subarray(0, this.size);
      this.buf = Buffer.allocUnsafe(2 * BATCH);
    } else {
      out = Buffer.allocUnsafe(this.size);
      this.buf.copy(out, 0, 0, this.size);
    }
    this.size = 0;
    await this.sink(out);
  }

  private reserve(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(this.size + n + BATCH);
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }
}

/** fsutil Packet's type (1), id (3) and data (4); other fields are skipped. */
export function decodePacket(buf: Buffer): { type: number; id: number; data: string } {
  let type = 0;
  let id = 0;
  let data = '';
  // A plain loop rather than readFields' generator: thousands of REQs arrive on a fresh runner.
  for (let pos = 0; pos < buf.length;) {
    const [key, afterKey] = readVarint(buf, pos);
    // A varint field's value, or a length-delimited field's length.
    const [value, next] = readVarint(buf, afterKey);
    if (key === 8) type = value;
    else if (key === 24) id = value;
    if (key % 8 === WireType.varint) pos = next;
    else if (key % 8 === WireType.bytes && next + value <= buf.length) {
      if (key === 34) data = buf.toString('utf8', next, next + value);
      pos = next + value;
    } else {
      throw new ProtobufError(
        `a file sync packet with field ${Math.floor(key / 8)} of wire type ${key % 8} at byte ${pos}, or cut short`,
      );
    }
  }
  return { type, id, data };
}
