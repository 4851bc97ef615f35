/**
 * dist/licenses.txt (written by scripts/build.mjs from esbuild's metafile) against an independent
 * record of what the bundles hold: the `// path/to/file.js` comment esbuild writes above each
 * module it puts into an unminified bundle. And the generator's refusals, on a made-up package.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { licencesText, NO_LICENCE_FILE } from '../../scripts/licenses.mjs';
import { REPO_ROOT } from '../support/run-action.js';

const dist = path.join(REPO_ROOT, 'dist');
const licences = readFileSync(path.join(dist, 'licenses.txt'), 'utf8');

/** `name@version` → the dist files whose module comments name one of its files. */
function packagesByComments(): Map<string, string[]> {
  const found = new Map<string, Set<string>>();
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.cjs'))) {
    const text = readFileSync(path.join(dist, file), 'utf8');
    for (const m of text.matchAll(/^\/\/ (\S*node_modules\/(?:@[^/\s]+\/)?[^/\s]+)\/\S+$/gm)) {
      const dir = path.resolve(REPO_ROOT, m[1]!.replace(/(.*node_modules\/(?:@[^/]+\/)?[^/]+).*/, '$1'));
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
      const key = `${pkg.name}@${pkg.version}`;
      found.set(key, new Set([...(found.get(key) ?? []), file]));
    }
  }
  return new Map([...found].map(([k, v]) => [k, [...v].sort()]));
}

/** licenses.txt's entries: the text between one rule and the next. */
const entries = licences.split(/^-{100}\n/m).slice(1);

/** `name@version` → `Bundled in:` files, for each entry of licenses.txt. */
function packagesInLicences(): Map<string, string[]> {
  return new Map(
    entries.map((e) => {
      const [key, , bundled] = e.split('\n');
      return [key!, bundled!.replace(/^Bundled in: /, '').split(', ')];
    }),
  );
}

describe('dist/licenses.txt', () => {
  it('lists exactly the packages the bundles hold, each with the files that hold it', () => {
    const byComments = packagesByComments();
    expect(byComments.size).toBeGreaterThan(20);
    expect(Object.fromEntries(packagesInLicences())).toEqual(Object.fromEntries(byComments));
  });

  it("gives each package its licence file's text", () => {
    const ws = entries.find((e) => e.startsWith('ws@'))!;
    const ownText = readFileSync(path.join(REPO_ROOT, 'node_modules/ws/LICENSE'), 'utf8').trim();
    expect(ws).toContain(ownText);
    for (const entry of entries) expect(entry.split('\n\n').slice(1).join('').trim(), entry.split('\n')[0]).not.toBe('');
  });
});

describe('LICENSE', () => {
  it("is the MIT licence package.json declares, word for word as another MIT package's, held by this project's authors", () => {
    const body = (text: string): string =>
      text
        .slice(text.indexOf('\n', text.indexOf('Copyright')))
        .replace(/\s+/g, ' ')
        .trim();
    const ours = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(ours).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the convox-image-deploy authors\n/);
    expect(body(ours)).toBe(body(readFileSync(path.join(REPO_ROOT, 'node_modules/js-yaml/LICENSE'), 'utf8')));
  });
});

describe('the licence generator', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cid-licences-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  /** A made-up package under `root`, and a build whose output holds `bytes` of its index.js. */
  function fakeBuild(name: string, files: Record<string, string>, bytes = 10) {
    const dir = path.join(root, 'node_modules', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', license: 'MIT' }));
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    const input = `node_modules/${name}/index.js`;
    return [
      {
        file: 'index.cjs',
        metafile: { inputs: {}, outputs: { 'dist/index.cjs': { inputs: { [input]: { bytesInOutput: bytes } } } } },
      },
    ];
  }
  const reviewed = Object.keys(NO_LICENCE_FILE).map((name) => fakeBuild(name, {})[0]!);

  it('writes a package that ships a licence file', () => {
    const text = licencesText([...fakeBuild('has-licence', { LICENSE: 'Made-up licence text' }), ...reviewed], root);
    expect(text).toContain('has-licence@1.2.3\nLicence: MIT\nBundled in: index.cjs\n\nMade-up licence text\n');
  });

  it('fails, naming it, for a bundled package without a licence file', () => {
    expect(() => licencesText([...fakeBuild('no-licence', { 'README.md': 'hi' }), ...reviewed], root)).toThrow(
      /no-licence@1\.2\.3 .* has no licence file \(package\.json says MIT\)/,
    );
  });

  it('leaves out a package whose code was all tree-shaken away', () => {
    expect(licencesText([...fakeBuild('shaken', {}, 0), ...reviewed], root)).not.toContain('shaken@');
  });

  it('fails when a reviewed exception is no longer bundled, so the list cannot go stale', () => {
    expect(() => licencesText(fakeBuild('has-licence', { LICENSE: 'x' }), root)).toThrow(/no longer bundled/);
  });
});
