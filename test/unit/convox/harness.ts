/**
 * Shared set-up for the deploy tests: a gzip tar source made fresh per call (as the lead's
 * tarball factory will be), a request builder, and helpers to read the recorded requests.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { DeployRequest } from '../../../src/convox/deploy.js';
import type { RackTarget } from '../../../src/convox/target.js';
import { MemoryLog } from '../../../src/log.js';
import { Secrets } from '../../../src/secrets.js';

export const MANIFEST = 'services:\n  web:\n    image: registry.example.com/acme/shop:${IMAGE_VERSION}\n    port: 3000\n';
export const MANIFEST_PINNED = 'services:\n  web:\n    image: registry.example.com/acme/shop:20260101120000\n    port: 3000\n';

/** A gzip tarball holding `files`, built once; the factory hands out a fresh stream each call. */
export async function tarballFactory(
  files: Record<string, string>,
): Promise<{ source: () => NodeJS.ReadableStream; calls: () => number; bytes: number }> {
  const tgz = await makeTgz(files);
  let calls = 0;
  return {
    source: () => {
      calls++;
      // Several small chunks, so the upload is really streamed.
      const parts: Buffer[] = [];
      for (let i = 0; i < tgz.length; i += 512) parts.push(tgz.subarray(i, i + 512));
      return Readable.from(parts);
    },
    calls: () => calls,
    bytes: tgz.length,
  };
}

async function makeTgz(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, text] of Object.entries(files)) p.entry({ name }, text);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** A direct-mode target for a test server. */
export function directTarget(url: string, password: string): RackTarget {
  return { baseUrl: url, password, username: 'convox', insecureTls: false, source: 'test', passwordSource: 'rack-password' };
}

export function consoleTarget(url: string, password: string, rack: string): RackTarget {
  return { ...directTarget(url, password), rack, source: 'test console' };
}

export interface TestRequest extends DeployRequest {
  log: MemoryLog;
}

const issued: TestRequest[] = [];

/**
 * Every secret form of every issued request's password found in its job log (should be none).
 * Clears the list, so call it once per test (afterEach).
 */
export function leakedSecrets(): string[] {
  const leaks: string[] = [];
  for (const req of issued.splice(0)) {
    const pw = req.target.password;
    const forms = [
      pw,
      encodeURIComponent(pw),
      Buffer.from(`convox:${pw}`).toString('base64'),
      Buffer.from(pw).toString('base64'),
    ];
    for (const line of req.log.lines) if (forms.some((f) => line.includes(f))) leaks.push(line);
  }
  return leaks;
}

/** A deploy request with test-friendly defaults. */
export async function request(target: RackTarget, over: Partial<DeployRequest> = {}): Promise<TestRequest> {
  const secrets = new Secrets();
  const req: TestRequest = {
    target,
    app: 'shop',
    mode: 'manifest',
    source: (await tarballFactory({ 'convox.yml': MANIFEST_PINNED, Dockerfile: 'FROM scratch\n' })).source,
    manifest: 'convox.yml',
    envVar: 'IMAGE_VERSION',
    tag: '20260101120000',
    description: 'deploy from test',
    gitSha: '0123456789abcdef0123456789abcdef01234567',
    wait: true,
    timeoutMs: 20_000,
    secrets,
    limits: { graceMs: 1500, rollbackSettleMs: 2000, unknownMs: 2000 },
    ...over,
    log: over.log instanceof MemoryLog ? over.log : new MemoryLog(),
  };
  issued.push(req);
  return req;
}
