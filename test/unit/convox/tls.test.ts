/**
 * rack-insecure-tls: a rack with a self-signed certificate is refused by default (with the fix
 * named) and reached when the switch is on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectApp } from '../../../src/convox/inspect.js';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { directTarget } from './harness.js';

let server: Server;
let url = '';
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convox-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  // A stand-in rack: just enough answers for a read-only inspection.
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const answers: Record<string, unknown> = {
      '/system': { version: '3.24.9' },
      '/apps/shop': { name: 'shop', status: 'running', release: 'RABCDEFGHIJ' },
      '/apps/shop/releases': [],
    };
    const body = answers[(req.url ?? '').split('?')[0] ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('self-signed racks', () => {
  it('are refused by default, naming rack-insecure-tls', async () => {
    const e = await inspectApp(directTarget(url, 'pw'), 'shop', 'IMAGE_VERSION', new MemoryLog()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).fix).toMatch(/rack-insecure-tls: true/);
  });

  it('are reached with insecure TLS on', async () => {
    const info = await inspectApp({ ...directTarget(url, 'pw'), insecureTls: true }, 'shop', 'IMAGE_VERSION', new MemoryLog());
    expect(info).toMatchObject({ status: 'running', release: 'RABCDEFGHIJ', canReadReleases: true });
  });
});
