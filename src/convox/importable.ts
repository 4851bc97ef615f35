/**
 * Whether a manifest can take the import route (docs/rack-api.md §2.3): the rack loads it with
 * an EMPTY environment, so no `${…}` may appear and no `environment:` entry may lack a default;
 * and every service must have its own `image:` (a service with `build:` would receive the given
 * image instead of being built). Pure.
 */
import { load } from 'js-yaml';

/** `undefined` when importable, else why not (for the plan and the log). */
export function notImportable(text: string): string | undefined {
  if (/\$\{[^}]*\}/.test(text)) return 'the manifest uses ${…}, which the rack reads as empty on the import route';
  let doc: unknown;
  try {
    doc = text.trim() ? load(text) : {};
  } catch {
    return 'the manifest does not parse';
  }
  const root = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const services = root.services && typeof root.services === 'object' ? (root.services as Record<string, unknown>) : {};
  const names = Object.keys(services);
  if (names.length === 0) return 'the manifest has no services';
  const required = (env: unknown): string[] =>
    Array.isArray(env) ? env.map(String).filter((e) => !e.includes('=') && e !== '*') : [];
  const missing = new Set(required(root.environment));
  for (const [name, raw] of Object.entries(services)) {
    const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    if (typeof s.image !== 'string' || s.image === '') return `service ${name} is built from source (no image:)`;
    for (const e of required(s.environment)) missing.add(e);
  }
  if (missing.size) return `required environment without default (${[...missing].sort().join(', ')}) fails on the import route`;
  return undefined;
}
