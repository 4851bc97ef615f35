/**
 * Property tests: generated manifests with images in random places, spellings and styles. The
 * generator knows which bytes hold each image and what they must become, so the expected output
 * is built independently of the code under test: everything else must survive byte for byte,
 * and the loaded value must equal the original except for the intended images.
 */
import fc from 'fast-check';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import { describe, expect, test } from 'vitest';
import { parseReference } from '../../../src/image/reference.js';
import { planManifestUpdate } from '../../../src/manifest/index.js';

type Style = 'plain' | 'single' | 'double';
type Layout = 'block' | 'flow-first' | 'flow-last';

interface ImageSpec {
  repository: string;
  suffix: string;
  style: Style;
}

interface ServiceSpec {
  name: string;
  image: ImageSpec | 'alias' | 'build';
  layout: Layout;
  comment: string | undefined;
  label: string;
}

interface ManifestSpec {
  shared: ImageSpec | undefined;
  services: ServiceSpec[];
  header: string;
  crlf: boolean;
  bom: boolean;
  finalNewline: boolean;
  convox: boolean;
}

const MATCHING = ['acme/shop', 'docker.io/acme/shop', 'index.docker.io/acme/shop'];
const OTHER = ['acme/shopper', 'acme/sho', 'redis', 'localhost:5000/acme/shop', 'ghcr.io/acme/shop'];
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** Text YAML allows in comments and quoted scalars: no line breaks, no C0/C1 controls, no BOM. */
const freeText = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .map((s) => s.replace(/[\0-\x08\n-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g, ''));

const style = fc.constantFrom<Style>('plain', 'single', 'double');
const suffix = fc.constantFrom('', ':1', ':v1.2.3', `@${DIGEST}`, `:old@${DIGEST}`, ':${IMAGE_VERSION}');
const imageSpec = fc.record({ repository: fc.constantFrom(...MATCHING, ...OTHER), suffix, style });

const serviceSpec = (name: string): fc.Arbitrary<ServiceSpec> =>
  fc.record({
    name: fc.constant(name),
    image: fc.oneof({ weight: 4, arbitrary: imageSpec }, fc.constant<'alias'>('alias'), fc.constant<'build'>('build')),
    layout: fc.constantFrom<Layout>('block', 'flow-first', 'flow-last'),
    comment: fc.option(freeText, { nil: undefined }),
    label: freeText,
  });

const manifestSpec: fc.Arbitrary<ManifestSpec> = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 6 })
  .chain((names) =>
    fc.record({
      shared: fc.option(imageSpec, { nil: undefined }),
      services: fc.tuple(...names.map(serviceSpec)),
      header: freeText,
      crlf: fc.boolean(),
      bom: fc.boolean(),
      finalNewline: fc.boolean(),
      convox: fc.boolean(),
    }),
  )
  .map((spec) => ({
    ...spec,
    // An alias needs an anchor; without one the service builds instead.
    services: spec.services.map((s) => (s.image === 'alias' && !spec.shared ? { ...s, image: 'build' as const } : s)),
  }));

/** A piece of the file; image pieces carry what they must become when matched. */
type Piece = string | { readonly before: string; readonly after: string | undefined };

function quoted(text: string, s: Style): string {
  if (s === 'single') return `'${text.replace(/'/g, "''")}'`;
  if (s === 'double') return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return text;
}

function imagePieces(spec: ImageSpec, tag: string, digest: string | undefined, inFlow: boolean): Piece[] {
  // `${…}` cannot appear unquoted inside a flow mapping ({ } are indicators there).
  const s = inFlow && spec.style === 'plain' && spec.suffix.includes('$') ? 'double' : spec.style;
  const text = spec.repository + spec.suffix;
  const after = MATCHING.includes(spec.repository) ? `${spec.repository}:${tag}${digest ? `@${digest}` : ''}` : undefined;
  const open = s === 'single' ? "'" : s === 'double' ? '"' : '';
  return [open, { before: quoted(text, 'plain'), after }, open];
}

function servicePieces(svc: ServiceSpec, spec: ManifestSpec, tag: string, digest: string | undefined): Piece[] {
  const flow = svc.layout !== 'block';
  const image: Piece[] =
    svc.image === 'build'
      ? ['build: .']
      : svc.image === 'alias'
        ? ['image: *img']
        : ['image: ', ...imagePieces(svc.image, tag, digest, flow)];
  const label = `label: ${quoted(svc.label, 'single')}`;
  const comment = svc.comment === undefined ? '' : `  # ${svc.comment}`;
  if (svc.layout === 'block') return [`  ${svc.name}:\n    `, ...image, `${comment}\n    ${label}\n`];
  if (svc.layout === 'flow-first') return [`  ${svc.name}: {`, ...image, `, ${label}}${comment}\n`];
  return [`  ${svc.name}: { ${label}, `, ...image, ` }${comment}\n`];
}

function render(pieces: Piece[], spec: ManifestSpec, pick: 'before' | 'after'): Buffer {
  let text = pieces
    .map((p) => (typeof p === 'string' ? p : pick === 'after' && p.after !== undefined ? p.after : p.before))
    .join('');
  if (!spec.finalNewline) text = text.replace(/\n$/, '');
  if (spec.crlf) text = text.replace(/\n/g, '\r\n');
  return Buffer.concat([Buffer.from(spec.bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text, 'utf8')]);
}

