import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A throwaway workspace holding `files` (relative path → text). */
export function makeWorkspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cid-ws-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
