/**
 * The Convox SDK's wire details that are pure text: form encoding and the Console's Session
 * challenge header.
 */

export type FormValue = string | boolean | number | readonly string[] | undefined;

/** Form encoding as the Convox SDK does it: booleans `true`/`false`, lists comma-joined, unset omitted. */
export function encodeForm(form: Record<string, FormValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (value === undefined) continue;
    params.append(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return params.toString();
}

/** `Session path="/session" token="false"` → its parts; undefined when not a Session challenge. */
export function parseSessionChallenge(header: string | string[] | undefined): { path: string; token: boolean } | undefined {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const match = /Session\s+(.*)/i.exec(text);
  if (!match) return undefined;
  const attrs = new Map<string, string>();
  for (const m of (match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) attrs.set((m[1] ?? '').toLowerCase(), m[2] ?? '');
  const path = attrs.get('path');
  if (!path?.startsWith('/')) return undefined;
  return { path, token: attrs.get('token') === 'true' };
}
