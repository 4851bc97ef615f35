/**
 * Test helper: tonistiigi/fsutil itself as an oracle. Builds test/oracle/fsutil (current fsutil)
 * or test/oracle/fsutil-20.10 (the fsutil Debian's docker 20.10 CLI vendors) with `go build`,
 * resolving the modules through the Go module proxy, into a cache dir outside the checkout keyed
 * by a hash of go.mod, go.sum and main.go; then keeps one process per test file and talks to it
 * in JSON lines (see test/oracle/fsutil/main.go).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export type OracleVersion = 'current' | '20.10';

const SOURCES: Record<OracleVersion, string> = { current: 'test/oracle/fsutil', '20.10': 'test/oracle/fsutil-20.10' };

/** One types.Stat as fsutil sends it; mode is Go's os.FileMode bits (socket bit cleared). */
export interface OracleEntry {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly modTime: bigint;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  readonly xattrs?: Readonly<Record<string, string>>;
}

export interface OracleWalk {
  readonly entries: readonly OracleEntry[];
  /** fsutil's error text, when the walk (or NewFilterFS) failed. */
  readonly error?: string;
}

/** Absent lists are sent as nil, as absent gRPC metadata keys are. */
export interface WalkRequest {
  readonly root: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly follow?: readonly string[];
  readonly skipDir?: boolean;
  readonly resetOwner?: boolean;
}

/** Go's os.FileMode type and special bits (io/fs). */
export const GoMode = {
  dir: 2 ** 31,
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  socket: 1 << 24,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
} as const;

/** Whether Go mode bits `mode` have `bit` (`&` works on int32: ModeDir comes out negative). */
export function hasBit(mode: number, bit: number): boolean {
  return (mode & bit) >>> 0 !== 0;
}

/** Where `go` is (CID_GO names it, else PATH or /usr/local/go), or why the oracle cannot run. */
export function findGo(): { go: string } | { reason: string } {
  for (const go of process.env.CID_GO ? [process.env.CID_GO] : ['go', '/usr/local/go/bin/go']) {
    const r = spawnSync(go, ['version'], { encoding: 'utf8' });
    if (r.status === 0) return { go };
  }
  return {
    reason: `the fsutil oracle needs Go (${process.env.CID_GO ?? '`go` on PATH or /usr/local/go/bin/go'}), which is not installed here`,
  };
}

/** The built oracle binary for `version`, building it first if the cache has none for these sources. */
export function buildOracle(version: OracleVersion): string {
  const found = findGo();
  if ('reason' in found) throw new Error(found.reason);
  const src = path.resolve(SOURCES[version]);
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(`${f}\0`).update(readFileSync(path.join(src, f)));
  const cache = process.env.CID_CACHE ?? path.join(homedir(), '.cache', 'convox-image-deploy');
  const dir = path.join(cache, 'fsutil-oracle', `${version}-${hash.digest('hex').slice(0, 16)}`);
  const bin = path.join(dir, 'oracle');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=readonly', CGO_ENABLED: '0' };
  const r = spawnSync(found.go, ['build', '-trimpath', '-o', tmp, '.'], { cwd: src, env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`go build of ${SOURCES[version]} failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
  renameSync(tmp, bin); // atomic: another test file building at once finds a whole binary
  return bin;
}

/** One running oracle process; requests are answered in order. */
export class FsutilOracle {
  private readonly waiting: ((line: string) => void)[] = [];
  private nextId = 1;
  private exited: string | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly cleanup: () => void,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      this.exited = `fsutil oracle exited (${code ?? signal}): ${stderr}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ fatal: this.exited }));
    });
  }

  /** Starts `version`'s oracle; with `as`, under that uid/gid (from a copy another user can execute). */
  static start(version: OracleVersion, as?: { uid: number; gid: number }): FsutilOracle {
    const bin = buildOracle(version);
    if (!as) return new FsutilOracle(spawn(bin, [], { stdio: 'pipe' }), () => {});
    const dir = mkdtempSync(path.join(tmpdir(), 'fsutil-oracle-'));
    chmodSync(dir, 0o755);
    const copy = path.join(dir, 'oracle');
    copyFileSync(bin, copy);
    chmodSync(copy, 0o755);
    const child = spawn(copy, [], { stdio: 'pipe', uid: as.uid, gid: as.gid, cwd: '/' });
    return new FsutilOracle(child, () => rmSync(dir, { recursive: true, force: true }));
  }

  /** What fsutil's send path walks for `req`. */
  async walk(req: WalkRequest): Promise<OracleWalk> {
    const res = await this.ask({ op: 'walk', ...req });
    const entries = (res.entries as Record<string, unknown>[]).map((e) => ({ ...e, modTime: BigInt(e.modTime as string) }));
    return { entries: entries as unknown as OracleEntry[], ...(res.error ? { error: res.error as string } : {}) };
  }

  /** fsutil.FollowLinks(NewFS(root), paths): undefined for nil (the whole root). */
  async followLinks(root: string, paths: readonly string[]): Promise<{ paths: string[] | undefined; error?: string }> {
    const res = await this.ask({ op: 'followLinks', root, paths });
    return { paths: res.paths as string[] | undefined, ...(res.error ? { error: res.error as string } : {}) };
  }

  close(): void {
    this.child.stdin.end();
    this.cleanup();
  }

  private ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const res = JSON.parse(line) as Record<string, unknown>;
        if (res.fatal) reject(new Error(res.fatal as string));
        else if (res.id !== id) reject(new Error(`fsutil oracle answered ${String(res.id)} to request ${id}`));
        else resolve(res);
      });
      this.child.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }
}

/**
 * Whether this file's oracle tests run: without Go they skip with the reason, except under CI
 * (`CI` set), where they must run and so fail loudly in their setup.
 */
export function oracleSkipReason(): string | undefined {
  const found = findGo();
  if ('go' in found || process.env.CI) return undefined;
  console.warn(`skipping the fsutil oracle tests: ${found.reason}`);
  return found.reason;
}

/** Rows as a Markdown table (cells with `|` escaped, newlines flattened). */
export function markdownTable(rows: readonly Record<string, string>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => ' --- |').join('')}`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c] ?? '')).join(' | ')} |`),
  ].join('\n');
}

/** Prints a report and keeps it in .tmp/ (git-ignored) for reading after the run. */
export function printReport(name: string, text: string): void {
  console.log(text);
  mkdirSync('.tmp', { recursive: true });
  writeFileSync(path.join('.tmp', name), `${text}\n`);
}

/**
 * The oracles one test file uses, started on first use. `prepare` (for beforeAll) builds them
 * ahead and keeps a failure, such as Go missing under CI, to throw from every test that asks for
 * one, so each counts as failed rather than the file stopping in its setup.
 */
export class OraclePool {
  private readonly running = new Map<string, FsutilOracle>();
  private failure: unknown;

  prepare(versions: readonly OracleVersion[]): void {
    try {
      for (const v of versions) buildOracle(v);
    } catch (e) {
      this.failure = e;
    }
  }

  get(version: OracleVersion, asNobody = false): FsutilOracle {
    if (this.failure !== undefined) throw this.failure;
    const key = `${version}${asNobody ? ' as nobody' : ''}`;
    let o = this.running.get(key);
    if (!o) this.running.set(key, (o = FsutilOracle.start(version, asNobody ? { uid: 65534, gid: 65534 } : undefined)));
    return o;
  }

  /** Whether the oracles could be built (the reports in afterAll only run then). */
  get ready(): boolean {
    return this.failure === undefined;
  }

  close(): void {
    for (const o of this.running.values()) o.close();
  }
}
