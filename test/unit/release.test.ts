/**
 * Releases: scripts/changelog.mjs on the real CHANGELOG.md, its version grammar against npm's
 * semver (the reference), and the release workflow's own shell steps run with bash and git in a
 * scratch repository with a local origin, as the runner would run them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cutRelease, parseVersion, releaseNotes, sections } from '../../scripts/changelog.mjs';
import { ROOT, stepsOf } from './support/workflows.js';

const semver = createRequire(import.meta.url)('semver') as { valid(v: string): string | null };
const changelog = readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const releaseSteps = stepsOf(readFileSync(path.join(ROOT, '.github/workflows/release.yml'), 'utf8'));
const stepRun = (name: string): string => releaseSteps.find((s) => s.name === name)!.run!;
/** [Unreleased]'s text, read with plain string operations (not the script's own parser). */
const unreleased = `${changelog
  .split('\n## [Unreleased]\n')[1]!
  .split(/\n## \[|\n\[[^\]]+\]: /)[0]!
  .trim()}\n`;

const scratch = mkdtempSync(path.join(tmpdir(), 'cid-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('CHANGELOG.md', () => {
  const all = sections(changelog);

  it('keeps a changelog: [Unreleased] first, then dated releases, newest first, with the standard headings', () => {
    expect(changelog.startsWith('# Changelog\n')).toBe(true);
    expect(all[0]?.name).toBe('Unreleased');
    const released = all.slice(1);
    for (const s of released) expect(`${s.name} ${s.date}`).toMatch(/^\S+ \d{4}-\d{2}-\d{2}$/);
    for (const s of released) expect(parseVersion(s.name), s.name).toBeDefined();
    const subheadings = [...changelog.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    for (const h of subheadings) expect(['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security']).toContain(h);
  });

  it("has package.json's version released or about to be", () => {
    expect(all.some((s) => s.name === version) || all[0]!.body !== '').toBe(true);
  });

  it("gives the release notes of package.json's version once [Unreleased] is cut into it", () => {
    const cut = cutRelease(changelog, version, '2026-12-02');
    const notes = releaseNotes(cut, `v${version}`, version);
    expect(notes).toBe(unreleased);
    expect(notes).toContain('### Added');
    expect(sections(cut)[0]).toMatchObject({ name: 'Unreleased', body: '' });
  });
});

describe('the notes refuse a release that is not ready, saying what to do', () => {
  const cut = cutRelease(changelog, version, '2026-12-02');
  it.each([
    ['a tag that is no version', 'v1.2', version, /is not v<major>\.<minor>\.<patch>/],
    ['a tag without the v', version, version, /is not v<major>/],
    ['package.json saying another version', `v${version}`, '9.9.9', /package\.json says version 9\.9\.9.*npm version/],
    ['no section for the version', 'v9.9.9', '9.9.9', /no '## \[9\.9\.9\] - YYYY-MM-DD' section.*changelog\.mjs release 9\.9\.9/],
  ])('%s', (_, tag, pkg, message) => {
    expect(() => releaseNotes(cut, tag, pkg)).toThrow(message);
  });

  it('an undated or empty section, by its line', () => {
    expect(() => releaseNotes('# Changelog\n\n## [1.0.0]\n\n- x\n', 'v1.0.0', '1.0.0')).toThrow(
      /CHANGELOG\.md:3: .* no release date/,
    );
    expect(() =>
      releaseNotes('# Changelog\n\n## [1.0.0] - 2026-01-01\n\n## [0.9.0] - 2025-01-01\n- y\n', 'v1.0.0', '1.0.0'),
    ).toThrow(/CHANGELOG\.md:3: .* is empty/);
  });

  it('cutting an empty [Unreleased], or a version twice', () => {
    const once = cutRelease(changelog, version, '2026-12-02');
    expect(() => cutRelease(once, '9.9.9', '2026-12-03')).toThrow(/\[Unreleased\] is empty/);
    expect(() => cutRelease(`${once.replace('## [Unreleased]', '## [Unreleased]\n\n- more')}`, version, '2026-12-03')).toThrow(
      /already released/,
    );
  });
});

describe('the version grammar agrees with npm semver', () => {
  // semver.org's FAQ regex test strings (valid and invalid), without build metadata, which a
  // tag does not carry: GitHub and npm drop it.
  const vectors = [
    ...['0.0.4', '1.2.3', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.beta.1', '1.0.0-alpha0.valid', '1.0.0-alpha.0valid'],
    ...[
      '1.0.0-rc.1',
      '10.2.3-DEV-SNAPSHOT',
      '1.2.3-SNAPSHOT-123',
      '2.0.1-alpha.1227',
      '1.2.3----RC-SNAPSHOT.12.9.1--.12',
      '1.0.0-0A.is.legal',
    ],
    ...['1', '1.2', '1.2.3-0123', '1.2.3-0123.0123', '-invalid', 'alpha', 'alpha.beta.1', '1.0.0-alpha_beta', '1.0.0-alpha..1'],
    ...[
      '01.1.1',
      '1.01.1',
      '1.1.01',
      '1.2.3.DEV',
      '1.2-SNAPSHOT',
      '1.2-RC-SNAPSHOT',
      '-1.0.3-gamma',
      'v1.2.3',
      ' 1.2.3',
      '1.2.3-',
    ],
  ];
  it.each(vectors)('%s', (v) => {
    expect(parseVersion(v) !== undefined).toBe(semver.valid(v) === v);
  });
});

/** Runs a release workflow step's script with bash in `cwd`, as the runner does (bash -e). */
function runStep(script: string, cwd: string, env: Record<string, string>): { code: number; out: string } {
  const r = spawnSync('bash', ['-e', '-c', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: scratch, ...env },
    encoding: 'utf8',
  });
  return { code: r.status ?? 1, out: r.stdout + r.stderr };
}

describe("the release workflow's steps, run as the runner runs them", () => {
  it('writes the tag’s CHANGELOG section as the release notes, and fails for a tag with none', () => {
    const repo = path.join(scratch, 'notes');
    mkdirSync(path.join(repo, 'scripts'), { recursive: true });
    cpSync(path.join(ROOT, 'scripts/changelog.mjs'), path.join(repo, 'scripts/changelog.mjs'));
    cpSync(path.join(ROOT, 'package.json'), path.join(repo, 'package.json'));
    writeFileSync(path.join(repo, 'CHANGELOG.md'), cutRelease(changelog, version, '2026-12-02'));
    const env = { RUNNER_TEMP: repo, GITHUB_REF_NAME: `v${version}` };
    const ok = runStep(stepRun('Release notes from CHANGELOG.md'), repo, env);
    expect(ok.out).toBe('');
    expect(readFileSync(path.join(repo, 'notes.md'), 'utf8')).toBe(unreleased);
    const bad = runStep(stepRun('Release notes from CHANGELOG.md'), repo, { ...env, GITHUB_REF_NAME: 'v9.9.9' });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^changelog: package\.json says version/);
  });

  /** A clone of a scratch origin holding the given release tags, each on a commit of its own. */
  function cloneWithTags(name: string, tags: string[]): { clone: string; origin: string; sha: (t: string) => string } {
    const origin = path.join(scratch, `${name}.git`);
    const work = path.join(scratch, `${name}-work`);
    const git = (cwd: string, ...args: string[]): string =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
    git(scratch, 'init', '-q', '--bare', '--initial-branch=main', origin);
    git(scratch, 'init', '-q', '--initial-branch=main', work);
    for (const t of tags) {
      git(work, 'commit', '-q', '--allow-empty', '-m', t);
      git(work, 'tag', t);
    }
    git(work, 'push', '-q', origin, 'HEAD:refs/heads/main', '--tags');
    const clone = path.join(scratch, `${name}-clone`);
    git(scratch, 'clone', '-q', origin, clone);
    return { clone, origin, sha: (t) => git(origin, 'rev-parse', `${t}^{commit}`) };
  }

  it.each([
    ['the newest release moves the major tag to it', ['v1.2.0', 'v1.3.0'], 'v1.3.0', 'v1.3.0'],
    ['a patch to an older minor leaves it at the newest', ['v1.3.0', 'v1.2.4'], 'v1.2.4', 'v1.3.0'],
    ['v1.10.0 is newer than v1.9.0', ['v1.9.0', 'v1.10.0'], 'v1.10.0', 'v1.10.0'],
    ['another major has its own tag', ['v1.3.0', 'v2.0.0'], 'v2.0.0', 'v2.0.0'],
  ])('%s', (name, tags, released, expected) => {
    const repo = cloneWithTags(name.replace(/\W+/g, '-'), tags);
    const major = released.split('.')[0]!;
    if (tags.length > 1 && major === 'v1')
      execFileSync('git', ['push', '-q', repo.origin, `${repo.sha(tags[0]!)}:refs/tags/v1`], { cwd: repo.clone });
    const r = runStep(stepRun('Move the major tag'), repo.clone, { GITHUB_REF_NAME: released, GITHUB_SHA: repo.sha(released) });
    expect(r.code, r.out).toBe(0);
    expect(repo.sha(major)).toBe(repo.sha(expected));
  });
});
