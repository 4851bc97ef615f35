/**
 * Every flow with distinctive secrets, scanned for each secret in every form it could travel in
 * (as is, base64 of user:secret, URL-encoded, base64): the log, stderr, outputs and job summary,
 * what the action sent to the GitHub API (PR comments, deployments) and the workspace files. Every
 * other run in test/e2e/reliability is scanned the same way (helpers.expectNoSecrets); here are
 * the flows they do not cover, and hostile ones: a registry, a rack, a rack build log and the
 * GitHub API that echo the credentials back inside their error texts and URLs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../../rack-server/index.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { startGitHubApi, type GitHubApiStandIn } from '../../support/github-api.js';
import { REPO_ROOT, runAction, type ActionRun } from '../../support/run-action.js';
import { makeWorkspace } from '../../support/workspace.js';
import { expectNoSecrets, findSecrets, GITHUB_TOKEN, RACK_PASSWORD, runSecrets, type Secret } from './helpers.js';

const services = inject('services');
const PULL_REQUEST = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/events/pull_request.json'), 'utf8')) as object;
const WRONG_REGISTRY: Secret = { value: 'Wr0ng/Reg+Secr3t@42', user: services.registryUser };
const WRONG_RACK: Secret = { value: 'Wr0ng/Rack+Secr3t@43', user: 'convox' };

let proxy: FaultProxy;
let gh: GitHubApiStandIn;
let rack: RackServer;
beforeAll(async () => {
  proxy = await new FaultProxy(services.registry).start();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(async () => {
  proxy.clear();
  await rack?.close();
  await gh?.close();
});

/** A registry error that quotes back everything the client sent: its Authorization header and the password. */
function echoCredentials(req: IncomingMessage): string {
  const said = `denied: ${String(req.headers.authorization)} for ${services.registryUser}:${services.registryPassword} at http://${services.registryUser}:${encodeURIComponent(services.registryPassword)}@${String(req.headers.host)}${req.url ?? ''}`;
  return JSON.stringify({ errors: [{ code: 'DENIED', message: said }] });
}

interface Flow {
  name: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  pr?: boolean;
  setup?: (r: RackServer, g: GitHubApiStandIn) => void;
  /** Extra secrets this flow hands the action. */
  secrets?: Secret[];
  /** What must be true of the run for the flow to have happened as meant (not just failed early). */
  check: (run: ActionRun) => void;
}

