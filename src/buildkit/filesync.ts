/**
 * Follows: moby/buildkit session/filesync/filesync.go.
 *
 * The build context served to BuildKit over the build session, as the docker CLI serves it:
 * moby/buildkit session/filesync/filesync.go (`fsSyncProvider.handle`) answering with
 * tonistiigi/fsutil's send.go. BuildKit calls `moby.filesync.v1.FileSync/DiffCopy` once per
 * local source ("context", "dockerfile"), naming it in the `dir-name` metadata with
 * `include-patterns`, `exclude-patterns` and `followpaths` (each value a header of its own,
 * percent-encoded when `<key>-encoded` says so). What to send is context/filter.ts's walk with
 * exactly those options; how to send it is file-sender.ts.
 */
import { realpathSync } from 'node:fs';
import { diskReader, filteredWalk, type FilterOptions } from '../context/filter.js';
import type { ContextPrefetch, PrefetchedWalk } from '../context/prefetch.js';
import { FileSender, sendListing } from './file-sender.js';
import { GrpcError, GrpcStatus, type ServerCall, type StreamHandler } from './grpc-server.js';

export const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';

export interface FileSyncDirs {
  /** Absolute directories by BuildKit's name for them: `context`, `dockerfile`. */
  readonly [name: string]: string;
}

export interface FileSyncOptions {
  /** The context read ahead (prefetchContext); answers the first request for `dirs.context`. */
  readonly prefetch?: ContextPrefetch;
  /** Told of a failure to read the context, the error naming the path (the build then fails with it). */
  readonly onError?: (error: unknown) => void;
}

/** The DiffCopy handler for `dirs`. */
export function fileSync(dirs: FileSyncDirs, options: FileSyncOptions = {}): StreamHandler {
  const prefetch = options.prefetch;
  return (call) => {
    const md = decodeMetadata(call);
    const name = md('dir-name')?.[0] ?? '';
    const dir = Object.hasOwn(dirs, name) ? dirs[name] : undefined;
    if (dir === undefined) {
      call.fail(new GrpcError(GrpcStatus.NOT_FOUND, `no access allowed to dir "${name}"`));
      return;
    }
    const filter: FilterOptions = {
      includePatterns: md('include-patterns'),
      excludePatterns: md('exclude-patterns'),
      followPaths: md('followpaths'),
    };
    const served: PrefetchedWalk =
      name === 'context' && prefetch && prefetch.root === safeRealpath(dir)
        ? prefetch.walk(filter)
        : { entries: filteredWalk(diskReader(safeRealpath(dir)), filter) };
    // The docker CLI resets the owner of the context's entries to root (resetUIDAndGID), not of other directories.
    diffCopy(call, served, name === 'context', options.onError);
  };
}

/** Sends the listing, then answers REQs with DATA until BuildKit's FIN, which is answered with FIN. */
function diffCopy(
  call: ServerCall,
  served: PrefetchedWalk,
  resetOwner: boolean,
  onError: ((error: unknown) => void) | undefined,
): void {
  const fail = (e: unknown): void => {
    onError?.(e);
    call.fail(e);
  };
  const sender = new FileSender(call, fail, served.readAhead);
  call.onMessage((packet: Buffer) => {
    try {
      sender.receive(packet);
    } catch (e) {
      fail(e);
    }
  });
  sendListing(call, served.entries, sender, resetOwner).catch(fail);
}

/**
 * The metadata values of a key, decoded as filesync.go's decodeOpts does (`<key>-encoded: 1`
 * means each value is query-escaped); undefined when the key is absent.
 */
function decodeMetadata(call: ServerCall): (key: string) => string[] | undefined {
  return (key) => {
    const values = call.values(key);
    if (values.length === 0) return undefined;
    const encoded = call.values(`${key}-encoded`)[0];
    if (encoded === undefined || !parseGoBool(encoded)) return values;
    return values.map(queryUnescape);
  };
}

/** Go's strconv.ParseBool truth values. */
function parseGoBool(s: string): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s);
}

/** Go's url.QueryUnescape ('+' is a space); a malformed escape gives '' as Go's ignored error does. */
function queryUnescape(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return '';
  }
}

function safeRealpath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
