/**
 * The module's only I/O: choosing the default manifest and replacing it atomically.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ActionError } from '../errors.js';

/** Looked for in this order when the manifest input is empty. */
export const DEFAULT_MANIFESTS = ['convox.yml', 'docker-compose.yml'] as const;

/**
 * `convox.yml` when it exists, else `docker-compose.yml`. `exists` answers for paths relative to
 * the workspace. Throws ActionError (input `manifest`) when neither exists.
 */
export function defaultManifestPath(exists: (p: string) => boolean): string {
  const found = DEFAULT_MANIFESTS.find((p) => exists(p));
  if (found) return found;
  throw new ActionError(
    `no manifest given and neither ${DEFAULT_MANIFESTS.join(' nor ')} exists in the workspace`,
    { input: 'manifest', phase: 'inputs' },
    "set 'manifest' to your manifest's path (relative to the workspace), check out the repository first, or use 'update: none'",
  );
}

/**
 * Writes `bytes` to `file` so that readers see the old or the new content, never a mix: a temp
 * file in the same directory (same file system, so rename is atomic), flushed, then renamed over
 * the original. The original's permission bits are kept.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const mode = await stat(file).then(
    (s) => s.mode & 0o7777,
    () => 0o644,
  );
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, mode); // open() applies the umask; the original's bits are what we want
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
