/**
 * The action's images against the docker clients', on the same engine: each case (a context, a
 * .dockerignore, a Dockerfile) is built six times — by the references: buildx v0.38 (the current
 * docker client's BuildKit path, built from its Go module by scripts/ci/real-parts.sh), Debian's
 * 20.10 docker CLI with DOCKER_BUILDKIT=1, and the same CLI with DOCKER_BUILDKIT=0; and by the
 * bundle as the runner starts it (the context served over the build session), with
 * CID_CONTEXT_TRANSFER=tar, and with DOCKER_BUILDKIT=0 (the classic builder) — and the images'
 * file trees (path, type, mode, owner, size, content hash, link target, mtime) and configs
 * compared. The session and tar images must be buildx's exactly; against the 20.10 CLI only the
 * differences a case names (`known`, with why) are allowed, and the classic image must be the
 * 20.10 CLI's classic one but for those. Where the action's image differs, the action is wrong.
 * CID_BUNDLE runs another build of the bundle (an older commit's, say) against the same cases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, inject } from 'vitest';
import { dockerCli, engine } from './engine.js';
import { CONTEXT_TIME, copyContext, fixTimes, layContext, type ContextSpec } from './context-tree.js';
import { imageConfig, imageTree, treeDiff, type BuildWindow, type ImageConfig, type ImageEntry } from './image-tree.js';
import { runAction } from './run-action.js';
import { engineKind, realParts } from './services.js';

/** One differential case: a context, its .dockerignore and a Dockerfile. */
export interface DiffCase {
  readonly name: string;
  readonly dockerfile: string;
  readonly context: readonly ContextSpec[];
  readonly ignore?: string;
  /** The Dockerfile's path in the context; default `Dockerfile`. */
  readonly file?: string;
  /** Run on the laid context before it is copied for the builders (links, modes, archives). */
  readonly prepare?: (root: string) => void;
  /** The CLI refuses this build: the action must refuse it too. */
  readonly cliFails?: boolean;
  /** With CID_CONTEXT_TRANSFER=tar the action must serve this context through the session (build.ts says why in the log). */
  readonly tarUsesSession?: boolean;
  /** The classic builder cannot build this (RUN --mount, say): only the BuildKit builds are compared. */
  readonly buildkitOnly?: boolean;
  /**
   * Where Debian's 20.10 CLI differs from the current client (buildx), and so from the action,
   * with why: the exact difference lines expected against the 20.10 CLI (log lines left out).
   * Against buildx nothing may differ; any other difference still fails.
   */
  readonly known?: {
    readonly why: string;
    readonly session?: readonly string[];
    readonly tar?: readonly string[];
    readonly classic?: readonly string[];
  };
}

const services = inject('services');
const docker = engine();
const made: string[] = [];
let cases = 0;

/** A build's result: the image's tree and config, or that it failed (and how). */
type Outcome = { ok: true; tree: ImageEntry[]; config: ImageConfig } | { ok: false; log: string };

/** The labels the action adds to every image it builds (src/image/labels.ts). */
const ourLabel = (name: string): boolean => name.startsWith('org.opencontainers.image.');

/** The three references (buildx, the 20.10 CLI with BuildKit and with the classic builder) and the action's three ways. */
export type Builder = 'buildx' | 'cli' | 'cli-classic' | 'session' | 'tar' | 'classic';
type Reference = 'buildx' | 'cli' | 'cli-classic';
type Ours = 'session' | 'tar' | 'classic';

/** Each comparison: one of ours against one reference; `known` lines are allowed only against the 20.10 CLI. */
const COMPARISONS: readonly { ours: Ours; reference: Reference }[] = [
  { ours: 'session', reference: 'buildx' },
  { ours: 'tar', reference: 'buildx' },
  { ours: 'session', reference: 'cli' },
  { ours: 'tar', reference: 'cli' },
  { ours: 'classic', reference: 'cli-classic' },
];
type Comparison = `${Ours} vs ${Reference}`;

let buildxConfig: string | undefined;

const SESSION_LINE = 'Context: served to BuildKit through the build session';
/** The line each way of ours must log, so a case cannot pass by going another way. */
function transportLine(builder: Ours, c: DiffCase): string | RegExp {
  if (builder === 'session') return SESSION_LINE;
  if (builder === 'classic') return 'DOCKER_BUILDKIT=0: using the classic builder, as the docker CLI does';
  return c.tarUsesSession
    ? /Context: not uploaded as a tar, which would have to carry .*; served through the build session instead/
    : /Context: \d+ files, /;
}

