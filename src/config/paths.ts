import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Resolves `p` against `base` (the workspace); undefined when the result leaves the workspace. */
export function insideWorkspace(workspace: string, p: string): string | undefined {
  const abs = path.resolve(workspace, p);
  const real = (q: string): string => (existsSync(q) ? realpathSync(q) : q);
  const root = real(workspace);
  // Symlinks count: a link pointing out of the workspace is outside it.
  const target = real(abs);
  const rel = path.relative(root, target);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return abs;
  return undefined;
}

/** Workspace-relative POSIX path for messages and reports. */
export function relativeToWorkspace(workspace: string, abs: string): string {
  return path.relative(workspace, abs).split(path.sep).join('/') || '.';
}
