/**
 * Test helper: Go's YAML libraries as the reference for what a manifest's services run.
 * Builds test/fixtures/manifests/reference/yamlref (gopkg.in/yaml.v2 and yaml.v3 from the Go
 * module proxy) into a cache outside the checkout, keyed by a hash of its sources, and runs it on
 * the corpus and on the merge-key cases. The pinned files it produces are
 * test/fixtures/manifests/corpus/reference.json and test/fixtures/manifests/reference/merge-keys.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/manifests');
const SOURCE = path.join(FIXTURES, 'reference/yamlref');
export const CORPUS = path.join(FIXTURES, 'corpus');
export const REFERENCE_JSON = path.join(CORPUS, 'reference.json');
export const MERGE_KEYS_JSON = path.join(FIXTURES, 'reference/merge-keys.json');
export const GENERATED_BY = 'test/fixtures/manifests/reference/yamlref (gopkg.in/yaml.v2 v2.4.0, gopkg.in/yaml.v3 v3.0.1)';

/** What yamlref says about one file (see its main.go). */
export interface YamlRef {
  readonly convox?: Record<string, string>;
  readonly convoxError?: string;
  readonly compose?: Record<string, string>;
  readonly composeError?: string;
  readonly composeAt?: Record<string, string>;
  readonly directAt?: Record<string, string>;
}

/** One corpus file as sources.tsv lists it. */
export interface CorpusSource {
  readonly local: string;
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  readonly chars: number;
}

/** The corpus files, in sources.tsv order. */
export function corpusSources(): CorpusSource[] {
  return readFileSync(path.join(CORPUS, 'sources.tsv'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [local = '', repo = '', file = '', commit = '', chars = '0'] = line.split('\t');
      return { local, repo, path: file, commit, chars: Number(chars) };
    });
}

/** `go` (CID_GO, PATH or /usr/local/go), or why there is none. */
export function findGo(): { go: string } | { reason: string } {
  for (const go of process.env.CID_GO ? [process.env.CID_GO] : ['go', '/usr/local/go/bin/go']) {
    if (spawnSync(go, ['version']).status === 0) return { go };
  }
  return { reason: 'the Go YAML reference (yamlref) needs Go, which is not installed here' };
}

/** The yamlref binary, built first when the cache has none for these sources. */
export function buildYamlRef(): string {
  const found = findGo();
  if ('reason' in found) throw new Error(found.reason);
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(`${f}\0`).update(readFileSync(path.join(SOURCE, f)));
  const cache = process.env.CID_CACHE ?? path.join(homedir(), '.cache', 'convox-image-deploy');
  const dir = path.join(cache, 'yamlref', hash.digest('hex').slice(0, 16));
  const bin = path.join(dir, 'yamlref');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=readonly', CGO_ENABLED: '0' };
  const r = spawnSync(found.go, ['build', '-trimpath', '-o', tmp, '.'], { cwd: SOURCE, env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`go build of yamlref failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
  renameSync(tmp, bin); // atomic: a concurrent build finds a whole binary or none
  return bin;
}

/** Runs yamlref on named YAML texts; maps sorted by key so the pinned JSON is stable. */
export function runYamlRef(bin: string, cases: readonly { name: string; yaml: string }[]): Map<string, YamlRef> {
  const r = spawnSync(bin, [], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`yamlref failed (${r.status ?? r.signal}): ${r.stderr}`);
  const sorted = (m?: Record<string, string>) => m && Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
  const out = new Map<string, YamlRef>();
  for (const { name, ...ref } of JSON.parse(r.stdout) as (YamlRef & { name: string })[]) {
    const entries = Object.entries(ref).map(([k, v]) => [k, typeof v === 'string' ? v : sorted(v)]);
    out.set(name, Object.fromEntries(entries) as YamlRef);
  }
  return out;
}