/** Builds `dir` with `builder` into `ref`. */
async function build(builder: Builder, dir: string, c: DiffCase, ref: string): Promise<Outcome> {
  const file = c.file ?? 'Dockerfile';
  let ok: boolean;
  let log: string;
  if (builder === 'buildx') {
    // Standalone buildx, the docker driver on DOCKER_HOST: what `docker buildx build` runs.
    buildxConfig ??= mkdtempSync(path.join(tmpdir(), 'cid-buildx-'));
    const buildx = realParts().CID_BUILDX;
    if (!buildx) throw new Error('scripts/ci/real-parts.sh named no CID_BUILDX');
    const r = await dockerCli(['build', '--no-cache', '--network', 'none', '--progress', 'plain', '-t', ref, '-f', file, '.'], {
      cwd: dir,
      env: { BUILDX_CONFIG: buildxConfig },
      program: buildx,
    });
    [ok, log] = [r.code === 0, r.output];
  } else if (builder === 'cli' || builder === 'cli-classic') {
    const progress = builder === 'cli' ? ['--progress', 'plain'] : [];
    const r = await dockerCli(['build', '--no-cache', '--network', 'none', ...progress, '-t', ref, '-f', file, '.'], {
      cwd: dir,
      env: { DOCKER_BUILDKIT: builder === 'cli' ? '1' : '0' },
    });
    [ok, log] = [r.code === 0, r.output];
  } else {
    const [image, tag] = ref.split(':') as [string, string];
    const env: Record<string, string> = { tar: { CID_CONTEXT_TRANSFER: 'tar' }, classic: { DOCKER_BUILDKIT: '0' }, session: {} }[
      builder
    ];
    const run = await runAction({
      inputs: { image, tags: tag, push: 'false', update: 'none', 'dry-run': 'false', 'no-cache': 'true', network: 'none', file },
      env: { DOCKER_HOST: services.dockerHost, ...env },
      workspace: dir,
    });
    [ok, log] = [run.code === 0, run.all];
    if (ok) expect(run.stdout, `${builder}: how the context went`).toMatch(transportLine(builder, c));
    if (ok && c.tarUsesSession && builder === 'tar') expect(run.stdout).toContain(SESSION_LINE);
  }
  if (!ok) return { ok: false, log };
  // A debugging aid: CID_DIFF_CAT=/path prints that file of each image (to see why hashes differ).
  if (process.env.CID_DIFF_CAT) {
    const r = await dockerCli(['run', '--rm', '--network', 'none', ref, 'cat', process.env.CID_DIFF_CAT]);
    console.log(`${ref} ${process.env.CID_DIFF_CAT}:\n${r.output}`);
  }
  const t = Date.now();
  try {
    return { ok: true, tree: await imageTree(docker, ref), config: await imageConfig(docker, ref, ourLabel) };
  } finally {
    if (process.env.CID_DIFF_DEBUG) console.log(`${ref} read in ${Date.now() - t} ms`);
  }
}

/** Lays the case once, copies it for each builder (so no transfer reuses another's files), builds it every way. */
export async function buildAll(
  c: DiffCase,
  slug: string,
): Promise<{ outcomes: Partial<Record<Builder, Outcome>>; window: BuildWindow }> {
  const specs = caseSpecs(c);
  // BuildKit keeps a synced copy of each local source and skips files whose size and mtime it
  // has seen before: every case gets its own times, or a Dockerfile of the same size as the last
  // case's would be taken for it (this happened).
  const base = CONTEXT_TIME + 100_000 * ++cases;
  const template = layContext(specs, base);
  if (c.prepare) {
    c.prepare(template);
    fixTimes(template, specs, base);
  }
  made.push(template);
  const from = Math.floor(Date.now() / 1000) - 2;
  const builders: Builder[] = c.buildkitOnly
    ? ['buildx', 'cli', 'session', 'tar']
    : ['buildx', 'cli', 'cli-classic', 'session', 'tar', 'classic'];
  const dirs = builders.map((b) => copyContext(template, `${slug}-${b}`));
  made.push(...dirs.map((d) => path.dirname(d)));
  const one = async (b: Builder, i: number): Promise<Outcome> => {
    const t = Date.now();
    const r = await build(b, dirs[i]!, c, `diff/${slug}:${b}`);
    if (process.env.CID_DIFF_DEBUG) console.log(`${slug} ${b}: ${Date.now() - t} ms`);
    return r;
  };
  // On Engine 29's containerd image store a tar-upload build that runs beside identical session
  // builds fails now and then with "context canceled" (13 of 43 cases in one parallel run, none
  // serial; docs/testing.md): the builds run one after another there.
  const serial = engineKind() === 'current-containerd' || process.env.CID_DIFF_SERIAL === '1';
  const results: Outcome[] = [];
  if (serial) for (const [i, b] of builders.entries()) results.push(await one(b, i));
  else results.push(...(await Promise.all(builders.map(one))));
  const window = { from, to: Math.floor(Date.now() / 1000) + 2 };
  return { outcomes: Object.fromEntries(builders.map((b, i) => [b, results[i]!])), window };
}

