// CHANGELOG.md (Keep a Changelog 1.1.0) for releases. Two commands:
//
//   node scripts/changelog.mjs notes v1.2.3      the release notes of v1.2.3, for the release
//                                                workflow: checks the tag is a semantic version,
//                                                that package.json says that version, and that
//                                                CHANGELOG.md has a dated, non-empty section for it
//   node scripts/changelog.mjs release 1.2.3 [YYYY-MM-DD]
//                                                before tagging: moves [Unreleased] into a new
//                                                section for 1.2.3 (dated today by default)
//
// Errors name the file and line and say what to do; the exit code is 1.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// semver.org's grammar, without build metadata (a tag with `+` is refused: GitHub and npm drop it).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;
const HEADING = /^## \[([^\]]+)\](?: - (\S+))?\s*$/;

/** `{ major, minor, patch, prerelease }` of a version such as 1.2.3 or 1.2.3-rc.1, or undefined. */
export function parseVersion(text) {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] };
}

/** The `## [name] - date` sections of a changelog, in order, with their 1-based heading line. */
export function sections(text) {
  const lines = text.split(/\r?\n/);
  const found = [];
  lines.forEach((line, i) => {
    const m = HEADING.exec(line);
    if (m) found.push({ name: m[1], date: m[2], line: i + 1, start: i + 1 });
    // Link definitions ([1.2.3]: https://…) close the last section.
    else if (/^\[[^\]]+\]: \S+/.test(line) && found.length && found.at(-1).end === undefined) found.at(-1).end = i;
  });
  for (const [i, s] of found.entries()) {
    const end = found[i + 1] ? found[i + 1].line - 1 : (s.end ?? lines.length);
    s.body = lines.slice(s.start, end).join('\n').trim();
    delete s.start;
    delete s.end;
  }
  return found;
}

class ChangelogError extends Error {}

/**
 * The release notes for `tag` (v1.2.3): the body of CHANGELOG's `## [1.2.3] - date` section.
 * `packageVersion` is package.json's version, which must be the same.
 */
export function releaseNotes(changelog, tag, packageVersion, file = 'CHANGELOG.md') {
  const version = tag.replace(/^v/, '');
  if (!tag.startsWith('v') || !parseVersion(version))
    throw new ChangelogError(`tag '${tag}' is not v<major>.<minor>.<patch>: push a tag such as v1.2.3 (or v1.2.3-rc.1)`);
  if (packageVersion !== version)
    throw new ChangelogError(
      `package.json says version ${packageVersion}, the tag says ${version}: run 'npm version ${version} --no-git-tag-version', commit, and tag that commit`,
    );
  const all = sections(changelog);
  const section = all.find((s) => s.name === version);
  if (!section)
    throw new ChangelogError(
      `${file} has no '## [${version}] - YYYY-MM-DD' section: run 'node scripts/changelog.mjs release ${version}', commit, and tag that commit`,
    );
  if (!section.date || !/^\d{4}-\d{2}-\d{2}$/.test(section.date))
    throw new ChangelogError(
      `${file}:${section.line}: the section for ${version} has no release date: write '## [${version}] - YYYY-MM-DD'`,
    );
  if (!section.body) throw new ChangelogError(`${file}:${section.line}: the section for ${version} is empty: say what changed`);
  return `${section.body}\n`;
}

/** The changelog with [Unreleased]'s entries moved into a new `## [version] - date` section. */
export function cutRelease(changelog, version, date, file = 'CHANGELOG.md') {
  if (!parseVersion(version)) throw new ChangelogError(`'${version}' is not a semantic version such as 1.2.3`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new ChangelogError(`'${date}' is not a date such as 2026-12-02`);
  const all = sections(changelog);
  const unreleased = all.find((s) => s.name === 'Unreleased');
  if (!unreleased) throw new ChangelogError(`${file} has no '## [Unreleased]' section to release`);
  if (!unreleased.body) throw new ChangelogError(`${file}:${unreleased.line}: [Unreleased] is empty: nothing to release`);
  const existing = all.find((s) => s.name === version);
  if (existing) throw new ChangelogError(`${file}:${existing.line}: ${version} is already released`);
  const lines = changelog.split('\n');
  lines.splice(unreleased.line, 0, '', `## [${version}] - ${date}`);
  return lines.join('\n');
}

function main(argv) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const changelogPath = path.join(root, 'CHANGELOG.md');
  const changelog = readFileSync(changelogPath, 'utf8');
  const [command, arg, date] = argv;
  if (command === 'notes' && arg) {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    process.stdout.write(releaseNotes(changelog, arg, pkg.version));
  } else if (command === 'release' && arg) {
    writeFileSync(changelogPath, cutRelease(changelog, arg, date ?? new Date().toISOString().slice(0, 10)));
  } else {
    throw new ChangelogError('usage: node scripts/changelog.mjs notes v1.2.3 | release 1.2.3 [YYYY-MM-DD]');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof ChangelogError)) throw e;
    process.stderr.write(`changelog: ${e.message}\n`);
    process.exitCode = 1;
  }
}
