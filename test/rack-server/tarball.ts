/** Unpack the uploaded source tarball (gzip tar, doc §2.2) into memory. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/** Regular files by normalised path (`./a/b` and `/a/b` become `a/b`). */
export async function unpackTgz(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  const collect = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
        files.set(normalise(entry.header.name), Buffer.concat(chunks));
      }
    }
  })();
  await Promise.all([pipeline(Readable.from([data]), createGunzip(), ex), collect]);
  return files;
}

/** `./a//b/../c` → `a/c`; the rack joins paths relative to the unpacked directory. */
export function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}
