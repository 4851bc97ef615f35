/**
 * Differential test against distribution/reference itself: the module docker/cli vendors, built
 * from the Go module proxy (test/fixtures/reference/oracle) and cached outside the checkout. Every
 * vector input, our own cases and a few thousand generated references go through both; Parse must
 * agree with matchReference exactly (validity, parts, kind of error), ParseNormalizedNamed with
 * parseReference on validity and parts, except where DELIBERATE/OURS say we differ on purpose.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../../fixtures/reference/distribution-reference.js';
import { formatReference, InvalidReferenceError, parseReference } from '../../../src/image/reference.js';
import { matchReference } from '../../../src/image/reference-grammar.js';

interface Parsed {
  ok: boolean;
  kind?: string;
  error?: string;
  name?: string;
  domain: string;
  path?: string;
  tag?: string;
  digest?: string;
  familiar?: string;
}
interface Answer {
  input: string;
  normalized: Parsed;
  parse: Parsed;
}

const ORACLE_SRC = path.resolve(import.meta.dirname, '../../fixtures/reference/oracle');
const CACHE = process.env.CID_CACHE ?? path.join(homedir(), '.cache/convox-image-deploy');

function hasGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds the oracle once per source version; later runs reuse the cached binary. */
function oracleBinary(): string {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(path.join(ORACLE_SRC, f)));
  const bin = path.join(CACHE, `reference-oracle-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${bin}.${process.pid}`;
  execFileSync('go', ['build', '-o', tmp, '.'], { cwd: ORACLE_SRC, stdio: 'pipe', env: { ...process.env, GOFLAGS: '-mod=mod' } });
  renameSync(tmp, bin);
  return bin;
}

const HEX = '0123456789abcdef';
const hex = (n: number): string => Array.from({ length: n }, (_, i) => HEX[(i * 7) % 16]).join('');
/** Pieces references are made of, good and bad, so generated strings hit every branch. */
const PIECES = [
  ...['a', 'b', 'z9', '0', 'x'.repeat(40), 'A', 'Docker', 'LOCAL', '-', '_', '__', '.', '..', '/', '//', ':', '@', ' ', '%'],
  ...['localhost', 'docker.io', 'index.docker.io', 'example.com', 'bad_host.io', 'xn--n3h.com', '127.0.0.1', ':5000', ':http'],
  ...['[::1]', '[2001:db8::1]', '[fe80::1%eth0]', '[::ffff:192.0.2.1]', 'library/', 'latest', 'v1.0', ':TAG', ':-x'],
  ...[`sha256:${hex(64)}`, `sha512:${hex(128)}`, `sha256:${hex(64).toUpperCase()}`, `sha256:${hex(40)}`, `md5:${hex(32)}`],
  ...[`sha256+b64:${hex(64)}`, hex(64), 'a/'.repeat(127), 'a'.repeat(120)],
];

/** Well-formed-looking references with a bad part now and then. */
const shaped = fc
  .tuple(
    fc.constantFrom('', 'localhost/', 'example.com/', 'a/', 'Docker/', '127.0.0.1:5000/', '[::1]:5000/', 'xn--n3h.com/'),
    fc.constantFrom('', 'index.docker.io/', 'docker.io/', 'bad_host.io/', '[::ffff:1.2.3.4]/', 'A.b-c.io:1/', '-x.io/'),
    fc.array(fc.constantFrom('a', 'b0', 'x-y', 'x--y', 'x__y', 'x.y', 'x_y', 'library', 'UP', '-x', 'x-', '..', 'a'.repeat(60)), {
      minLength: 1,
      maxLength: 6,
    }),
    fc.option(fc.constantFrom('latest', 'v1.0', '_x', '-x', 'TAG', 'a'.repeat(128), 'a'.repeat(129), ''), { nil: undefined }),
    fc.option(
      fc.constantFrom(
        `sha256:${hex(64)}`,
        `sha384:${hex(96)}`,
        `sha256:${hex(63)}`,
        `SHA256:${hex(64)}`,
        `x:${hex(32)}`,
        `sha256:${hex(40).toUpperCase()}`,
      ),
      {
        nil: undefined,
      },
    ),
  )
  .map(
    ([host, alt, parts, tag, digest]) =>
      `${host || alt}${parts.join('/')}${tag === undefined ? '' : `:${tag}`}${digest ? `@${digest}` : ''}`,
  );

function generated(): string[] {
  const pieces = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));
  return [...fc.sample(pieces, { numRuns: 3000, seed: 20_260_601 }), ...fc.sample(shaped, { numRuns: 3000, seed: 20_260_602 })];
}

