/**
 * The committed bundle's lazily loaded parts (scripts/build.mjs): every file dist/index.cjs
 * requires at run time is in dist/, loads on the runner's Node, and has what the shim hands out.
 * The runs that need them (an ssh:// DOCKER_HOST, a proxy) are rare in the other tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, NODE24, REPO_ROOT } from '../support/run-action.js';

const node = existsSync(NODE24) ? NODE24 : process.execPath;
const bundle = readFileSync(BUNDLE, 'utf8');
const parts = [...new Set([...bundle.matchAll(/require\("\.\/([\w-]+\.cjs)"\)/g)].map((m) => m[1]!))];

describe('dist/ lazy parts', () => {
  it('are the ones the build script writes', () => {
    expect(parts.sort()).toEqual(['ssh.cjs', 'undici.cjs']);
  });

  it.each(parts)('%s is committed next to the bundle and loads on the runner\'s Node', (file) => {
    const abs = path.join(REPO_ROOT, 'dist', file);
    expect(existsSync(abs)).toBe(true);
    const kind = execFileSync(node, ['-e', `const m = require(${JSON.stringify(abs)}); console.log(typeof m)`], { encoding: 'utf8' }).trim();
    expect(kind).toBe(file === 'ssh.cjs' ? 'function' : 'object');
  });

  it('undici\'s shim names only exports the real module has, ProxyAgent and fetch among them', () => {
    const names = [...bundle.matchAll(/Object\.defineProperty\(exports2?, "(\w+)", \{ enumerable: true, get: \(\) => load\d*\(\)\["\1"\] \}\)/g)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['ProxyAgent', 'fetch']));
    const real = JSON.parse(execFileSync(node, ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(path.join(REPO_ROOT, 'dist/undici.cjs'))}))))`], { encoding: 'utf8' })) as string[];
    expect(names.filter((n) => !real.includes(n))).toEqual([]);
  });
});
