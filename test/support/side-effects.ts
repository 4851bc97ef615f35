/**
 * Everything a run could change or contact, snapshotted so a test can prove a run changed and
 * contacted nothing: the engine (images, build cache, containers, and every connection to its
 * socket, through a tap), the registry (repositories and tags), the workspace (every file's bytes
 * and mode, directories and symlinks). Rack and GitHub API requests are recorded by their test
 * servers.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registryGet, type RegistryAccess } from './registry.js';

/** Hash of every entry under `dir`: files (mode + sha256), symlinks (target), directories. */
export function workspaceSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[`${rel}/`] = `dir ${st.mode.toString(8)}`;
        walk(p);
      } else out[rel] = `${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** GET on the Engine API over its unix socket, parsed as JSON. */
function engineGet<T>(dockerHost: string, apiPath: string): Promise<T> {
  const socketPath = dockerHost.replace(/^unix:\/\//, '');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: apiPath, method: 'GET', headers: { Host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`engine ${apiPath} answered ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text) as T);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The engine's images (`GET /images/json?all=1`: IDs, tags, digests), build cache records
 * (`GET /system/df`) and containers, as one comparable text.
 */
export async function engineSnapshot(dockerHost: string): Promise<string> {
  const images = await engineGet<{ Id: string; RepoTags: string[] | null; RepoDigests: string[] | null }[]>(
    dockerHost,
    '/images/json?all=1',
  );
  const df = await engineGet<{ BuildCache: { ID: string; Size: number }[] | null }>(dockerHost, '/system/df');
  const containers = await engineGet<{ Id: string }[]>(dockerHost, '/containers/json?all=1');
  return [
    ...images.map((i) => `image ${i.Id} ${[...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])].sort().join(' ')}`).sort(),
    ...(df.BuildCache ?? []).map((b) => `cache ${b.ID} ${b.Size}`).sort(),
    ...containers.map((c) => `container ${c.Id}`).sort(),
  ].join('\n');
}

/** The registry's repositories and their tags (the catalog is followed page by page). */
export async function registrySnapshot(r: RegistryAccess): Promise<string> {
  const get = async <T>(p: string): Promise<{ body: T; next: string | undefined }> => {
    const res = await registryGet(r, `http://${r.registry}${p}`);
    if (!res.ok) throw new Error(`registry ${p} answered ${res.status}: ${await res.text()}`);
    const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    return { body: (await res.json()) as T, next };
  };
  const repositories: string[] = [];
  for (let page: string | undefined = '/v2/_catalog?n=1000'; page;) {
    const got: { body: { repositories: string[] | null }; next: string | undefined } = await get(page);
    repositories.push(...(got.body.repositories ?? []));
    page = got.next;
  }
  const lines: string[] = [];
  for (const repo of repositories.sort()) {
    // A repository whose push stopped before any manifest has blobs but no tags: 404 NAME_UNKNOWN.
    const res = await registryGet(r, `http://${r.registry}/v2/${repo}/tags/list`);
    if (res.status === 404) {
      lines.push(`${repo}: (no tags)`);
      continue;
    }
    if (!res.ok) throw new Error(`registry /v2/${repo}/tags/list answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { tags: string[] | null };
    lines.push(`${repo}: ${(body.tags ?? []).sort().join(',')}`);
  }
  return lines.join('\n');
}

/**
 * A unix-socket tap in front of the engine: hand `host` to the action as DOCKER_HOST and every
 * connection it opens is counted, so "nothing was sent to the engine" is measured, not inferred.
 */
export class EngineTap {
  connections = 0;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'cid-tap-'));
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly target: string) {
    this.server = createServer((client) => {
      this.connections++;
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  static async start(dockerHost: string): Promise<EngineTap> {
    const tap = new EngineTap(dockerHost.replace(/^unix:\/\//, ''));
    await new Promise<void>((resolve) => tap.server.listen(path.join(tap.dir, 'docker.sock'), resolve));
    return tap;
  }

  get host(): string {
    return `unix://${path.join(this.dir, 'docker.sock')}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
