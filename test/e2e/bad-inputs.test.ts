/**
 * Every bad input fails before any side effect: the real bundle exits non-zero with a message
 * that names the input and a fix, and nothing was built, pushed, written, or sent to the rack
 * or the GitHub API. Prints the tally for the README's reliability table.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRackServer, type RackServer } from '../rack-server/index.js';
import { startGitHubApi, type GitHubApiStandIn } from '../support/github-api.js';
import { runAction, type ActionRun } from '../support/run-action.js';
import { engineSnapshot, registrySnapshot, workspaceSnapshot } from '../support/snapshot.js';
import { makeWorkspace } from '../support/workspace.js';
import { recordFigure } from '../support/figures.js';

const services = inject('services');
const RACK_PASSWORD = 'Bad-Input-Rack-Pa55';

interface Case {
  name: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** Changes to the workspace before the run. */
  prepare?: (ws: string) => void;
  /** The input the message must name (`input '<name>'`), or a pattern it must match. */
  names: string | RegExp;
}

const CASES: Case[] = [
  { name: 'image missing', inputs: { image: '' }, names: 'image' },
  { name: 'uppercase repository', inputs: { image: 'Acme/Shop' }, names: 'image' },
  { name: 'image with a tag', inputs: { image: 'acme/shop:latest' }, names: 'image' },
  { name: 'image with a digest', inputs: { image: `acme/shop@sha256:${'a'.repeat(64)}` }, names: 'image' },
  { name: 'empty path component', inputs: { image: 'acme//shop' }, names: 'image' },
  { name: 'leading dash', inputs: { image: '-acme/shop' }, names: 'image' },
  { name: 'space in image', inputs: { image: 'acme/sh op' }, names: 'image' },
  { name: 'image name over 255 characters', inputs: { image: `acme/${'a'.repeat(300)}` }, names: 'image' },
  { name: 'slash in a tag', inputs: { tags: 'feature/x' }, names: 'tags' },
  { name: 'space in a tag', inputs: { tags: 'v1 beta' }, names: 'tags' },
  { name: 'tag starting with a dot', inputs: { tags: '.hidden' }, names: 'tags' },
  { name: 'tag starting with a dash', inputs: { tags: '-dash' }, names: 'tags' },
  { name: 'unknown template variable', inputs: { tags: '{{nope}}' }, names: 'tags' },
  { name: 'template rendering empty', inputs: { tags: '{{sha}}' }, env: { GITHUB_SHA: '' }, names: 'tags' },
  { name: '{{branch}} on a tag push', inputs: { tags: '{{branch}}' }, env: { GITHUB_REF: 'refs/tags/v3.0.2' }, names: 'tags' },
  { name: 'tag over 128 characters', inputs: { tags: 'x'.repeat(129) }, names: 'tags' },
  { name: 'duplicate tags', inputs: { tags: 'v1,v1' }, names: 'tags' },
  { name: 'unknown timestamp code', inputs: { 'timestamp-format': '%Q' }, names: 'timestamp-format' },
  { name: 'timestamp format with a colon', inputs: { 'timestamp-format': '%H:%M' }, names: 'timestamp-format' },
  { name: 'context outside the workspace', inputs: { context: '../..' }, names: 'context' },
  { name: 'missing context directory', inputs: { context: 'no-such-dir' }, names: 'context' },
  { name: 'missing Dockerfile', inputs: { file: 'docker/Dockerfile.prod' }, names: 'file' },
  { name: 'Dockerfile outside the workspace', inputs: { file: '../Dockerfile' }, names: 'file' },
  { name: 'manifest path traversal', inputs: { manifest: '../convox.yml' }, names: 'manifest' },
  { name: 'absolute manifest path', inputs: { manifest: '/etc/hostname' }, names: 'manifest' },
  { name: 'manifest symlink out of the workspace', inputs: { manifest: 'linked.yml' }, prepare: (ws) => symlinkSync('/etc/hostname', path.join(ws, 'linked.yml')), names: 'manifest' },
  { name: 'missing manifest', inputs: { manifest: 'deploy/convox.yml' }, names: 'manifest' },
  { name: 'unknown update mode', inputs: { update: 'sideways' }, names: 'update' },
  { name: 'env mode without app', inputs: { update: 'env', app: '' }, names: 'update' },
  { name: 'timeout nonsense', inputs: { timeout: 'soon' }, names: 'timeout' },
  { name: 'negative timeout', inputs: { timeout: '-5m' }, names: 'timeout' },
  { name: 'zero timeout', inputs: { timeout: '0' }, names: 'timeout' },
  { name: 'rack-host garbage', inputs: { 'rack-host': 'ht!tp://rack' }, names: 'rack-host' },
  { name: 'rack-host with a foreign scheme', inputs: { 'rack-host': 'ftp://rack.example.com' }, names: 'rack-host' },
  { name: 'boolean yes', inputs: { build: 'yes' }, names: 'build' },
  { name: 'boolean on', inputs: { push: 'on' }, names: 'push' },
  { name: 'boolean 1', inputs: { wait: '1' }, names: 'wait' },
  { name: 'boolean Y', inputs: { 'pin-digest': 'Y' }, names: 'pin-digest' },
  { name: 'boolean sure', inputs: { 'rack-insecure-tls': 'sure' }, names: 'rack-insecure-tls' },
  { name: 'dry-run maybe', inputs: { 'dry-run': 'maybe' }, names: 'dry-run' },
  { name: 'empty services list', inputs: { services: ' , ' }, names: 'services' },
  { name: 'env-var with a dash', inputs: { 'env-var': 'IMAGE-VERSION' }, names: 'env-var' },
  { name: 'build-args line without =', inputs: { 'build-args': 'NOEQUALS' }, names: 'build-args' },
  { name: 'label without a key', inputs: { labels: '=value' }, names: 'labels' },
  { name: 'registry password without user', inputs: { 'registry-username': '' }, names: 'registry-username' },
  { name: 'registry user without password', inputs: { 'registry-password': '' }, names: 'registry-password' },
  { name: 'no-cache with build: false', inputs: { 'no-cache': 'true', build: 'false' }, names: 'no-cache' },
  { name: 'app name with capitals', inputs: { app: 'Shop_App' }, names: 'app' },
  { name: 'named service that does not exist', inputs: { services: 'ghost' }, names: /ghost[\s\S]*web/ },
];

