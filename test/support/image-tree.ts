/**
 * Test helper: an image's file system and config as plain data, for comparing two images entry by
 * entry. The tree is read from the engine (a container created, not started, and exported:
 * `GET /containers/{id}/export`, every layer applied, whiteouts gone); the paths the engine itself
 * puts in every container (`.dockerenv`, `/etc/hosts`, `/dev`, …) are left out.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';

export interface ImageEntry {
  readonly path: string;
  readonly type: string;
  /** Permission bits with setuid, setgid and sticky. */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly sha256: string;
  readonly linkname: string;
  /** Seconds since the epoch, as the export's tar headers carry it. */
  readonly mtime: number;
}

/** What the engine writes into every container it creates (the init layer), not part of the image. */
const INIT_LAYER = new Set(['.dockerenv', 'dev', 'etc/hostname', 'etc/hosts', 'etc/mtab', 'etc/resolv.conf', 'proc', 'sys']);

function inInitLayer(p: string): boolean {
  return INIT_LAYER.has(p) || p.startsWith('dev/');
}

/** Every entry of the image `ref`'s file system, sorted by path. */
export async function imageTree(docker: Docker, ref: string): Promise<ImageEntry[]> {
  const container = await docker.createContainer({ Image: ref, Cmd: ['/nothing'], NetworkDisabled: true });
  try {
    const stream = (await container.export()) as unknown as Readable;
    return await readEntries(stream);
  } finally {
    await container.remove({ force: true });
  }
}

async function readEntries(stream: Readable): Promise<ImageEntry[]> {
  const extract = tar.extract();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  const out: ImageEntry[] = [];
  for await (const entry of extract) {
    const hash = createHash('sha256');
    for await (const c of entry) hash.update(c as Buffer);
    const h = entry.header;
    const p = h.name.replace(/^\.?\//, '').replace(/\/$/, '');
    if (p === '' || inInitLayer(p)) continue;
    out.push({
      path: p,
      type: h.type ?? 'file',
      // Permission, set-id and sticky bits only: the type is `type`, and engines disagree on
      // whether an exported layer's tar mode carries the type bits too (20.10: 040755, 29: 0755).
      mode: ((h.mode ?? 0) & 0o7777).toString(8).padStart(4, '0'),
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      size: h.size ?? 0,
      sha256: h.type === 'file' || h.type === 'contiguous-file' ? hash.digest('hex') : '',
      linkname: h.linkname ?? '',
      mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The parts of an image's config a Dockerfile decides; `ignoreLabels` (the action's own labels) left out. */
export interface ImageConfig {
  readonly Cmd: unknown;
  readonly Entrypoint: unknown;
  readonly Env: unknown;
  readonly WorkingDir: unknown;
  readonly User: unknown;
  readonly Labels: Record<string, string>;
  readonly ExposedPorts: unknown;
  readonly Volumes: unknown;
}

export async function imageConfig(docker: Docker, ref: string, ignoreLabels: (name: string) => boolean): Promise<ImageConfig> {
  const c = (await docker.getImage(ref).inspect()).Config;
  const labels = Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([k]) => !ignoreLabels(k)));
  return {
    Cmd: c.Cmd ?? null,
    Entrypoint: c.Entrypoint ?? null,
    Env: c.Env ?? null,
    WorkingDir: c.WorkingDir ?? '',
    User: c.User ?? '',
    Labels: labels,
    ExposedPorts: c.ExposedPorts ?? null,
    Volumes: c.Volumes ?? null,
  };
}

/**
 * A time the build itself wrote (a directory COPY created, a file RUN wrote) rather than one kept
 * from the context: such times differ from build to build, so they compare as "built".
 */
export interface BuildWindow {
  readonly from: number;
  readonly to: number;
}

/**
 * The entry as compared: a time inside the builds' window reads `built`. A directory's time is
 * not compared: BuildKit 0.8's receiver (dockerd 20.10) writes a directory's entries after its
 * stat, so a directory COPY'd over the session carries the time of the build, while one unpacked
 * from a tar keeps the context's; neither is the context's promise.
 */
function comparable(e: ImageEntry, window: BuildWindow): Record<string, unknown> {
  if (e.type === 'directory') return { ...e, mtime: 'not compared' };
  const built = e.mtime >= window.from && e.mtime <= window.to;
  return { ...e, mtime: built ? 'built' : e.mtime };
}

/**
 * How `got` differs from `want`, one line per difference (empty when they are the same):
 * `- path` missing, `+ path` extra, `~ path: field want → got`.
 */
export function treeDiff(want: readonly ImageEntry[], got: readonly ImageEntry[], window: BuildWindow): string[] {
  const byPath = (l: readonly ImageEntry[]) => new Map(l.map((e) => [e.path, comparable(e, window)]));
  const [w, g] = [byPath(want), byPath(got)];
  const lines: string[] = [];
  for (const [p, e] of w) {
    const o = g.get(p);
    if (!o) {
      lines.push(`- ${p} (${String(e.type)} ${String(e.mode)})`);
      continue;
    }
    for (const k of Object.keys(e)) if (e[k] !== o[k]) lines.push(`~ ${p}: ${k} ${show(e[k])} → ${show(o[k])}`);
  }
  for (const [p, e] of g) if (!w.has(p)) lines.push(`+ ${p} (${String(e.type)} ${String(e.mode)})`);
  return lines;
}

function show(v: unknown): string {
  return typeof v === 'string' && v.length === 64 ? `${v.slice(0, 12)}…` : JSON.stringify(v);
}
