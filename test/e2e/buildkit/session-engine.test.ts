/**
 * The BuildKit session on the real engine and registry: a base image behind registry auth is
 * pulled with the credentials we give for exactly its host, and not without them. Needs the
 * engine and the registry; the e2e setup provides both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { readBuildStream } from '../../../src/engine/build-stream.js';
import { packContext } from '../../../src/context/pack.js';
import { openBuildSession, type CredentialsFor } from '../../../src/buildkit/session.js';
import { dockerCli, engine, postBuild } from '../../support/engine.js';
import { registryKind } from '../../support/services.js';
import { makeTree, removeTree } from '../../unit/support/tree.js';

const REGISTRY = process.env.TEST_REGISTRY ?? '127.0.0.1:5055';
const USER = process.env.TEST_REGISTRY_USER ?? 'ci';
const PASSWORD = process.env.TEST_REGISTRY_PASSWORD ?? 's3cr3t-pw';
const BASE = `${REGISTRY}/base/busybox:1`;
// Basic auth refuses an anonymous pull with a 401; a token registry hands out a token without
// access, then refuses the scope.
const REFUSED = registryKind() === 'v3-token' ? 'insufficient_scope' : '401 Unauthorized';
const onlyOurRegistry: CredentialsFor = (host) => (host === REGISTRY ? { username: USER, password: PASSWORD } : undefined);

async function build(dockerfile: string, credentialsFor: CredentialsFor, waitMs = 0) {
  const root = makeTree([['Dockerfile', dockerfile]]);
  const log = new MemoryLog();
  const session = await openBuildSession(engine(), credentialsFor, log);
  try {
    await new Promise((r) => setTimeout(r, waitMs));
    const packed = await packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'buildkit' });
    const stream = await postBuild(engine(), packed.stream, {
      version: '2',
      session: session.id,
      networkmode: 'none',
      nocache: '1',
      dockerfile: packed.dockerfileName,
    });
    const outcome = await readBuildStream(stream, { log }).then(
      (r) => r,
      (e: unknown) => e,
    );
    return { outcome, hosts: [...new Set(session.hostsAsked)], log: log.text() };
  } finally {
    session.close();
    removeTree(root);
  }
}

describe('BuildKit session on the real engine and registry', () => {
  beforeAll(async () => {
    // Put the base image behind the registry's auth, and make sure only the registry has it.
    const config = mkdtempSync(path.join(tmpdir(), 'session-test-docker-config-'));
    const env = { DOCKER_CONFIG: config };
    try {
      const login = await dockerCli(['login', REGISTRY, '-u', USER, '--password-stdin'], { env, input: PASSWORD });
      expect(login.code, login.output).toBe(0);
      expect((await dockerCli(['tag', 'local/busybox:test', BASE], { env })).code).toBe(0);
      const push = await dockerCli(['push', BASE], { env });
      expect(push.code, push.output).toBe(0);
    } finally {
      await dockerCli(['logout', REGISTRY], { env });
      rmSync(config, { recursive: true, force: true });
      await dockerCli(['rmi', BASE]);
    }
  }, 120_000);

  it('fails to pull the base image without credentials, having asked for exactly its registry host', async () => {
    const { outcome, hosts } = await build(`FROM ${BASE}\nRUN true\n`, () => undefined);
    expect(outcome).toBeInstanceOf(ActionError);
    expect((outcome as ActionError).message).toMatch(
      new RegExp(
        `^the image build failed at step \\[internal\\] load metadata for ${REGISTRY}/base/busybox:1: .*${REGISTRY}.*${REFUSED}`,
      ),
    );
    expect(hosts).toEqual([REGISTRY]);
  });

  it("pulls it with the credentials given for that host, the session outliving BuildKit's health checks", async () => {
    const { outcome, hosts, log } = await build(`FROM ${BASE}\nRUN echo pulled-with-session\n`, onlyOurRegistry, 2_500);
    expect(outcome, log).toMatchObject({ imageId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(log).toContain('pulled-with-session');
    expect(hosts).toEqual([REGISTRY]);
    expect(log).not.toContain(PASSWORD);
  });

  it('answers each host separately: the same registry under another name gets nothing', async () => {
    const other = BASE.replace(/^127\.0\.0\.1:/, 'localhost:');
    const { outcome, hosts } = await build(
      `FROM ${BASE} AS one\nFROM ${other}\nCOPY --from=one /bin/busybox /x\n`,
      onlyOurRegistry,
    );
    expect(outcome).toBeInstanceOf(ActionError);
    expect((outcome as ActionError).message).toMatch(
      new RegExp(`^the image build failed at step \\[internal\\] load metadata for localhost:\\d+/base/busybox:1: .*${REFUSED}`),
    );
    expect(hosts.sort()).toEqual([REGISTRY, other.split('/')[0]].sort());
  });
});
