/**
 * What the build session answers when BuildKit asks for a registry's credentials: a `FROM`
 * image on a registry the job logged in to (docker/login-action's config) gets that registry's
 * own credentials, the push registry keeps the inputs', and unknown hosts get none.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCredentials } from '../../../src/phases/image.js';
import { Secrets } from '../../../src/secrets.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-creds-'));
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      auths: {
        'ghcr.example.com': { auth: b64('octo:ghcr-Secret-9') },
        'https://index.docker.io/v1/': { auth: b64('hubber:hub-Secret-7') },
      },
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sessionCredentials', () => {
  const known = { '127.0.0.1:5000': { username: 'ci', password: 'input-Secret-1' } };

  it.each([
    ['127.0.0.1:5000', { username: 'ci', password: 'input-Secret-1' }],
    ['ghcr.example.com', { username: 'octo', password: 'ghcr-Secret-9' }],
    ['registry-1.docker.io', { username: 'hubber', password: 'hub-Secret-7' }],
    ['index.docker.io', { username: 'hubber', password: 'hub-Secret-7' }],
    ['quay.example.com', undefined],
  ])('answers %s', async (host, expected) => {
    const secrets = new Secrets();
    const answer = sessionCredentials(known, { env: { DOCKER_CONFIG: dir }, secrets });
    expect(await answer(host)).toEqual(expected);
    // Whatever came from the Docker config is registered as a secret before BuildKit sees it.
    if (expected && host !== '127.0.0.1:5000') expect(secrets.redact(`pw=${expected.password}`)).toBe('pw=***');
  });

  it('prefers what is known over the Docker config for the same host', async () => {
    const answer = sessionCredentials(
      { 'ghcr.example.com': { username: 'input', password: 'from-inputs' } },
      { env: { DOCKER_CONFIG: dir }, secrets: new Secrets() },
    );
    expect(await answer('ghcr.example.com')).toEqual({ username: 'input', password: 'from-inputs' });
  });

  it('answers none when the Docker config is missing or unreadable, without failing the build', async () => {
    const answer = sessionCredentials({}, { env: { DOCKER_CONFIG: join(dir, 'nowhere') }, secrets: new Secrets() });
    expect(await answer('ghcr.example.com')).toBeUndefined();
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'config.json'), '{ not json');
    const fromBroken = sessionCredentials({}, { env: { DOCKER_CONFIG: broken }, secrets: new Secrets() });
    expect(await fromBroken('ghcr.example.com')).toBeUndefined();
  });
});