const FLOWS: Flow[] = [
  { name: 'build and push only', inputs: { update: 'none', app: '' }, check: (r) => expect(r.code).toBe(0) },
  {
    name: 'manifest rewrite and deploy, with a GitHub deployment',
    inputs: { environment: 'production', 'environment-url': 'https://shop.example.com' },
    check: (r) => expect(r.code, r.stdout.slice(-2000)).toBe(0),
  },
  { name: 'env mode deploy', inputs: { update: 'env' }, check: (r) => expect(r.code, r.stdout.slice(-2000)).toBe(0) },
  {
    name: 'dry run on a pull request with its comment',
    pr: true,
    check: (r) => expect(r.stdout).toMatch(/PR comment (created|updated)/),
  },
  {
    name: 'failing dry run on a pull request with its comment',
    pr: true,
    inputs: { file: 'Dockerfile.broken' },
    check: (r) => expect(r.stdout).toMatch(/PR comment (created|updated)/),
  },
  {
    name: 'wrong rack password',
    inputs: { 'rack-password': WRONG_RACK.value },
    secrets: [WRONG_RACK],
    check: (r) => expect(r.stdout).toMatch(/rejected the credential from rack-password/),
  },
  {
    name: 'wrong registry password',
    inputs: { 'registry-password': WRONG_REGISTRY.value, app: '', update: 'none' },
    secrets: [WRONG_REGISTRY],
    check: (r) => expect(r.stdout).toMatch(/refused the push/),
  },
  {
    name: 'registry echoing the credentials in its error',
    inputs: { app: '', update: 'none' },
    setup: () =>
      proxy.add({ method: /PUT/, path: /\/manifests\//, times: Infinity, action: { status: 403, body: echoCredentials } }),
    check: (r) => expect(r.stdout).toMatch(/refused the push[^\n]*denied: (?:Basic|Bearer) \*\*\*/),
  },
  {
    name: 'registry credentials from a Docker config, echoed by the registry',
    inputs: { app: '', update: 'none', 'registry-username': '', 'registry-password': '' },
    env: { DOCKER_CONFIG: '<docker-config>' },
    setup: () =>
      proxy.add({ method: /PUT/, path: /\/manifests\//, times: Infinity, action: { status: 403, body: echoCredentials } }),
    check: (r) => expect(r.stdout).toMatch(/refused the push[^\n]*denied: (?:Basic|Bearer) \*\*\*/),
  },
  {
    name: 'rack echoing the credentials in its error',
    setup: (r) =>
      r.faults.fail({
        method: 'GET',
        path: '/apps/shop',
        times: Infinity,
        status: 400,
        body: `bad request from convox:${RACK_PASSWORD} (Authorization: Basic ${Buffer.from(`convox:${RACK_PASSWORD}`).toString('base64')}) url=https://convox:${encodeURIComponent(RACK_PASSWORD)}@rack`,
      }),
    check: (r) => expect(r.stdout).toMatch(/could not read app shop[^\n]*bad request from convox:\*\*\*/),
  },
  {
    name: 'rack build log echoing the credentials',
    setup: (r) =>
      r.faults.failBuild(`could not pull with convox:${RACK_PASSWORD} and ${services.registryUser}:${services.registryPassword}`),
    check: (r) => expect(r.stdout).toMatch(/could not pull with convox:\*\*\*/),
  },
  {
    name: 'RACK_URL with the password in it',
    inputs: { 'rack-host': '', 'rack-password': '' },
    env: { RACK_URL: '<rack-url>' },
    check: (r) => expect(r.code, r.stdout.slice(-2000)).toBe(0),
  },
  {
    name: 'RACK_URL that is not a URL, with the password in it',
    inputs: { 'rack-host': '', 'rack-password': '' },
    env: { RACK_URL: `https://convox:${encodeURIComponent(RACK_PASSWORD)}@ht!tp:rack` },
    check: (r) => expect(r.stdout).toMatch(/RACK_URL/),
  },
  {
    name: 'GitHub API echoing the token in its error',
    inputs: { environment: 'production' },
    setup: (_r, g) =>
      g.fail({ status: 500, message: `token ${GITHUB_TOKEN} broke https://x-access-token:${GITHUB_TOKEN}@github.com` }),
    check: (r) => expect(r.stdout).toMatch(/::warning::/),
  },
];

describe('the scan', () => {
  it('finds every form of a secret planted in the output, a GitHub request or a workspace file', async () => {
    const secret: Secret = { value: 'Pl4nted/Secret+1@x', user: 'someone' };
    const ws = makeWorkspace({ 'a.txt': 'clean\n' });
    const clean = {
      code: 0,
      signal: null,
      stdout: '',
      stderr: '',
      outputs: {},
      summary: '',
      all: 'nothing here',
    } satisfies ActionRun;
    const forms = [
      secret.value,
      Buffer.from(`someone:${secret.value}`).toString('base64'),
      encodeURIComponent(secret.value),
      Buffer.from(secret.value).toString('base64'),
    ];
    expect(findSecrets(clean, { workspace: ws, secrets: [secret] })).toEqual({ scans: 8, leaks: [] });
    const api = await startGitHubApi();
    try {
      for (const form of forms) {
        expect(findSecrets({ ...clean, all: `x ${form} y` }, { secrets: [secret] }).leaks).toHaveLength(1);
        writeFileSync(path.join(ws, 'b.txt'), form);
        expect(findSecrets(clean, { workspace: ws, secrets: [secret] }).leaks).toEqual([
          expect.stringMatching(/^the workspace: /),
        ]);
        await fetch(`${api.url}/repos/acme/shop/issues/1/comments`, {
          method: 'POST',
          body: JSON.stringify({ body: `see ${form}` }),
          headers: { 'content-type': 'application/json' },
        });
        expect(findSecrets(clean, { gh: api, secrets: [secret] }).leaks).toEqual([
          expect.stringMatching(/^requests to the GitHub API: /),
        ]);
        api.requests.length = 0;
      }
    } finally {
      await api.close();
    }
  });
});

describe('no secret appears anywhere the action writes', () => {
  it.each(FLOWS)('$name', async (flow) => {
    gh = await startGitHubApi();
    rack = await startRackServer({
      password: RACK_PASSWORD,
      registry: { host: proxy.host, username: services.registryUser, password: services.registryPassword },
      apps: [{ name: 'shop', env: 'IMAGE_VERSION=old\nA=1', manifest: 'services:\n  web:\n    image: busybox\n' }],
    });
    flow.setup?.(rack, gh);
    const repo = `secrets/${flow.name.toLowerCase().replace(/\W+/g, '-')}`;
    const image = flow.inputs?.update === 'env' ? `${proxy.host}/${repo}:\${IMAGE_VERSION}` : `${proxy.host}/${repo}:old`;
    const ws = makeWorkspace({
      Dockerfile: 'FROM scratch\nCOPY a.txt /\n',
      'Dockerfile.broken': 'FROM scratch\nCOPY missing.txt /\n',
      'a.txt': 'a\n',
      'convox.yml': `services:\n  web:\n    image: ${image}\n`,
    });
    const env: Record<string, string> = { DOCKER_HOST: services.dockerHost, GITHUB_API_URL: gh.url, ...flow.env };
    if (env.RACK_URL === '<rack-url>')
      env.RACK_URL = rack.url.replace('http://', `http://convox:${encodeURIComponent(RACK_PASSWORD)}@`);
    if (env.DOCKER_CONFIG === '<docker-config>') {
      env.DOCKER_CONFIG = mkdtempSync(path.join(tmpdir(), 'cid-docker-config-'));
      writeFileSync(
        path.join(env.DOCKER_CONFIG, 'config.json'),
        JSON.stringify({
          auths: {
            [proxy.host]: { auth: Buffer.from(`${services.registryUser}:${services.registryPassword}`).toString('base64') },
          },
        }),
      );
    }
    const run = await runAction({
      inputs: {
        image: `${proxy.host}/${repo}`,
        tags: 't1',
        network: 'none',
        'registry-username': services.registryUser,
        'registry-password': services.registryPassword,
        app: 'shop',
        'rack-host': rack.url,
        'rack-build': 'source',
        'rack-password': RACK_PASSWORD,
        'github-token': GITHUB_TOKEN,
        timeout: '1m',
        ...flow.inputs,
      },
      env,
      workspace: ws,
      ...(flow.pr ? { eventName: 'pull_request', event: PULL_REQUEST } : {}),
    });
    flow.check(run);
    if (flow.pr) expect(gh.commentsOn('acme', 'shop', 17)).toHaveLength(1);
    expectNoSecrets(`secrets: ${flow.name}`, run, { workspace: ws, gh, secrets: runSecrets(services, flow.secrets) });
  });
});
