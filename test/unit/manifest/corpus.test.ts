/**
 * Real manifests from public repositories (test/fixtures/manifests/corpus, sources in its README),
 * each planned as written and as CRLF, BOM, BOM+CRLF and lone-CR variants: in manifest mode and in
 * env mode for every repository its services run, and once for a repository none of them runs.
 * What the services run, and where each image value starts, come from Go's own YAML libraries as
 * Convox and Compose use them (corpus/reference.json, from reference/yamlref), not from the code
 * under test.
 *
 * Every attempt ends one of two ways: planned, with the bytes changed only inside the image values
 * of exactly the services the reference names, js-yaml reading the result equal but for them, and
 * each position where yaml.v3 puts that value (and the diff's hunks the same in every variant); or refused with an ActionError whose message starts
 * with the file and, where the refusal is about a place, its line and column. Each variant must
 * end exactly as the file as written does. Outcomes are pinned in corpus/outcomes.json
 * (UPDATE_CORPUS=1 rewrites it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { load } from 'js-yaml';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { parseReference, sameRepository } from '../../../src/image/reference.js';
import type { ImageReference } from '../../../src/image/reference.js';
import { ActionError } from '../../../src/errors.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';
import type { ManifestPlan } from '../../../src/manifest/index.js';
import { MANIFEST_SCHEMA } from '../../../src/manifest/load.js';
import { CORPUS, REFERENCE_JSON, corpusSources } from './yamlref.js';
import type { CorpusSource, YamlRef } from './yamlref.js';

const TAG = 'corpus-20261122';
const NOBODY = parseReference('corpus.invalid/nobody-runs-this');
const sources = corpusSources();
const references = (JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as { files: Record<string, YamlRef> }).files;
const OUTCOMES = path.join(CORPUS, 'outcomes.json');
const pinned = existsSync(OUTCOMES) ? (JSON.parse(readFileSync(OUTCOMES, 'utf8')) as Record<string, Record<string, string>>) : {};

/** Convox's own test manifests are convox.yml files under other names. */
const asFile = (s: CorpusSource): string =>
  (s.repo === 'convox/convox' && s.path.includes('testdata/')) ||
  (s.repo === 'convox/rack' && s.path.startsWith('manifest/testdata/'))
    ? 'convox.yml'
    : path.basename(s.local);
const isConvox = (file: string): boolean => /(?:^|\/)convox[^/]*\.ya?ml$/.test(file);

/** Refusals that say the file is not YAML the action can read. */
const YAML_REFUSAL = /not valid YAML|appears twice|js-yaml cannot read|YAML documents|names no anchor|contains it/;
/** Characters above which a file's later repositories are planned as written only. */
const LARGE = 8000;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const VARIANTS: Record<string, (text: string) => Buffer> = {
  'as written': (t) => Buffer.from(t),
  crlf: (t) => Buffer.from(t.replace(/\r?\n/g, '\r\n')),
  bom: (t) => Buffer.concat([BOM, Buffer.from(t)]),
  'bom+crlf': (t) => Buffer.concat([BOM, Buffer.from(t.replace(/\r?\n/g, '\r\n'))]),
  'lone cr': (t) => Buffer.from(t.replace(/\r?\n/g, '\r')),
};

interface Repository {
  readonly ref: ImageReference;
  readonly services: string[];
}

/** The repositories the reference says the services run: literal references only. */
function repositories(images: Record<string, string>): Map<string, Repository> {
  const out = new Map<string, Repository>();
  for (const [service, image] of Object.entries(images)) {
    if (!image || image.includes('$')) continue;
    let ref: ImageReference;
    try {
      ref = parseReference(image);
    } catch {
      continue; // not a valid reference: nothing the action would push
    }
    const key = [...out.keys()].find((k) => sameRepository(out.get(k)!.ref, ref)) ?? ref.repository;
    const entry = out.get(key) ?? { ref, services: [] };
    entry.services.push(service);
    out.set(key, entry);
  }
  return out;
}

/** `host/ns/repo:tag@digest` → `host/ns/repo:<TAG>`, the way Docker splits a reference. */
function retagged(image: string): string {
  const name = image.split('@')[0] ?? image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return `${colon > slash ? name.slice(0, colon) : name}:${TAG}`;
}

/**
 * The reference loader: js-yaml; the yaml package only for the one construct js-yaml 5 refuses
 * (a flow collection closed at its key's column, real-world.test.ts has the minimal repro).
 */
