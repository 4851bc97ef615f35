/**
 * distribution/reference's own tables (test/fixtures/reference/distribution-reference.ts), each run
 * the way its Go test runs it, against our equivalent of the function it tests:
 * Parse → matchReference, ParseNormalizedNamed → parseReference, the regexps → isValidDomain,
 * splitName, matchReference and isImageId. Rows we answer differently on purpose are checked
 * against DELIBERATE instead, so a difference can neither appear nor vanish unnoticed.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../fixtures/reference/distribution-reference.js';
import {
  dockerRef,
  familiarName,
  formatReference,
  InvalidReferenceError,
  isValidTag,
  parseReference,
  digestProblem,
  type ImageReference,
} from '../../../src/image/reference.js';
import {
  isImageId,
  isValidDomain,
  matchReference,
  PATH_LENGTH_MAX,
  splitName,
  type ReferenceProblemKind,
} from '../../../src/image/reference-grammar.js';

/** Upstream's error values → our kinds. */
const KIND: Readonly<Record<string, ReferenceProblemKind>> = {
  ErrNameEmpty: 'empty',
  ErrReferenceInvalidFormat: 'format',
  ErrNameContainsUppercase: 'uppercase',
  ErrNameTooLong: 'too-long',
  'digest.ErrDigestInvalidLength': 'digest-length',
  'digest.ErrDigestUnsupported': 'digest-unsupported',
};

const title = (t: { source: { file: string; line: number; test: string } }): string =>
  `${t.source.file}:${t.source.line} ${t.source.test}`;
const short = (s: string): string => (s.length > 70 ? `${s.slice(0, 60)}…(${s.length})` : s);

/** parseReference's answer: the reference, or the kind of refusal. */
function normalized(input: string): ImageReference | { refused: ReferenceProblemKind } {
  try {
    return parseReference(input);
  } catch (e) {
    if (e instanceof InvalidReferenceError) return { refused: e.kind };
    throw e;
  }
}

/** Expects our deliberate answer for `input` when there is one; true if it handled the row. */
function deliberate(input: string): boolean {
  const ours = T.DELIBERATE[input];
  if (!ours) return false;
  const got = normalized(input);
  if ('refused' in ours) expect(got).toEqual({ refused: ours.refused });
  else expect('refused' in got ? got : formatReference(got)).toBe(ours.parsedAs);
  return true;
}

describe(title(T.referenceParse), () => {
  it.each(T.referenceParse.rows.map((r) => [short(r.input), r] as const))('%s', (_name, row) => {
    const got = matchReference(row.input);
    if ('err' in row) return expect(got).toMatchObject({ kind: KIND[row.err ?? ''] });
    if ('kind' in got) throw new Error(`refused: ${got.reason}`);
    expect(got.domain ? `${got.domain}/${got.path}` : got.path).toBe(row.repository);
    expect([got.domain, got.tag ?? '', got.digest ?? '']).toEqual([row.domain ?? '', row.tag ?? '', row.digest ?? '']);
    const name = got.domain ? `${got.domain}/${got.path}` : got.path;
    expect(`${name}${got.tag ? `:${got.tag}` : ''}${got.digest ? `@${got.digest}` : ''}`).toBe(row.input);
  });
});

describe(title(T.withNameFailure), () => {
  // WithName is the anchored name regexp plus the path length limit.
  it.each(T.withNameFailure.rows.map((r) => [short(r.input), r] as const))('%s', (_name, row) => {
    const split = splitName(row.input);
    const kind = !split ? 'format' : split.path.length > PATH_LENGTH_MAX ? 'too-long' : undefined;
    expect(kind).toBe(KIND[row.err ?? '']);
  });
});

describe(title(T.domainAndPath), () => {
  it.each(T.domainAndPath.rows.map((r) => [r.input, r] as const))('%s', (_name, row) => {
    expect(splitName(row.input)).toEqual({ domain: row.domain, path: row.path });
  });
});

describe(title(T.parseNamed), () => {
  // ParseNamed: ParseNormalizedNamed, and the input must already be the canonical string.
  it.each(T.parseNamed.rows.map((r) => [r.input, r] as const))('%s', (_name, row) => {
    const ref = parseReference(row.input);
    if ('err' in row) return expect(formatReference(ref)).not.toBe(row.input);
    expect([formatReference(ref), ref.registry, ref.path]).toEqual([row.input, row.domain, row.path]);
  });
});

describe.each([
  [T.validReferenceNames, true],
  [T.invalidReferenceNames, false],
  [T.validRemoteNames, true],
  [T.invalidRemoteNames, false],
] as const)('%#: ParseNormalizedNamed validity', (table, valid) => {
  it.each(table.rows.map((r) => [short(r), r] as const))(`${title(table)} %s`, (_name, input) => {
    if (deliberate(input)) return;
    const got = normalized(input);
    expect('refused' in got ? `refused: ${got.refused}` : 'valid').toEqual(valid ? 'valid' : expect.stringMatching(/^refused/));
  });
});

