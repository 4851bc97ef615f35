/**
 * convox.yml as the rack reads it (doc §2.8): `${NAME}` replaced in the raw text (unknown →
 * empty, no `$NAME`, no defaults), then YAML, then the `required env` check.
 */
import { load } from 'js-yaml';

export interface ManifestService {
  name: string;
  image: string;
  /** Build directory (default `.`) and Dockerfile name (default `Dockerfile`) when there is no image. */
  buildPath: string;
  dockerfile: string;
  environment: string[];
}

/** The rack's interpolation: the regex `\$\{([^}]*?)\}` over the raw bytes. */
export function interpolate(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([^}]*?)\}/g, (_m, name: string) => env.get(name) ?? '');
}

/**
 * Interpolate, parse and check a manifest; throws an Error whose message is what the rack
 * reports (`required env: A, B`, a YAML error…).
 */
export function loadManifest(raw: string, env: ReadonlyMap<string, string>): ManifestService[] {
  const doc = parseYaml(interpolate(raw, env));
  const top = stringList(doc.environment);
  const services = doc.services ?? {};
  if (typeof services !== 'object' || Array.isArray(services)) throw new Error('services must be a map');
  const out: ManifestService[] = Object.entries(services as Record<string, unknown>).map(([name, s]) => service(name, s, top));
  const missing = new Set<string>();
  for (const s of out) {
    for (const entry of s.environment) {
      if (!entry.includes('=') && entry !== '*' && !env.has(entry)) missing.add(entry);
    }
  }
  if (missing.size > 0) throw new Error(`required env: ${[...missing].sort().join(', ')}`);
  return out;
}

function parseYaml(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = load(text);
  } catch (e) {
    // js-yaml's message is close enough to Go yaml's "yaml: line N: …" for a person reading the log.
    throw new Error(`yaml: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('yaml: manifest is not a map');
  return doc as Record<string, unknown>;
}

function service(name: string, raw: unknown, topEnv: string[]): ManifestService {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const build = s.build;
  let buildPath = '.';
  let dockerfile = 'Dockerfile';
  if (typeof build === 'string') buildPath = build;
  else if (build && typeof build === 'object') {
    const b = build as Record<string, unknown>;
    if (typeof b.path === 'string') buildPath = b.path;
    if (typeof b.manifest === 'string') dockerfile = b.manifest;
  }
  return {
    name,
    image: typeof s.image === 'string' ? s.image : s.image === undefined || s.image === null ? '' : String(s.image),
    buildPath,
    dockerfile,
    environment: [...topEnv, ...stringList(s.environment)],
  };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}
