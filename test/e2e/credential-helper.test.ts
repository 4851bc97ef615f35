/**
 * The bundle asks a Docker credential helper (credHelpers in DOCKER_CONFIG) for the registry's
 * credentials through @actions/exec, as the Docker CLI would, and never prints what it answers.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, withLogin } from '../support/docker-cli.js';
import { runAction } from '../support/run-action.js';

const services = inject('services');

describe('credentials from a credential helper, in the bundle', () => {
  const image = `${services.registry}/acme/helper`;
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'cid-helper-'));
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    const answer = JSON.stringify({
      ServerURL: services.registry,
      Username: services.registryUser,
      Secret: services.registryPassword,
    });
    writeFileSync(
      path.join(bin, 'docker-credential-e2e'),
      `#!/bin/sh\nread -r url || true\nprintf '%s %s\\n' "$1" "$url" >> "${root}/calls"\nprintf '%s' '${answer}'\n`,
    );
    chmodSync(path.join(bin, 'docker-credential-e2e'), 0o755);
    writeFileSync(path.join(root, 'config.json'), JSON.stringify({ credHelpers: { [services.registry]: 'e2e' } }));
    withLogin(services.dockerHost, services.registry, services.registryUser, services.registryPassword, (cfg) => {
      docker(services.dockerHost, ['tag', services.baseImage, `${image}:v1`]);
      docker(services.dockerHost, ['push', `${image}:v1`], { dockerConfig: cfg });
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("checks an existing tag with the helper's credentials (build: false), printing none of them", async () => {
    const run = await runAction({
      inputs: { image, tags: 'v1', build: 'false', update: 'none' },
      env: { DOCKER_HOST: services.dockerHost, DOCKER_CONFIG: root, PATH: `${path.join(root, 'bin')}:${process.env.PATH ?? ''}` },
      workspace: root,
    });
    expect(run.code, run.all).toBe(0);
    expect(run.stdout).toContain(`${image}:v1 exists in the registry as sha256:`);
    expect(readFileSync(path.join(root, 'calls'), 'utf8')).toBe(`get ${services.registry}\n`);
    expect(run.all).not.toContain(services.registryPassword);
  });
});
