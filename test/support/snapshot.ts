/** Snapshots of everything a run could change, to prove a run changed nothing. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { docker } from './docker-cli.js';
import type { RegistryAccess } from './registry.js';

/** Hash of every file (and symlink target) under `dir`. */
export function workspaceSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) walk(p);
      else out[rel] = `${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** Every image ID and tag on the engine, plus the build cache size. */
export function engineSnapshot(dockerHost: string): string {
  const images = docker(dockerHost, ['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']).split('\n').sort().join('\n');
  const cache = docker(dockerHost, ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Size}}']);
  return `${images}\n--\n${cache}`;
}

/** The registry's repositories and their tags. */
export async function registrySnapshot(r: RegistryAccess): Promise<string> {
  const headers = { Authorization: `Basic ${Buffer.from(`${r.registryUser}:${r.registryPassword}`).toString('base64')}` };
  const catalog = (await (await fetch(`http://${r.registry}/v2/_catalog?n=1000`, { headers })).json()) as { repositories: string[] };
  const lines: string[] = [];
  for (const repo of catalog.repositories.sort()) {
    const tags = (await (await fetch(`http://${r.registry}/v2/${repo}/tags/list`, { headers })).json()) as { tags: string[] | null };
    lines.push(`${repo}: ${(tags.tags ?? []).sort().join(',')}`);
  }
  return lines.join('\n');
}
