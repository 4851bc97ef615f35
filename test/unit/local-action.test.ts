/**
 * GitHub's local runner, as GitHub documents it for debugging a JavaScript action:
 *   npx @github/local-action run . src/main.ts .env
 * It loads src/main.ts from the TypeScript sources with @actions/core and @actions/github stubbed
 * and calls its zero-argument run(); with the repository's .env.example (the example app's dry
 * run) the action must plan, skip the build for want of an engine (none here) and set its outputs.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('npx @github/local-action run . src/main.ts .env', () => {
  it("runs the example app's dry run from the sources", async () => {
    const bin = path.join(root, 'node_modules/@github/local-action/bin/local-action.js');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'run', '.', 'src/main.ts', '.env.example'], {
      cwd: root,
      env,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const out = stdout + stderr;
    expect(out).not.toMatch(/does not export a run\(\) function|crashed|TypeError/);
    expect(out).toContain('Dry run (dry-run: true): this is what a real run would do.');
    expect(out).toMatch(/Skipped the build: cannot reach the Docker engine/);
    expect(out).toContain('Dry run (dry-run: true): nothing was pushed, written or deployed.');
    // The stubbed core.setOutput: local-action's table of outputs.
    expect(out).toMatch(/Action Outputs[\s\S]*'dry-run'\s*│\s*'true'/);
    expect(out).toMatch(/'image'\s*│\s*'example\/app:\d{14}'/);
  }, 150_000);
});
