import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { engineAuthConfig, resolveCredentials } from '../../../src/registry/credentials.js';
import { hostKey } from '../../../src/registry/docker-config.js';
import { Secrets } from '../../../src/secrets.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

// A real executable on PATH, answering like docker-credential-pass/-osxkeychain do.
const HELPER = `#!/bin/sh
[ "$1" = get ] || { echo "usage: get" >&2; exit 2; }
url=$(cat)
printf '%s|' "$url" >> "$HELPER_LOG"
case "$url" in
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hub-helper-pw"}' ;;
  127.0.0.1:5055) echo '{"Username":"<token>","Secret":"identity-tok-55"}' ;;
  broken.example) echo 'error: keychain is locked for hub-helper-pw' >&2; exit 3 ;;
  notjson.example) echo 'hello' ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
`;

let root: string;
let binDir: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'creds-test-'));
  binDir = join(root, 'bin');
  await mkdir(binDir);
  await writeFile(join(binDir, 'docker-credential-fake'), HELPER);
  await chmod(join(binDir, 'docker-credential-fake'), 0o755);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Setup {
  env: NodeJS.ProcessEnv;
  secrets: Secrets;
  log: MemoryLog;
  helperCalls: () => Promise<string[]>;
  home: string;
}

/** A fresh DOCKER_CONFIG dir holding `config` (or nothing), and the fake helper on PATH. */
async function setup(config: unknown, where: 'DOCKER_CONFIG' | 'home' = 'DOCKER_CONFIG'): Promise<Setup> {
  const dir = join(root, `case-${n++}`);
  const home = join(dir, 'home');
  const configDir = where === 'home' ? join(home, '.docker') : join(dir, 'cfg');
  await mkdir(configDir, { recursive: true });
  if (config !== undefined) {
    await writeFile(join(configDir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  }
  const helperLog = join(dir, 'helper.log');
  await writeFile(helperLog, '');
  const env: NodeJS.ProcessEnv = {
    PATH: `${binDir}:${process.env['PATH'] ?? ''}`,
    HELPER_LOG: helperLog,
    ...(where === 'DOCKER_CONFIG' ? { DOCKER_CONFIG: configDir } : {}),
  };
  const helperCalls = async (): Promise<string[]> => (await readFile(helperLog, 'utf8')).split('|').filter(Boolean);
  return { env, secrets: new Secrets(), log: new MemoryLog(), helperCalls, home };
}

async function resolve(s: Setup, registry: string, inputs: { username?: string; password?: string } = {}) {
  return resolveCredentials(registry, { ...inputs, env: s.env, secrets: s.secrets, homedir: s.home, log: s.log });
}

const HUB = 'https://index.docker.io/v1/';

describe('resolveCredentials from the Docker config auths', () => {
  it.each([
    [
      'hub auth field',
      { auths: { [HUB]: { auth: b64('alice:pw:with:colons') } } },
      'docker.io',
      { username: 'alice', password: 'pw:with:colons', serveraddress: HUB },
    ],
    [
      'hub via registry-1 host',
      { auths: { [HUB]: { auth: b64('alice:pw1') } } },
      'registry-1.docker.io',
      { username: 'alice', password: 'pw1', serveraddress: HUB },
    ],
    [
      'hub keyed by plain host',
      { auths: { 'docker.io': { auth: b64('alice:pw2') } } },
      'docker.io',
      { username: 'alice', password: 'pw2', serveraddress: HUB },
    ],
    [
      'host:port key',
      { auths: { '127.0.0.1:5055': { auth: b64('ci:s3cr3t-pw') } } },
      '127.0.0.1:5055',
      { username: 'ci', password: 's3cr3t-pw', serveraddress: '127.0.0.1:5055' },
    ],
    [
      'https:// key',
      { auths: { 'https://ghcr.io': { auth: b64('bot:ghp_x1') } } },
      'ghcr.io',
      { username: 'bot', password: 'ghp_x1', serveraddress: 'ghcr.io' },
    ],
    [
      'host case differs',
      { auths: { 'Registry.Example.com': { auth: b64('u:p12') } } },
      'registry.example.com',
      { username: 'u', password: 'p12', serveraddress: 'registry.example.com' },
    ],
    [
      'username/password fields',
      { auths: { 'ghcr.io': { username: 'bot', password: 'pw-fields' } } },
      'ghcr.io',
      { username: 'bot', password: 'pw-fields', serveraddress: 'ghcr.io' },
    ],
    [
      'auth wins over fields',
      { auths: { 'ghcr.io': { username: 'x', password: 'y', auth: b64('bot:from-auth') } } },
      'ghcr.io',
      { username: 'bot', password: 'from-auth', serveraddress: 'ghcr.io' },
    ],
    [
      'identity token',
      { auths: { 'acr.example.io': { username: '00000000-0000', identitytoken: 'refresh-tok' } } },
      'acr.example.io',
      { username: '00000000-0000', password: '', identitytoken: 'refresh-tok', serveraddress: 'acr.example.io' },
    ],
    ['empty marker entry', { auths: { 'ghcr.io': {} } }, 'ghcr.io', undefined],
    ['other registry only', { auths: { 'ghcr.io': { auth: b64('a:b12') } } }, '127.0.0.1:5055', undefined],
    ['different port', { auths: { '127.0.0.1:5056': { auth: b64('a:b12') } } }, '127.0.0.1:5055', undefined],
    ['no auths at all', {}, 'ghcr.io', undefined],
  ])('%s', async (_name, config, registry, expected) => {
    const s = await setup(config);
    expect(await resolve(s, registry)).toEqual(expected);
    if (expected) {
      const secret = 'identitytoken' in expected ? expected.identitytoken : expected.password;
      expect(s.secrets.redact(`pw=${secret}`)).toBe('pw=***');
    }
  });

  it('reads ~/.docker/config.json when DOCKER_CONFIG is unset', async () => {
    const s = await setup({ auths: { 'ghcr.io': { auth: b64('bot:home-pw') } } }, 'home');
    expect(await resolve(s, 'ghcr.io')).toEqual({ username: 'bot', password: 'home-pw', serveraddress: 'ghcr.io' });
  });

  it('is anonymous when there is no config file', async () => {
    const s = await setup(undefined);
    expect(await resolve(s, 'ghcr.io')).toBeUndefined();
  });

  it('registers the base64 form the password travels in', async () => {
    const s = await setup({ auths: { 'ghcr.io': { auth: b64('bot:b64-pw') } } });
    await resolve(s, 'ghcr.io');
    expect(s.secrets.redact(`Authorization: Basic ${b64('bot:b64-pw')}`)).toBe('Authorization: Basic ***');
  });

  it.each([
    // Node 22+ adds "(line 1 column 47)".
    ['{ "auths": { "ghcr.io": { "auth": "c2VjcmV0", } } }', /^is not valid JSON \(at position 46( \(line 1 column 47\))?\)$/],
    [JSON.stringify({ auths: [] }), 'has a "auths" that is not an object'],
    [
      JSON.stringify({ auths: { 'ghcr.io': { auth: b64('nocolon') } } }),
      'has an "auth" value for "ghcr.io" that is not base64 of user:password',
    ],
  ])('names the config file when it is broken: %s', async (text, problem) => {
    const s = await setup(text);
    const e = await resolve(s, 'ghcr.io').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    const prefix = `Docker config ${join(s.env['DOCKER_CONFIG'] ?? '', 'config.json')} `;
    const message = (e as ActionError).message;
    expect(message.startsWith(prefix)).toBe(true);
    expect(message.slice(prefix.length)).toMatch(problem);
    expect((e as ActionError).fix).toContain('docker/login-action');
    expect((e as ActionError).message).not.toContain('c2VjcmV0');
  });
});

describe('resolveCredentials from credential helpers', () => {
  it("asks the credsStore for Docker Hub with the CLI's server URL", async () => {
    const s = await setup({ auths: { [HUB]: {} }, credsStore: 'fake' });
    expect(await resolve(s, 'docker.io')).toEqual({ username: 'hubuser', password: 'hub-helper-pw', serveraddress: HUB });
    expect(await s.helperCalls()).toEqual([HUB]);
    expect(s.secrets.redact('x hub-helper-pw x')).toBe('x *** x');
  });

  it('uses credHelpers for its registry and reads "<token>" as an identity token', async () => {
    const s = await setup({ credHelpers: { '127.0.0.1:5055': 'fake' } });
    expect(await resolve(s, '127.0.0.1:5055')).toEqual({
      username: '',
      password: '',
      identitytoken: 'identity-tok-55',
      serveraddress: '127.0.0.1:5055',
    });
    expect(await s.helperCalls()).toEqual(['127.0.0.1:5055']);
    expect(s.secrets.redact('identity-tok-55')).toBe('***');
  });

  it('prefers credHelpers over credsStore and leaves other registries to auths', async () => {
    const s = await setup({ credHelpers: { 'ghcr.io': 'missing-one' }, auths: { 'ghcr.io': { auth: b64('bot:fallback') } } });
    expect(await resolve(s, 'ghcr.io')).toEqual({ username: 'bot', password: 'fallback', serveraddress: 'ghcr.io' });
    expect(s.log.lines).toEqual([
      `warning: ${join(s.env['DOCKER_CONFIG'] ?? '', 'config.json')} names credential helper "missing-one" for ghcr.io, but docker-credential-missing-one is not installed; continuing without its credentials`,
    ]);
  });

  it('treats "credentials not found" as no credentials, falling back to auths', async () => {
    const s = await setup({ credsStore: 'fake', auths: { 'quay.io': { auth: b64('q:quay-pw') } } });
    expect(await resolve(s, 'quay.io')).toEqual({ username: 'q', password: 'quay-pw', serveraddress: 'quay.io' });
    expect(await resolve(s, 'other.io')).toBeUndefined();
    expect(await s.helperCalls()).toEqual(['quay.io', 'other.io']);
  });

  it.each([
    [
      'broken.example',
      'credential helper docker-credential-fake failed with exit code 3: error: keychain is locked for *** (asked for broken.example)',
    ],
    [
      'notjson.example',
      'credential helper docker-credential-fake printed something that is not JSON (asked for notjson.example)',
    ],
  ])('fails clearly when the helper fails for %s', async (registry, message) => {
    const s = await setup({ credsStore: 'fake' });
    s.secrets.add('hub-helper-pw');
    const e = await resolve(s, registry).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(message);
    expect((e as ActionError).fix).toContain(`echo ${registry} | docker-credential-fake get`);
  });

  it('uses an injected runner', async () => {
    const s = await setup({ credsStore: 'injected' });
    const calls: string[] = [];
    const creds = await resolveCredentials('ghcr.io', {
      env: s.env,
      secrets: s.secrets,
      runHelper: async (name, stdin) => {
        calls.push(`${name} ${stdin}`);
        return { code: 0, stdout: '{"Username":"u","Secret":"injected-pw"}', stderr: '' };
      },
    });
    expect(creds).toEqual({ username: 'u', password: 'injected-pw', serveraddress: 'ghcr.io' });
    expect(calls).toEqual(['injected ghcr.io']);
  });
});

describe('resolveCredentials from inputs', () => {
  it('uses the inputs over any config, without asking helpers', async () => {
    const s = await setup({ credsStore: 'fake', auths: { '127.0.0.1:5055': { auth: b64('other:other-pw') } } });
    expect(await resolve(s, '127.0.0.1:5055', { username: 'ci', password: 's3cr3t-pw' })).toEqual({
      username: 'ci',
      password: 's3cr3t-pw',
      serveraddress: '127.0.0.1:5055',
    });
    expect(await s.helperCalls()).toEqual([]);
    expect(s.secrets.redact('s3cr3t-pw')).toBe('***');
  });

  it.each([
    [{ username: 'ci' }, 'registry-password', 'registry-username is set but registry-password is empty', 'forks'],
    [{ username: 'ci', password: '' }, 'registry-password', 'registry-password is empty', 'forks'],
    [{ password: 'pw' }, 'registry-username', 'registry-password is set but registry-username is empty', 'set registry-username'],
  ])('rejects a half-given pair %j', async (inputs, input, message, fix) => {
    const s = await setup(undefined);
    const e = await resolve(s, 'ghcr.io', inputs).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).place.input).toBe(input);
    expect((e as ActionError).message).toContain(message);
    expect((e as ActionError).fix).toContain(fix);
  });
});

describe('engineAuthConfig', () => {
  it.each([
    [undefined, {}],
    [
      { username: 'ci', password: 'pw', serveraddress: '127.0.0.1:5055' },
      { username: 'ci', password: 'pw', serveraddress: '127.0.0.1:5055' },
    ],
    [
      { username: '', password: '', identitytoken: 't', serveraddress: 'acr.io' },
      { identitytoken: 't', serveraddress: 'acr.io' },
    ],
    [
      { username: 'u', password: '', identitytoken: 't', serveraddress: 'acr.io' },
      { username: 'u', identitytoken: 't', serveraddress: 'acr.io' },
    ],
  ])('%j', (creds, expected) => {
    expect(engineAuthConfig(creds)).toEqual(expected);
  });
});

describe('hostKey', () => {
  it.each([
    [HUB, 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://127.0.0.1:5055', '127.0.0.1:5055'],
    ['https://GHCR.io/v2/', 'ghcr.io'],
    ['[::1]:5000', '[::1]:5000'],
  ])('%s → %s', (key, host) => {
    expect(hostKey(key)).toBe(host);
  });
});
