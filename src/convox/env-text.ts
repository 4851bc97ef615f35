/**
 * A Convox release environment as text, read and written exactly as the rack does
 * (`pkg/structs/environment.go`): `KEY=VALUE` lines split on the first `=`, key trimmed, value
 * kept byte for byte (surrounding spaces included; a trailing `\r` goes, as
 * Go's line scanner drops it), lines without `=` or with an empty key
 * dropped; written sorted and joined with `\n`, no trailing newline. Pure.
 */

/** Parses release env text into an ordered map. A later duplicate key wins, as on the rack. */
export function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of text.split('\n')) {
    // The rack reads env text with Go's line scanner, which drops a trailing \r.
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    if (!key) continue;
    env.set(key, line.slice(eq + 1));
  }
  return env;
}

/** Serialises an env map the way the rack does: sorted by key, `\n`-joined. */
export function formatEnv(env: ReadonlyMap<string, string>): string {
  return [...env.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => `${key}=${env.get(key) ?? ''}`)
    .join('\n');
}

/** Why `key=value` cannot be stored in a release env, or undefined when it can. */
export function envEntryProblem(key: string, value: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `"${key}" is not an environment variable name`;
  if (/[\r\n]/.test(value)) return `the value for ${key} contains a line break, which a Convox env cannot hold`;
  return undefined;
}

/**
 * The env text with `key=value` set and every other variable kept exactly, plus whether it
 * changed (no new release is needed when the value is already there).
 */
export function withVariable(text: string, key: string, value: string): { text: string; changed: boolean; previous?: string } {
  const env = parseEnv(text);
  const previous = env.get(key);
  env.set(key, value);
  return { text: formatEnv(env), changed: previous !== value, previous };
}