function caseSpecs(c: DiffCase): ContextSpec[] {
  const specs: ContextSpec[] = [[c.file ?? 'Dockerfile', c.dockerfile], ...c.context];
  if (c.ignore !== undefined) specs.push(['.dockerignore', c.ignore]);
  return specs;
}

/** How `got` differs from the CLI's `want`, as lines a reader can act on (empty: the same). */
export function outcomeDiff(want: Outcome, got: Outcome, window: BuildWindow): string[] {
  if (!want.ok && !got.ok) return [];
  if (!want.ok) return [`the reference's build failed and this one did not:`, ...tail(want.log)];
  if (!got.ok) return ["this build failed and the reference's did not:", ...tail(got.log)];
  const lines = treeDiff(want.tree, got.tree, window);
  for (const k of Object.keys(want.config) as (keyof ImageConfig)[])
    if (JSON.stringify(want.config[k]) !== JSON.stringify(got.config[k]))
      lines.push(`config ${k}: ${JSON.stringify(want.config[k])} → ${JSON.stringify(got.config[k])}`);
  return lines;
}

/** The error lines of a failed build (the action's annotations, BuildKit's ERROR lines), then its last lines. */
function tail(log: string): string[] {
  const lines = log.trim().split('\n');
  const errors = lines.filter((l) => /^(::error|error:|ERROR|#\d+ ERROR)/.test(l)).slice(0, 10);
  return [...errors, ...lines.slice(-15)].map((l) => `    ${l}`);
}

/** The report a failed comparison prints: the case, and each builder's differences from the CLI. */
export function report(
  name: string,
  c: { dockerfile: string; ignore?: string },
  diffs: Readonly<Record<string, readonly string[]>>,
): string {
  const parts = [
    `${name}: the action's image differs from a docker client's (- only the reference's, + only ours, ~ reference → ours)`,
  ];
  parts.push(`Dockerfile:\n${indent(c.dockerfile)}`);
  if (c.ignore !== undefined) parts.push(`.dockerignore:\n${indent(c.ignore)}`);
  for (const [b, lines] of Object.entries(diffs))
    if (lines.length > 0) parts.push(`${b}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  return parts.join('\n');
}

function indent(s: string): string {
  return s
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}

/** Removes the contexts laid and the images built. */
export async function cleanUp(): Promise<void> {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  if (buildxConfig) rmSync(buildxConfig, { recursive: true, force: true });
  buildxConfig = undefined;
  const images = (await docker.listImages({ filters: { reference: ['diff/*'] } })).flatMap((i) => i.RepoTags ?? []);
  for (const ref of images)
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
}

/** Builds the case every way and asserts each of the action's images is its references'. */
export async function expectSameAsCli(c: DiffCase, slug = slugOf(c.name)): Promise<void> {
  const { outcomes, window } = await buildAll(c, slug);
  const compared = COMPARISONS.filter((x) => outcomes[x.ours] !== undefined && outcomes[x.reference] !== undefined);
  const name = (x: (typeof COMPARISONS)[number]): Comparison => `${x.ours} vs ${x.reference}`;
  const diffs = Object.fromEntries(
    compared.map((x) => [name(x), outcomeDiff(outcomes[x.reference]!, outcomes[x.ours]!, window)]),
  );
  for (const ref of ['buildx', 'cli', 'cli-classic'] as const) {
    const o = outcomes[ref];
    if (!o) continue;
    if (c.cliFails) expect(o.ok, `${ref} refuses this build`).toBe(false);
    else if (!c.known) expect(o.ok, o.ok ? '' : `${ref}:\n${tail(o.log).join('\n')}`).toBe(true);
  }
  const shown = (l: readonly string[]) => l.filter((x) => !x.startsWith('    '));
  const allowed = (x: (typeof COMPARISONS)[number]): readonly string[] =>
    x.reference === 'buildx' ? [] : (c.known?.[x.ours] ?? []);
  expect(Object.fromEntries(compared.map((x) => [name(x), shown(diffs[name(x)]!)])), report(c.name, c, diffs)).toEqual(
    Object.fromEntries(compared.map((x) => [name(x), allowed(x)])),
  );
}
