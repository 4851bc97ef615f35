/**
 * Vitest global setup for both projects: every temporary file or directory a test makes goes under
 * one directory of this run, removed when the run ends, so `npm test` leaves nothing behind in the
 * machine's temp dir. The helpers call os.tmpdir(), which reads TMPDIR on each call: this sets it
 * in the main process (the e2e global setup's engine and registry directories) and, through
 * temp-env.ts, in each test worker. CID_KEEP_TMP=1 keeps the directory to look into a failure.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory this run's temporary files go under (TMPDIR in the workers). */
    tempRoot: string;
  }
}

/** Set by the first project's setup, so the second one shares the directory instead of nesting one. */
const OWNER = 'CID_TEST_TEMP_ROOT';

export default function setup(project: TestProject): () => void {
  const existing = process.env[OWNER];
  const root = existing ?? mkdtempSync(path.join(tmpdir(), 'cid-tests-'));
  project.provide('tempRoot', root);
  if (existing) return () => {};
  // Open like /tmp itself: some tests drop to an unprivileged user, which must reach its files here.
  chmodSync(root, 0o1777);
  process.env[OWNER] = root;
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    delete process.env[OWNER];
    if (process.env.CID_KEEP_TMP === '1') console.log(`Temporary files kept in ${root} (CID_KEEP_TMP=1)`);
    else rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