const loaded = new Map<string, unknown>();
function loadValue(text: string): unknown {
  const src = text.replace(/^\ufeff/, '');
  if (loaded.has(src)) return loaded.get(src);
  let value: unknown;
  try {
    value = load(src, { schema: MANIFEST_SCHEMA });
  } catch (e) {
    if ((e as { reason?: string }).reason !== 'deficient indentation') throw e;
    value = parseDocument(src, { merge: true, strict: false }).toJS({ maxAliasCount: -1 });
  }
  loaded.set(src, value);
  return value;
}

/** Lines with their breaks; the line count must survive a rewrite. */
const lines = (bytes: Buffer): string[] => bytes.toString('utf8').split(/(?<=\r\n|\r(?!\n)|\n)/);

/** Why `after` is not `before` with only the image values changed, or undefined. */
function byteProblem(before: Buffer, after: Buffer, changes: Map<string, string>): string | undefined {
  const a = lines(before);
  const b = lines(after);
  if (a.length !== b.length) return `line count ${a.length} became ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const fits = [...changes].some(([old, next]) => {
      for (let at = a[i]!.indexOf(old); at !== -1; at = a[i]!.indexOf(old, at + 1))
        if (a[i]!.slice(0, at) + next + a[i]!.slice(at + old.length) === b[i]) return true;
      return false;
    });
    if (!fits) return `line ${i + 1} changed beyond an image value: ${JSON.stringify(a[i])} → ${JSON.stringify(b[i])}`;
  }
  return undefined;
}

/** Why the loaded values differ other than old image → new image, or undefined. */
function valueProblem(before: unknown, after: unknown, changes: Map<string, string>, at = ''): string | undefined {
  if (typeof before === 'string' && typeof after === 'string' && before !== after)
    return changes.get(before) === after ? undefined : `${at}: ${JSON.stringify(before)} became ${JSON.stringify(after)}`;
  if (before && after && typeof before === 'object' && typeof after === 'object') {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const problem = valueProblem(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        changes,
        `${at}.${key}`,
      );
      if (problem) return problem;
    }
    return undefined;
  }
  return isDeepStrictEqual(before, after) ? undefined : `${at} changed`;
}

/** What one file's reference says, as the deployer that reads it under this name. */
interface Expected {
  readonly file: string;
  readonly images: Record<string, string>;
  /** yaml.v3's line:column of each image value a position can be checked for. */
  readonly at: Record<string, string>;
}

const checked = { positions: 0 };

/** A refusal, checked: `file:line:col: ` when it has a place (and that place is yaml.v3's), else `file: `. */
function refused(e: unknown, expected: Expected): string {
  if (!(e instanceof ActionError)) throw e;
  const { line, column } = e.place;
  const prefix = line === undefined ? `${expected.file}: ` : `${expected.file}:${line}:${column}: `;
  if (!e.message.startsWith(prefix))
    throw new Error(`a refusal that does not start with ${JSON.stringify(prefix)}: ${e.message}`);
  const service = /^update is 'env' but (?:the image of|in the image of) service '([^']+)'/.exec(e.message.slice(prefix.length));
  const at = service && expected.at[service[1]!];
  if (at) {
    expect(`${line}:${column}`, `where yaml.v3 puts the image of ${service[1]}`).toBe(at);
    checked.positions++;
  }
  return `refused: ${e.message.split('\n')[0]}`;
}

/** A manifest-mode plan, checked against the reference; returns the outcome with its positions. */
function rewritten(plan: ManifestPlan, bytes: Buffer, services: string[], expected: Expected): string {
  expect(plan.services.map((s) => s.service).sort()).toEqual([...services].sort());
  for (const s of plan.services) {
    const at = expected.at[s.service];
    if (!at) continue;
    expect(`${s.line}:${s.column}`, `where yaml.v3 puts the image of ${s.service}`).toBe(at);
    checked.positions++;
  }
  const changes = new Map(plan.services.map((s) => [expected.images[s.service]!, retagged(expected.images[s.service]!)]));
  const bytesWrong = byteProblem(bytes, plan.after, changes);
  if (bytesWrong) throw new Error(bytesWrong);
  const valueWrong = valueProblem(loadValue(bytes.toString('utf8')), loadValue(plan.after.toString('utf8')), changes);
  if (valueWrong) throw new Error(valueWrong);
  // The diff's hunks too: every variant must show the same lines changed.
  const hunks = plan.diff.match(/^@@ .* @@$/gm) ?? [];
  return `rewritten ${plan.services.map((s) => `${s.service}@${s.line}:${s.column}`).join(' ')} ${hunks.join(' ')}`;
}

type Mode = 'manifest' | 'env' | 'unmatched';

function attempt(mode: Mode, bytes: Buffer, expected: Expected, repository?: Repository): string {
  let plan: ManifestPlan;
  try {
    plan = planManifestUpdate({
      file: expected.file,
      bytes,
      image: repository?.ref ?? NOBODY,
      mode: mode === 'env' ? 'env' : 'manifest',
      envVar: 'IMAGE_VERSION',
      tag: TAG,
    });
  } catch (e) {
    return refused(e, expected);
  }
  if (mode === 'manifest') return rewritten(plan, bytes, repository!.services, expected);
  if (mode === 'unmatched') throw new Error(`planned ${plan.services.length} services for an image none of them runs`);
  expect(plan.after.equals(bytes), 'env mode leaves the file as it is').toBe(true);
  return `env ${plan.services.map((s) => `${s.service}@${s.line}:${s.column}=${s.after}`).join(' ')}`;
}

const outcomes: Record<string, Record<string, string>> = {};

describe('the corpus of real manifests', () => {
  test('is what its README says it is', () => {
    expect(sources.length).toBeGreaterThanOrEqual(100);
    const readme = readFileSync(path.join(CORPUS, 'README.md'), 'utf8');
    for (const s of sources) {
      const text = readFileSync(path.join(CORPUS, s.local), 'utf8');
      expect(text.length, s.local).toBe(s.chars); // the stored text, whole
      expect(readme, s.local).toContain(`| ${s.repo} | ${s.path} | ${s.commit} |`);
      expect(readme, s.repo).toMatch(new RegExp(`^\\| ${s.repo} \\| \\d+ \\| .+ \\|$`, 'm')); // its licence
      expect(references[s.local], s.local).toBeDefined();
    }
  });

  test.each(sources)('$local', (s) => {
    const text = readFileSync(path.join(CORPUS, s.local), 'utf8');
    const file = asFile(s);
    const ref = references[s.local]!;
    const convox = isConvox(file);
    const expected: Expected = {
      file,
      images: (convox ? ref.convox : ref.compose) ?? {},
      at: (convox ? ref.directAt : ref.composeAt) ?? {},
    };
    const tries: [string, Mode, Repository?][] = [['unmatched', 'unmatched']];
    for (const [name, repository] of repositories(expected.images))
      tries.push([name, 'manifest', repository], [`env ${name}`, 'env', repository]);
    const results: Record<string, string> = {};
    for (const [i, [key, mode, repository]] of tries.entries()) {
      // Every attempt in every variant, except on a large file with many repositories (one of
      // them, getsentry/self-hosted, would take seconds alone): its first two in every variant.
      const variants = text.length > LARGE && i > 4 ? ['as written'] : Object.keys(VARIANTS);
      for (const variant of variants) {
        const outcome = attempt(mode, VARIANTS[variant]!(text), expected, repository);
        if (variant === 'as written') results[key] = outcome;
        else expect(outcome, `${variant}, ${key}`).toBe(results[key]);
      }
    }
    // Refuse a file for its YAML exactly when the deployer that reads it does.
    const deployerError = convox ? ref.convoxError : ref.composeError;
    for (const [key, outcome] of Object.entries(results)) {
      if (deployerError) expect(outcome, `${key}: the deployer refuses it (${deployerError})`).toMatch(/^refused: /);
      else expect(outcome, `${key}: the deployer loads this file`).not.toMatch(YAML_REFUSAL);
    }
    outcomes[s.local] = results;
    if (!process.env.UPDATE_CORPUS) expect(results).toEqual(pinned[s.local]);
  });

  afterAll(() => {
    if (process.env.UPDATE_CORPUS) writeFileSync(OUTCOMES, `${JSON.stringify(outcomes, null, 2)}\n`);
    console.log(summary(outcomes));
  });
});

/** Counts by mode and by reason, with names and values blanked: the figures the closing note gives. */
function summary(all: Record<string, Record<string, string>>): string {
  const counts = new Map<string, number>();
  for (const results of Object.values(all)) {
    for (const [key, outcome] of Object.entries(results)) {
      const mode = key === 'unmatched' ? 'unmatched' : key.startsWith('env ') ? 'env' : 'manifest';
      const reason = outcome
        .replace(/^(rewritten|env) .*/, '$1')
        .replace(/^refused: [^:]+(?::\d+:\d+)?: /, 'refused: ')
        .replace(/'[^']*'|"[^"]*"|\([^)]*\)|\$\{[^}]*\}|\S+\/\S+/g, '…');
      counts.set(`${mode}: ${reason}`, (counts.get(`${mode}: ${reason}`) ?? 0) + 1);
    }
  }
  const rows = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${String(n).padStart(5)}  ${k}`);
  return `corpus: ${Object.keys(all).length} files, ${checked.positions} positions checked against yaml.v3\n${rows.join('\n')}`;
}