function build(
  spec: ManifestSpec,
  tag: string,
  digest: string | undefined,
): { pieces: Piece[]; matched: Map<string, string>; sharedAfter: string | undefined } {
  const afterOf = (image: ImageSpec): string | undefined =>
    (imagePieces(image, tag, digest, false)[1] as { after?: string }).after;
  const aliasUsed = spec.services.some((s) => s.image === 'alias');
  // The anchored scalar changes only through the services that use it.
  const sharedAfter = spec.shared && aliasUsed ? afterOf(spec.shared) : undefined;
  const pieces: Piece[] = [`# ${spec.header}\n`];
  if (spec.shared) {
    const [open, image, close] = imagePieces(spec.shared, tag, digest, false) as [string, { before: string }, string];
    pieces.push('x-image: &img ', open, { before: image.before, after: sharedAfter }, close, '  # shared\n');
  }
  pieces.push(spec.convox ? 'services:  # convox\n' : 'services:\n');
  for (const svc of spec.services) pieces.push(...servicePieces(svc, spec, tag, digest));
  if (spec.convox) pieces.push('resources:\n  db:\n    type: postgres\n');
  const matched = new Map<string, string>();
  for (const svc of spec.services) {
    const after = svc.image === 'alias' ? sharedAfter : typeof svc.image === 'object' ? afterOf(svc.image) : undefined;
    if (after !== undefined) matched.set(svc.name, after);
  }
  return { pieces, matched, sharedAfter };
}

const SCHEMA = CORE_SCHEMA.withTags(mergeTag);
const loadBytes = (b: Buffer): Record<string, Record<string, Record<string, unknown>>> =>
  load(b.toString('utf8').replace(/^\ufeff/, ''), { schema: SCHEMA }) as Record<string, Record<string, Record<string, unknown>>>;

const tagArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const digestArb = fc.option(fc.constant(`sha256:${'fedcba9876543210'.repeat(4)}`), { nil: undefined });

describe('manifest rewrite properties', () => {
  test('only the matched image scalars change, and the loaded value changes only there', () => {
    fc.assert(
      fc.property(manifestSpec, tagArb, digestArb, (spec, tag, digest) => {
        const { pieces, matched, sharedAfter } = build(spec, tag, digest);
        const before = render(pieces, spec, 'before');
        const expected = render(pieces, spec, 'after');
        const file = spec.convox ? 'convox.yml' : 'docker-compose.yml';
        const run = () =>
          planManifestUpdate({
            file,
            bytes: before,
            image: parseReference('acme/shop'),
            mode: 'manifest',
            envVar: 'IMAGE_VERSION',
            tag,
            digest,
          });
        if (matched.size === 0) {
          expect(run).toThrow(/no service uses the image acme\/shop/);
          return;
        }
        const plan = run();
        expect(plan.after.toString('latin1')).toBe(expected.toString('latin1'));
        expect(plan.services.map((s) => s.service)).toEqual([...matched.keys()]);
        const want = loadBytes(before);
        for (const [name, image] of matched) want.services![name]!.image = image;
        if (sharedAfter !== undefined) (want as Record<string, unknown>)['x-image'] = sharedAfter;
        expect(loadBytes(plan.after)).toEqual(want);
        expect(plan.changed).toBe(!expected.equals(before));
      }),
      { numRuns: 400 },
    );
  });

  test('naming a subset rewrites exactly those services', () => {
    fc.assert(
      fc.property(manifestSpec, tagArb, fc.array(fc.nat(), { maxLength: 6 }), (spec, tag, picks) => {
        // Only services with their own matching image (no shared anchor) can be picked alone.
        const own = spec.services.filter((s) => typeof s.image === 'object' && MATCHING.includes(s.image.repository));
        fc.pre(own.length > 0);
        const chosen = [...new Set(picks.map((i) => own[i % own.length]!.name))];
        fc.pre(chosen.length > 0);
        // Everything not chosen is pointed elsewhere, so the expected bytes change only for the chosen.
        const elsewhere = (image: ImageSpec): ImageSpec => ({ ...image, repository: 'redis' });
        const trimmed = {
          ...spec,
          shared: spec.shared && elsewhere(spec.shared),
          services: spec.services.map((s) =>
            typeof s.image === 'object' && !chosen.includes(s.name) ? { ...s, image: elsewhere(s.image) } : s,
          ),
        };
        const { pieces } = build(trimmed, tag, undefined);
        const plan = planManifestUpdate({
          file: 'docker-compose.yml',
          bytes: render(pieces, trimmed, 'before'),
          image: parseReference('acme/shop'),
          services: chosen,
          mode: 'manifest',
          envVar: 'IMAGE_VERSION',
          tag,
        });
        expect(plan.services.map((s) => s.service)).toEqual(chosen);
        const expected = render(pieces, trimmed, 'after');
        expect(plan.after.equals(expected)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test('env mode never changes a byte', () => {
    fc.assert(
      fc.property(manifestSpec, tagArb, (spec, tag) => {
        const { pieces } = build(spec, tag, undefined);
        const before = render(pieces, spec, 'before');
        try {
          const plan = planManifestUpdate({
            file: 'convox.yml',
            bytes: before,
            image: parseReference('acme/shop'),
            mode: 'env',
            envVar: 'IMAGE_VERSION',
            tag,
          });
          expect(plan.after.equals(before)).toBe(true);
          expect(plan.changed).toBe(false);
          expect(plan.diff).toBe('');
          for (const s of plan.services) expect(s.after).toBe(s.before.replace('${IMAGE_VERSION}', tag));
        } catch (e) {
          expect((e as Error).message).toMatch(/does not use \$\{IMAGE_VERSION\}|no service uses the image/);
        }
      }),
      { numRuns: 200 },
    );
  });
});
