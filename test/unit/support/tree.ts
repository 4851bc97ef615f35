/** Test helpers: build a directory tree from a list, and read back what a tar stream holds. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/**
 * `files`: `path` (content = the path), `path/` (a directory), `path -> target` (a symlink),
 * or `[path, content]`.
 */
export function makeTree(
  files: readonly (string | readonly [string, string | Buffer])[],
  root = mkdtempSync(path.join(tmpdir(), 'ctx-')),
): string {
  for (const f of files) {
    const [name, content] = typeof f === 'string' ? [f, undefined] : f;
    const link = /^(.*) -> (.*)$/.exec(name);
    const abs = path.join(root, link?.[1] ?? name);
    mkdirSync(path.dirname(abs), { recursive: true });
    if (link) symlinkSync(link[2] ?? '', abs);
    else if (name.endsWith('/')) mkdirSync(abs, { recursive: true });
    else writeFileSync(abs, content ?? name);
  }
  return root;
}

export function removeTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

export interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkname: string | null;
  readonly size: number;
  readonly mtime?: Date;
  readonly content: Buffer;
}

/** Every entry of a (optionally gzipped) tar stream, in order, contents included. */
export async function readTar(stream: NodeJS.ReadableStream, gzip = false): Promise<TarEntry[]> {
  const extract = tar.extract();
  const source = gzip ? (stream as Readable).pipe(createGunzip()) : (stream as Readable);
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  const out: TarEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.push({
      name: h.name,
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      linkname: h.linkname ?? null,
      size: h.size,
      mtime: h.mtime,
      content: Buffer.concat(chunks),
    });
  }
  return out;
}

/** Entry names as `docker build` would list them: directories with a trailing `/`. */
export function names(entries: readonly TarEntry[]): string[] {
  return entries.map((e) => (e.type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name));
}
