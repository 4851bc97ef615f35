// Types for scripts/changelog.mjs (a plain script the release workflow runs without a compile step).
export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string | undefined;
}
export interface Section {
  name: string;
  date: string | undefined;
  line: number;
  body: string;
}
export function parseVersion(text: string): Version | undefined;
export function sections(text: string): Section[];
export function releaseNotes(changelog: string, tag: string, packageVersion: string, file?: string): string;
export function cutRelease(changelog: string, version: string, date: string, file?: string): string;