describe(title(T.repositoryInfo), () => {
  const cases = T.repositoryInfo.rows.flatMap((row) =>
    [row.FamiliarName, row.FullName, row.AmbiguousName].filter((r) => r !== '').map((r) => [r, row] as const),
  );
  it.each(cases)('%s', (input, row) => {
    if (deliberate(input)) return;
    const ref = parseReference(input);
    expect([familiarName(ref.repository), ref.repository, ref.registry, ref.path]).toEqual([
      row.FamiliarName,
      row.FullName,
      row.Domain,
      row.RemoteName,
    ]);
  });
});

describe(title(T.parseAnyReference), () => {
  it.each(T.parseAnyReference.rows.map((r) => [r.Reference, r] as const))('%s', (_name, row) => {
    if (deliberate(row.Reference)) return;
    expect(formatReference(parseReference(row.Reference))).toBe(row.Equivalent);
  });
});

describe(title(T.normalizedSplitHostname), () => {
  it.each(T.normalizedSplitHostname.rows.map((r) => [r.input, r] as const))('%s', (_name, row) => {
    const ref = parseReference(row.input);
    expect([ref.registry, ref.path]).toEqual([row.domain, row.path]);
  });
});

describe(title(T.parseDockerRef), () => {
  it.each(T.parseDockerRef.rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const resolved = formatReference(dockerRef(parseReference(row.input)));
    expect(resolved).toBe(row.expected);
    expect('kind' in matchReference(resolved)).toBe(false);
  });
});

describe('single-case tests', () => {
  it(title(T.referenceWithTagAndDigest), () => {
    for (const row of T.referenceWithTagAndDigest.rows) {
      const ref = parseReference(row.input);
      expect([formatReference(ref), formatReference(ref, true)]).toEqual([row.full, row.input]);
      expect(ref.tag && ref.digest).toBeTruthy();
    }
  });

  it(title(T.invalidReferenceComponents), () => {
    for (const row of T.invalidReferenceComponents.rows) {
      expect(() => parseReference(row.name)).toThrow(InvalidReferenceError);
      expect(isValidTag(row.tag)).toBe(false);
      expect(digestProblem(row.digest)).toBeDefined();
    }
  });
});

describe(title(T.domainRegexp), () => {
  it.each(T.domainRegexp.rows.map((r) => [r.input, r.match] as const))('%s → %s', (input, match) => {
    expect(isValidDomain(input)).toBe(match);
  });
});

describe(title(T.fullNameRegexp), () => {
  it.each(T.fullNameRegexp.rows.map((r) => [short(r.input), r] as const))('%s', (_name, row) => {
    const got = splitName(row.input);
    if (!row.match) return expect(got).toBeUndefined();
    expect(got).toBeDefined();
    if ('subs' in row) expect([got?.domain, got?.path]).toEqual(row.subs);
  });
});

describe(title(T.referenceRegexp), () => {
  // ReferenceRegexp, through matchReference (which adds Parse's length and digest checks; every
  // matching row passes them, so the answers are the regexp's).
  it.each(T.referenceRegexp.rows.map((r) => [short(r.input), r] as const))('%s', (_name, row) => {
    const got = matchReference(row.input);
    if (!row.match) return expect(got).toHaveProperty('kind');
    if ('kind' in got) throw new Error(`refused: ${got.reason}`);
    const name = got.domain ? `${got.domain}/${got.path}` : got.path;
    if ('subs' in row) expect([name, got.tag ?? '', got.digest ?? '']).toEqual(row.subs);
  });
});

describe(title(T.identifierRegexp), () => {
  it.each(T.identifierRegexp.rows.map((r) => [r.input, r.match] as const))('%s → %s', (input, match) => {
    expect(isImageId(input)).toBe(match);
  });
});

describe('cases of our own (OURS)', () => {
  it.each(Object.entries(T.OURS))('%s', (input, ours) => {
    expect(normalized(input)).toEqual('refused' in ours ? { refused: ours.refused } : expect.anything());
  });

  it('every deliberate difference names a row that exists in the tables', () => {
    const inputs = new Set<string>([
      ...T.validReferenceNames.rows,
      ...T.invalidReferenceNames.rows,
      ...T.validRemoteNames.rows,
      ...T.invalidRemoteNames.rows,
      ...T.repositoryInfo.rows.flatMap((r) => [r.FamiliarName, r.FullName, r.AmbiguousName]),
      ...T.parseAnyReference.rows.map((r) => r.Reference),
    ]);
    expect(Object.keys(T.DELIBERATE).filter((k) => !inputs.has(k))).toEqual([]);
  });
});
