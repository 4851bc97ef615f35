/**
 * One filter for both transports: for any tree and any `.dockerignore`, the tar BuildKit gets
 * holds exactly what the session sends BuildKit for the same exclude patterns (BuildKit sends
 * the `.dockerignore` patterns as they are), entry for entry: path, type, mode, size, link
 * target and mtime (to the second: the tar header's precision) — except the Dockerfile when
 * `.dockerignore` excludes it, which the tar must carry for the engine: pack.ts names it among
 * the extras, and the build then serves the context through the session instead.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileSync } from '../../../src/buildkit/filesync.js';
import type { ServerCall } from '../../../src/buildkit/grpc-server.js';
import { readFields } from '../../../src/buildkit/protobuf.js';
import { parseIgnoreFile } from '../../../src/context/dockerignore.js';
import { packContext, prepareContext } from '../../../src/context/pack.js';
import { PatternMatcher } from '../../../src/context/patterns.js';
import { makeTree, readTar, removeTree } from '../support/tree.js';

const NAMES = ['a', 'b', 'src', 'logs', 'keep.log', 'x.tmp', '.hidden', 'sp ace', 'é'];
const PATTERNS = [
  '*.tmp',
  'logs',
  '!logs/keep.log',
  '**/keep.log',
  '!**/*.log',
  'src/*',
  '!src/a',
  '.*',
  'a/**',
  '!a/b',
  'b',
  '/src',
  './é',
  'Dockerfile',
  '.dockerignore',
  '**',
];

const treeArb = fc.uniqueArray(
  fc.tuple(fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }), fc.constantFrom('file', 'dir', 'link')),
  { maxLength: 12, selector: ([parts]) => parts.join('/') },
);
const ignoreArb = fc.array(fc.constantFrom(...PATTERNS), { maxLength: 5 });

/** The tree spec for makeTree; later entries that clash with earlier ones (a file where a directory is) are dropped. */
function spec(entries: ReadonlyArray<readonly [string[], string]>): string[] {
  const taken = new Map<string, string>();
  const out: string[] = [];
  for (const [parts, kind] of entries) {
    const p = parts.join('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (taken.has(p) || parents.some((d) => taken.has(d) && taken.get(d) !== 'dir')) continue;
    if ([...taken.keys()].some((t) => t.startsWith(`${p}/`))) continue;
    for (const d of parents) taken.set(d, 'dir');
    taken.set(p, kind);
    out.push(kind === 'dir' ? `${p}/` : kind === 'link' ? `${p} -> ../a` : p);
  }
  return out;
}

interface Seen {
  path: string;
  type: string;
  mode: number;
  size: number;
  link: string;
  mtime: number;
}

/** What the session lists for `excludes` (STAT packets decoded). */
async function sessionListing(root: string, excludes: readonly string[]): Promise<Seen[]> {
  const frames: Buffer[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const c: ServerCall = {
    metadata: {},
    values: (key) => (key === 'dir-name' ? ['context'] : key === 'exclude-patterns' ? [...excludes] : []),
    onMessage: () => {},
    send: async (...m) => {
      frames.push(...m);
      if (m.some((x) => x.length === 0)) done();
    },
    sendFramed: async (f) => {
      for (let at = 0; at < f.length;) {
        const n = f.readUInt32BE(at + 1);
        const m = f.subarray(at + 5, at + 5 + n);
        frames.push(Buffer.from(m));
        if (n === 0) done();
        at += 5 + n;
      }
    },
    end: () => {},
    fail: (e) => {
      throw e;
    },
  };
  fileSync({ context: root })(c);
  await finished;
  const out: Seen[] = [];
  for (const m of frames) {
    for (const f of readFields(m)) {
      if (f.field !== 2 || f.wire !== 2) continue;
      const s: Record<number, number | string | bigint> = {};
      for (const g of readFields(f.value)) s[g.field] = g.wire === 0 ? g.value : g.value.toString();
      const goMode = Number(s[2] ?? 0);
      const type = goMode >= 2 ** 31 ? 'directory' : goMode & (2 ** 27) ? 'symlink' : 'file';
      out.push({
        path: String(s[1]),
        type,
        mode: goMode & 0o777,
        size: type === 'file' ? Number(s[5] ?? 0) : 0,
        link: String(s[7] ?? ''),
        mtime: Math.floor(Number(s[6] ?? 0) / 1e9),
      });
    }
  }
  return out;
}

/** The tar BuildKit would get, and the files in it that are there only for the engine (pack.ts's extras). */
async function tarListing(root: string): Promise<{ seen: Seen[]; extras: readonly string[] }> {
  const opts = { contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'buildkit' } as const;
  const prepared = await prepareContext(opts);
  const packed = await packContext(opts, prepared);
  const entries = await readTar(packed.stream);
  await packed.done;
  const seen = entries.map((e) => ({
    path: e.name.replace(/\/$/, ''),
    type: e.type,
    mode: e.mode & 0o777,
    size: e.type === 'file' ? e.size : 0,
    link: e.linkname ?? '',
    mtime: Math.floor((e.mtime?.getTime() ?? 0) / 1000),
  }));
  return { seen, extras: prepared.extras };
}

describe('the tar upload and the session send the same context', () => {
  it('for any tree and any .dockerignore: the tar, less what it carries only for the engine, is what the session sends', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, ignoreArb, async (tree, ignore) => {
        const root = makeTree([...spec(tree), ['Dockerfile', 'FROM scratch\n']]);
        try {
          writeFileSync(path.join(root, '.dockerignore'), ignore.join('\n'));
          const patterns = parseIgnoreFile(ignore.join('\n')).map((p) => p.pattern);
          const [session, tar] = await Promise.all([sessionListing(root, patterns), tarListing(root)]);
          expect(tar.seen.filter((e) => !tar.extras.includes(e.path))).toEqual(session);
          // The extras are the Dockerfile when .dockerignore excludes it, and nothing else.
          const m = patterns.length ? new PatternMatcher(patterns) : undefined;
          expect(tar.extras).toEqual(m?.match('Dockerfile').matched ? ['Dockerfile'] : []);
        } finally {
          removeTree(root);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
