/**
 * Build export/import (doc §2.2). The archive holds `build.json` only — no image layers exist
 * here — which is enough for a client to round-trip a build between apps or racks.
 */
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { nowNs } from '../clock.js';
import { RackError } from '../errors.js';
import { jsonReply } from '../http.js';
import type { Reply } from '../http.js';
import { buildJson } from '../json-shapes.js';
import { createRelease } from '../release-logic.js';
import type { Ctx } from '../router.js';
import { unpackTgz } from '../tarball.js';

export async function buildExport(ctx: Ctx): Promise<Reply> {
  const app = ctx.rack.state.requireApp(ctx.params.app ?? '');
  const b = ctx.rack.state.requireBuild(app, ctx.params.id ?? '');
  const tar = pack();
  tar.entry({ name: 'build.json' }, JSON.stringify(buildJson(ctx.rack, b)));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: gzipSync(Buffer.concat(chunks)) };
}

/** Synchronous: the answer is already `complete` with its `release` set. */
export async function buildImport(ctx: Ctx): Promise<Reply> {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  let meta: Record<string, unknown>;
  try {
    const files = await unpackTgz(ctx.raw);
    meta = JSON.parse(files.get('build.json')?.toString('utf8') ?? 'null') as Record<string, unknown>;
    if (!meta || typeof meta !== 'object') throw new Error('no build.json');
  } catch (e) {
    throw new RackError(500, `invalid build archive: ${(e as Error).message}`);
  }
  const str = (k: string): string => (typeof meta[k] === 'string' ? (meta[k] as string) : '');
  const b = rack.state.addBuild(app, {
    description: str('description'),
    manifest: str('manifest'),
    entrypoint: str('entrypoint'),
    gitSha: str('git-sha'),
    status: 'complete',
  });
  b.ended = nowNs();
  b.log.write(`imported build ${str('id')}\n`);
  b.log.end();
  app.objects.set(`build/${b.id}/logs`, b.log.bytes());
  b.logs = `object://${app.name}/build/${b.id}/logs`;
  b.release = createRelease(rack, app, { build: b.id }).id;
  return jsonReply(buildJson(rack, b));
}