function vectorInputs(): string[] {
  return [
    ...T.referenceParse.rows.map((r) => r.input),
    ...T.withNameFailure.rows.map((r) => r.input),
    ...T.domainAndPath.rows.map((r) => r.input),
    ...T.parseNamed.rows.map((r) => r.input),
    ...T.validReferenceNames.rows,
    ...T.invalidReferenceNames.rows,
    ...T.validRemoteNames.rows,
    ...T.invalidRemoteNames.rows,
    ...T.repositoryInfo.rows.flatMap((r) => [r.FamiliarName, r.FullName, r.AmbiguousName]),
    ...T.parseAnyReference.rows.map((r) => r.Reference),
    ...T.normalizedSplitHostname.rows.map((r) => r.input),
    ...T.parseDockerRef.rows.map((r) => r.input),
    ...T.fullNameRegexp.rows.map((r) => r.input),
    ...T.referenceRegexp.rows.map((r) => r.input),
    ...Object.keys(T.OURS),
  ];
}

/** Upstream takes `Docker/x` as host `Docker`; we refuse (DELIBERATE's UPPERCASE_HOST). */
function uppercaseHost(input: string): boolean {
  const slash = input.indexOf('/');
  const first = slash === -1 ? '' : input.slice(0, slash);
  return first !== '' && !/[.:]/.test(first) && first !== 'localhost' && first !== first.toLowerCase();
}

function ours(input: string): Parsed {
  try {
    const ref = parseReference(input);
    const { registry: domain, path: p, tag, digest } = ref;
    const name = ref.repository;
    return {
      ok: true,
      name,
      domain,
      path: p,
      familiar: formatReference(ref, true),
      tag,
      digest,
    };
  } catch (e) {
    if (e instanceof InvalidReferenceError) return { ok: false, kind: e.kind, domain: '' };
    throw e;
  }
}

function oursParse(input: string): Parsed {
  const got = matchReference(input);
  if ('kind' in got) return { ok: false, kind: got.kind, domain: '' };
  const name = got.domain ? `${got.domain}/${got.path}` : got.path;
  return {
    ok: true,
    name,
    domain: got.domain,
    path: got.path,
    tag: got.tag,
    digest: got.digest,
  };
}

/** What both sides can be compared on, keys in one order: the oracle's messages and familiar form left out. */
const strip = (p: Parsed): Parsed => {
  const { error: _error, familiar: _familiar, ...rest } = p;
  const kept: Parsed = rest.ok ? rest : { ok: false, domain: '', kind: rest.kind };
  return Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b))) as unknown as Parsed;
};

const go = hasGo();

describe.skipIf(!go)(`against ${T.UPSTREAM.module} ${T.UPSTREAM.version} itself${go ? '' : ' (skipped: no go on PATH)'}`, () => {
  let answers: Answer[];
  beforeAll(() => {
    const inputs = [...new Set([...vectorInputs(), ...generated()])];
    const out = execFileSync(oracleBinary(), { input: JSON.stringify(inputs), maxBuffer: 256 * 1024 * 1024 });
    answers = JSON.parse(out.toString()) as Answer[];
    expect(answers).toHaveLength(inputs.length);
  }, 300_000);

  it('Parse and matchReference agree on every input: validity, parts and the kind of error', () => {
    const differ = answers.filter((a) => JSON.stringify(strip(a.parse)) !== JSON.stringify(strip(oursParse(a.input))));
    expect(differ.map((a) => ({ input: a.input, upstream: strip(a.parse), ours: oursParse(a.input) }))).toEqual([]);
    // The corpus is not all one answer: both sides of the grammar are exercised.
    const valid = answers.filter((a) => a.parse.ok).length;
    expect(Math.min(valid, answers.length - valid)).toBeGreaterThan(500);
  });

  it('ParseNormalizedNamed and parseReference agree, except for the deliberate differences', () => {
    const unexplained: unknown[] = [];
    for (const a of answers) {
      const mine = ours(a.input);
      const up = a.normalized;
      if (uppercaseHost(a.input)) {
        if (mine.ok || (up.ok && mine.kind !== 'uppercase')) unexplained.push({ input: a.input, why: 'uppercase host', mine });
        continue;
      }
      if (up.ok && up.domain === '') {
        if (mine.ok || mine.kind !== 'host') unexplained.push({ input: a.input, why: 'domainless', mine });
        continue;
      }
      const same = up.ok
        ? mine.ok &&
          mine.domain === up.domain &&
          mine.path === up.path &&
          (mine.tag ?? '') === (up.tag ?? '') &&
          (mine.digest ?? '') === (up.digest ?? '') &&
          mine.familiar === up.familiar
        : !mine.ok;
      if (!same) unexplained.push({ input: a.input, upstream: strip(up), mine });
    }
    expect(unexplained).toEqual([]);
  });
});
