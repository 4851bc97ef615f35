// The licences of the packages bundled into dist/, for dist/licenses.txt. Which packages are in
// a bundle comes from esbuild's metafile (the bytes each input file has in each output), so a
// package counts if and only if some of its code is in some dist/*.cjs: not what package.json
// lists, not what node_modules holds.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

// Packages that ship no licence file, each reviewed by hand: what they declare and where that was
// checked. Anything else without a licence file fails the build, and so does an entry here that
// is no longer bundled or now ships a file (so the list cannot go stale).
export const NO_LICENCE_FILE = {
  'split-ca': {
    note: 'ships no licence file (neither does its repository, github.com/bushong1/split-ca); its package.json declares ISC, author Charles Bushong.',
    text: [
      'ISC License',
      '',
      'Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is',
      'hereby granted, provided that the above copyright notice and this permission notice appear in all copies.',
      '',
      'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE',
      'INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR',
      'ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF',
      'USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF',
      'OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.',
    ].join('\n'),
  },
};

const LICENCE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;

/** The directory of the package that holds `file` (the part up to the last node_modules/<name>). */
function packageDirOf(file) {
  const parts = file.split(path.sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  const take = parts[i + 1].startsWith('@') ? i + 3 : i + 2;
  return parts.slice(0, take).join(path.sep);
}

/**
 * The packages whose files esbuild read for each output: a map from package directory to the
 * outputs (`index.cjs`, …) that contain it. `builds` holds `{ file, metafile }` per output.
 */
export function bundledPackages(builds, cwd = process.cwd()) {
  const found = new Map();
  for (const { file, metafile } of builds) {
    // An output's inputs with their bytes in it: a file esbuild read but tree-shook away is not shipped.
    const inputs = Object.values(metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([name]) => name),
    );
    for (const input of inputs) {
      // Plugin namespaces (`lazy-part:0`, `unused-dockerode:./session`) are our own shims.
      if (/^[a-z-]+:/.test(input)) continue;
      const dir = packageDirOf(path.resolve(cwd, input));
      if (!dir) continue;
      const real = realpathSync(dir);
      found.set(real, new Set([...(found.get(real) ?? []), file]));
    }
  }
  return found;
}

function declaredLicence(pkg) {
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license?.type) return pkg.license.type;
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l) => l.type ?? l).join(' OR ');
  return undefined;
}

/** One package's entry: name, version, licence, where it is bundled, and the licence text. */
function entryFor(dir, files, problems, usedExceptions) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const licenceFiles = readdirSync(dir)
    .filter((f) => LICENCE_FILE.test(f))
    .sort();
  const declared = declaredLicence(pkg);
  const exception = NO_LICENCE_FILE[pkg.name];
  let text;
  if (licenceFiles.length) {
    text = licenceFiles.map((f) => readFileSync(path.join(dir, f), 'utf8').trim()).join('\n\n');
    if (exception) problems.push(`${pkg.name} now ships ${licenceFiles.join(', ')}: drop it from NO_LICENCE_FILE`);
  } else if (exception) {
    usedExceptions.add(pkg.name);
    text = `(${exception.note})\n\n${exception.text}`;
  } else {
    problems.push(`${pkg.name}@${pkg.version} (${dir}) has no licence file${declared ? ` (package.json says ${declared})` : ''}`);
    return undefined;
  }
  const header = `${pkg.name}@${pkg.version}\nLicence: ${declared ?? 'not declared in its package.json; the text below is its licence file'}\nBundled in: ${[...files].sort().join(', ')}`;
  return { key: `${pkg.name}@${pkg.version}`, body: `${header}\n\n${text}` };
}

/**
 * dist/licenses.txt's text for the given builds. Throws, naming each package, when a bundled
 * package has no licence file (and no reviewed NO_LICENCE_FILE entry).
 */
export function licencesText(builds, cwd = process.cwd()) {
  const problems = [];
  const used = new Set();
  const entries = [];
  for (const [dir, files] of bundledPackages(builds, cwd)) {
    if (!existsSync(path.join(dir, 'package.json'))) continue;
    const entry = entryFor(dir, files, problems, used);
    if (entry) entries.push(entry);
  }
  for (const name of Object.keys(NO_LICENCE_FILE))
    if (!used.has(name) && !problems.some((p) => p.startsWith(`${name} `)))
      problems.push(`${name} is in NO_LICENCE_FILE but no longer bundled: drop it from the list`);
  if (problems.length) throw new Error(`Licences of bundled packages:\n  ${problems.join('\n  ')}`);
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const intro = [
    'The packages bundled into dist/*.cjs and their licences, written by scripts/build.mjs from',
    "esbuild's record of the files each bundle contains. Do not edit.",
  ].join('\n');
  const rule = '-'.repeat(100);
  return `${intro}\n\n${entries.map((e) => `${rule}\n${e.body}\n`).join('\n')}`;
}
