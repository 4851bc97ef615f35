/**
 * The committed bundle's lazily loaded parts (scripts/build.mjs): every file dist/index.cjs
 * requires at run time is in dist/, loads on the runner's Node, and has what the shim hands out.
 * Some runs that need them (an ssh:// DOCKER_HOST, a proxy) are rare in the other tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, NODE24, REPO_ROOT } from '../support/run-action.js';

const node = existsSync(NODE24) ? NODE24 : process.execPath;
const bundle = readFileSync(BUNDLE, 'utf8');
/** Every `require("./x.cjs")` in `text`. */
const requiredParts = (text: string): string[] => [
  ...new Set([...text.matchAll(/require\("\.\/([\w-]+\.cjs)"\)/g)].map((m) => m[1]!)),
];
const parts = requiredParts(bundle);

/**
 * The shim the build put in `text` (a bundle file) for the part `file`: esbuild's CommonJS
 * wrapper around it, as `{ params, body }` to run with `new Function`.
 */
function shimOf(text: string, file: string): { params: [string, string]; body: string } {
  const at = text.indexOf(`require("./${file}")`);
  const head = [...text.slice(0, at).matchAll(/"lazy-part:\d+"\((\w+)(?:, (\w+))?\) \{\n/g)].at(-1);
  const end = text.indexOf('\n});', at);
  if (at < 0 || !head || end < 0) throw new Error(`no shim for ${file}`);
  // The wrapper's own closing brace is the last one before `});`.
  const body = text.slice(head.index + head[0].length, text.lastIndexOf('}', end));
  return { params: [head[1]!, head[2] ?? 'module'], body };
}

/** The export names a shim hands out as getters. */
function shimNames(text: string, file: string): string[] {
  return [...shimOf(text, file).body.matchAll(/Object\.defineProperty\(\w+, "(\w+)", \{ enumerable: true, get: /g)].map(
    (m) => m[1]!,
  );
}

/** The real module's export names, on the runner's Node. */
function realNames(file: string): string[] {
  return JSON.parse(
    execFileSync(
      node,
      [
        '-e',
        `console.log(JSON.stringify(Object.getOwnPropertyNames(require(${JSON.stringify(path.join(REPO_ROOT, 'dist', file))}))))`,
      ],
      { encoding: 'utf8' },
    ),
  ) as string[];
}

describe('dist/ lazy parts', () => {
  it('are the ones the build script writes', () => {
    expect(parts.sort()).toEqual(['github.cjs', 'http-client.cjs', 'ssh.cjs', 'ws.cjs']);
    // A part may load another lazily (the HTTP clients' undici).
    const nested = parts.flatMap((p) => requiredParts(readFileSync(path.join(REPO_ROOT, 'dist', p), 'utf8')));
    expect([...new Set(nested)]).toEqual(['undici.cjs']);
  });

  it.each(parts)("%s is committed next to the bundle and loads on the runner's Node", (file) => {
    const abs = path.join(REPO_ROOT, 'dist', file);
    expect(existsSync(abs)).toBe(true);
    const kind = execFileSync(node, ['-e', `const m = require(${JSON.stringify(abs)}); console.log(typeof m)`], {
      encoding: 'utf8',
    }).trim();
    expect(kind).toBe(file === 'ssh.cjs' || file === 'ws.cjs' ? 'function' : 'object');
  });

  it("ws's stand-in constructs the real WebSocket and hands out its statics", () => {
    const { params, body } = shimOf(bundle, 'ws.cjs');
    const out = execFileSync(
      node,
      [
        '-e',
        `
      const dist = ${JSON.stringify(path.join(REPO_ROOT, 'dist'))};
      const m = { exports: {} };
      new Function(${JSON.stringify(params[0])}, ${JSON.stringify(params[1])}, 'require', ${JSON.stringify(body)})(m.exports, m, (f) => require(dist + '/' + f.slice(2)));
      const WebSocket = m.exports;
      const loadedBefore = Object.keys(require.cache).some((f) => f.endsWith('ws.cjs'));
      const ws = new WebSocket('ws://127.0.0.1:9', { handshakeTimeout: 50 });
      ws.on('error', () => {});
      console.log(JSON.stringify([loadedBefore, ws instanceof require(dist + '/ws.cjs'), WebSocket.OPEN, WebSocket.CLOSED, typeof WebSocket.Server]));
      ws.terminate();
    `,
      ],
      { encoding: 'utf8' },
    ).trim();
    // Nothing loaded until it was used; then a real instance.
    expect(JSON.parse(out)).toEqual([false, true, 1, 3, 'function']);
  });

  it.each([
    ['index.cjs', 'http-client.cjs', ['HttpClient']],
    ['index.cjs', 'github.cjs', ['getOctokit', 'context']],
    ['index.cjs', 'ws.cjs', ['OPEN', 'Server']],
    ['http-client.cjs', 'undici.cjs', ['ProxyAgent', 'fetch']],
    ['github.cjs', 'undici.cjs', ['ProxyAgent', 'fetch']],
  ])("%s's shim for %s names only what the real module has, %j among them", (from, file, some) => {
    const names = shimNames(readFileSync(path.join(REPO_ROOT, 'dist', from), 'utf8'), file);
    expect(names).toEqual(expect.arrayContaining(some));
    const real = realNames(file);
    expect(names.filter((n) => !real.includes(n))).toEqual([]);
  });
});
