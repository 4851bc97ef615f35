/** The rack's env text rules (doc §2.5) and the release description diff (`pkg/common/env.go`). */

/**
 * Parse `KEY=VALUE` lines: split on the first `=`, trim the key, keep the value as is; lines
 * without `=` or with an empty key are dropped. A trailing `\r` goes, as Go's line scanner drops it.
 */
export function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    if (key) env.set(key, line.slice(eq + 1));
  }
  return env;
}

/** Sorted `KEY=VALUE` lines joined by `\n`, no trailing newline. */
export function serializeEnv(env: ReadonlyMap<string, string>): string {
  return [...env.keys()]
    .sort()
    .map((k) => `${k}=${env.get(k) ?? ''}`)
    .join('\n');
}

/** `add:A change:B remove:C` (each group sorted), empty when nothing changed. */
export function envDiff(before: string, after: string): string {
  const a = parseEnv(before.trim());
  const b = parseEnv(after.trim());
  const adds = [...b.keys()].filter((k) => !a.has(k)).sort();
  const changes = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)).sort();
  const removes = [...a.keys()].filter((k) => !b.has(k)).sort();
  return [...adds.map((k) => `add:${k}`), ...changes.map((k) => `change:${k}`), ...removes.map((k) => `remove:${k}`)].join(' ');
}
