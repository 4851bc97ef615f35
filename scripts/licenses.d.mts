// Types for scripts/licenses.mjs (a plain script the build runs without a compile step).
/** Only the parts of esbuild's Metafile the licence list reads. */
export interface LicenceBuild {
  file: string;
  metafile: { inputs: object; outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
}
export const NO_LICENCE_FILE: Record<string, { note: string; text: string }>;
export function bundledPackages(builds: readonly LicenceBuild[], cwd?: string): Map<string, Set<string>>;
export function licencesText(builds: readonly LicenceBuild[], cwd?: string): string;
