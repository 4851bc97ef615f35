/**
 * e2e helpers around the real test registry: push a one-layer image over the registry API (no
 * engine needed), and a "public mirror" of the registry (a loopback proxy that lets anonymous
 * reads through with the registry's credentials, as a public repository would), so that the
 * private/public decision is still the real registry answering.
 */
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { RegistryOptions } from '../rack-server/index.js';
import { registryGet } from '../support/registry.js';

const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** The registry as the test account reaches it, answering a Basic or a Bearer challenge (support/registry.ts). */
const send = (r: RegistryOptions, url: string | URL, init: Parameters<typeof registryGet>[2] = {}): Promise<Response> =>
  registryGet({ registry: r.host, registryUser: r.username ?? '', registryPassword: r.password ?? '' }, String(url), init);

async function pushBlob(registry: RegistryOptions, repo: string, blob: Buffer): Promise<string> {
  const d = digest(blob);
  const start = await send(registry, `http://${registry.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', `http://${registry.host}`);
  location.searchParams.set('digest', d);
  const put = await send(registry, location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
  return d;
}

/** A minimal schema-2 image (one empty gzip'd tar layer and a config) at `repo:tag`. */
export async function pushTiny(registry: RegistryOptions, repo: string, tag: string): Promise<void> {
  const layer = gzipSync(Buffer.alloc(1024));
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest(Buffer.alloc(1024))] } }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: config.length,
      digest: await pushBlob(registry, repo, config),
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: await pushBlob(registry, repo, layer),
      },
    ],
  };
  const r = await send(registry, `http://${registry.host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': manifest.mediaType },
    body: JSON.stringify(manifest),
  });
  if (r.status !== 201) throw new Error(`manifest push: ${r.status} ${await r.text()}`);
}

/**
 * A public face of the registry on another loopback port: anonymous GET/HEAD of repository
 * paths are forwarded with the registry's credentials; everything else (the `/v2/` ping, which
 * tells clients to authenticate, and every write) is forwarded untouched.
 */
export async function publicMirror(registry: RegistryOptions): Promise<{ host: string; close: () => Promise<void> }> {
  const [upHost, upPort] = registry.host.split(':');
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers };
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && !headers.authorization && req.url !== '/v2/' && req.url?.startsWith('/v2/')) {
      // Read as the test account (a token first, on a token registry), and answered as they came.
      const accept = typeof headers.accept === 'string' ? { accept: headers.accept } : undefined;
      void send(registry, `http://${registry.host}${req.url}`, { method: req.method, headers: accept }).then(
        async (up) => {
          const body = Buffer.from(await up.arrayBuffer());
          res.writeHead(
            up.status,
            Object.fromEntries([...up.headers].filter(([k]) => k !== 'content-encoding' && k !== 'transfer-encoding')),
          );
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => res.destroy(),
      );
      return;
    }
    const up = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