let rack: RackServer;
let gh: GitHubApiStandIn;
let engineBefore: string;
let registryBefore: string;
const results: { name: string; ok: boolean }[] = [];

beforeAll(async () => {
  rack = await startRackServer({ password: RACK_PASSWORD, apps: [{ name: 'shop', env: 'A=1', manifest: 'services:\n  web:\n    image: busybox\n' }] });
  gh = await startGitHubApi();
  engineBefore = engineSnapshot(services.dockerHost);
  registryBefore = await registrySnapshot(services);
});

afterAll(async () => {
  await rack.close();
  await gh.close();
  const rejected = results.filter((r) => r.ok).length;
  recordFigure('bad-inputs', { tried: results.length, rejectedBeforeSideEffects: rejected });
  console.log(`bad inputs: ${results.length} tried, ${rejected} rejected before any side effect`);
});

function validInputs(): Record<string, string> {
  return {
    image: `${services.registry}/acme/bad-input`,
    tags: '{{timestamp}}',
    network: 'none',
    'registry-username': services.registryUser,
    'registry-password': services.registryPassword,
    app: 'shop',
    'rack-host': rack.url,
    'rack-password': RACK_PASSWORD,
    'github-token': 'ghs_BadInputToken',
  };
}

async function runCase(c: Case): Promise<{ run: ActionRun; ws: string; before: Record<string, string> }> {
  const ws = makeWorkspace({ Dockerfile: 'FROM scratch\nCOPY a.txt /\n', 'a.txt': 'a\n', 'convox.yml': `services:\n  web:\n    image: ${services.registry}/acme/bad-input:old\n` });
  mkdirSync(path.join(ws, 'sub'));
  writeFileSync(path.join(ws, 'sub/keep.txt'), 'keep\n');
  c.prepare?.(ws);
  const before = workspaceSnapshot(ws);
  const run = await runAction({ inputs: { ...validInputs(), ...c.inputs }, env: { DOCKER_HOST: services.dockerHost, GITHUB_API_URL: gh.url, ...c.env }, workspace: ws });
  return { run, ws, before };
}

describe(`${CASES.length} bad inputs, each rejected before any side effect`, () => {
  it.each(CASES)('$name', async (c) => {
    const { run, ws, before } = await runCase(c);
    let ok = false;
    try {
      expect(run.code, run.all).toBe(1);
      if (typeof c.names === 'string') expect(run.stdout).toContain(`input '${c.names}'`);
      else expect(run.stdout).toMatch(c.names);
      expect(run.stdout).toMatch(/Fix: \S/);
      expect(workspaceSnapshot(ws)).toEqual(before);
      expect(rack.requests.map((q) => `${q.method} ${q.path}`)).toEqual([]);
      expect(gh.requests.map((q) => `${q.method} ${q.path}`)).toEqual([]);
      expect(run.all).not.toContain(RACK_PASSWORD);
      ok = true;
    } finally {
      results.push({ name: c.name, ok });
    }
  });

  it('left the engine and the registry exactly as they were', async () => {
    expect(engineSnapshot(services.dockerHost)).toBe(engineBefore);
    expect(await registrySnapshot(services)).toBe(registryBefore);
  });
});
