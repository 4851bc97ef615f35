/**
 * The action's images against the docker CLI's, on the same engine: each case (a context, a
 * .dockerignore, a Dockerfile) is built three times — by the docker CLI with BuildKit (Debian's
 * 20.10 client, the reference), by the bundle as the runner starts it (the context served over
 * the build session), and by the bundle with CID_CONTEXT_TRANSFER=tar — and the images' file
 * trees (path, type, mode, owner, size, content hash, link target, mtime) and configs compared.
 * Where the action's image differs from the CLI's, the action is wrong. CID_BUNDLE runs another
 * build of the bundle (an older commit's, say) against the same cases.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { expect, inject } from 'vitest';
import { dockerCli, engine } from './engine.js';
import { CONTEXT_TIME, copyContext, fixTimes, layContext, type ContextSpec } from './context-tree.js';
import { imageConfig, imageTree, treeDiff, type BuildWindow, type ImageConfig, type ImageEntry } from './image-tree.js';
import { runAction } from './run-action.js';

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
  /**
   * Where the action differs from this CLI on purpose, with why: the exact difference lines
   * expected (log lines left out). Any other difference still fails.
   */
  readonly known?: { readonly why: string; readonly session?: readonly string[]; readonly tar?: readonly string[] };
}

const services = inject('services');
const docker = engine();
const made: string[] = [];
let cases = 0;

/** A build's result: the image's tree and config, or that it failed (and how). */
type Outcome = { ok: true; tree: ImageEntry[]; config: ImageConfig } | { ok: false; log: string };

/** The labels the action adds to every image it builds (src/image/labels.ts). */
const ourLabel = (name: string): boolean => name.startsWith('org.opencontainers.image.');

export type Builder = 'cli' | 'session' | 'tar';

/** Builds `dir` with `builder` into `ref`. */
async function build(builder: Builder, dir: string, c: DiffCase, ref: string): Promise<Outcome> {
  const file = c.file ?? 'Dockerfile';
  let ok: boolean;
  let log: string;
  if (builder === 'cli') {
    const r = await dockerCli(['build', '--no-cache', '--network', 'none', '--progress', 'plain', '-t', ref, '-f', file, '.'], {
      cwd: dir,
      env: { DOCKER_BUILDKIT: '1' },
    });
    [ok, log] = [r.code === 0, r.output];
  } else {
    const [image, tag] = ref.split(':') as [string, string];
    const run = await runAction({
      inputs: { image, tags: tag, push: 'false', update: 'none', 'dry-run': 'false', 'no-cache': 'true', network: 'none', file },
      env: { DOCKER_HOST: services.dockerHost, ...(builder === 'tar' ? { CID_CONTEXT_TRANSFER: 'tar' } : {}) },
      workspace: dir,
    });
    [ok, log] = [run.code === 0, run.all];
    if (ok && builder === 'session') expect(run.stdout).toContain('Context: served to BuildKit through the build session');
  }
  if (!ok) return { ok: false, log };
  const t = Date.now();
  try {
    return { ok: true, tree: await imageTree(docker, ref), config: await imageConfig(docker, ref, ourLabel) };
  } finally {
    if (process.env.CID_DIFF_DEBUG) console.log(`${ref} read in ${Date.now() - t} ms`);
  }
}

/** Lays the case once, copies it for each builder (so no transfer reuses another's files), builds all three. */
export async function buildAll(c: DiffCase, slug: string): Promise<{ outcomes: Record<Builder, Outcome>; window: BuildWindow }> {
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
  const builders: Builder[] = ['cli', 'session', 'tar'];
  const dirs = builders.map((b) => copyContext(template, `${slug}-${b}`));
  made.push(...dirs.map((d) => path.dirname(d)));
  const results = await Promise.all(
    builders.map(async (b, i) => {
      const t = Date.now();
      const r = await build(b, dirs[i]!, c, `diff/${slug}:${b}`);
      if (process.env.CID_DIFF_DEBUG) console.log(`${slug} ${b}: ${Date.now() - t} ms`);
      return r;
    }),
  );
  const window = { from, to: Math.floor(Date.now() / 1000) + 2 };
  return { outcomes: { cli: results[0]!, session: results[1]!, tar: results[2]! }, window };
}

function caseSpecs(c: DiffCase): ContextSpec[] {
  const specs: ContextSpec[] = [[c.file ?? 'Dockerfile', c.dockerfile], ...c.context];
  if (c.ignore !== undefined) specs.push(['.dockerignore', c.ignore]);
  return specs;
}

/** How `got` differs from the CLI's `want`, as lines a reader can act on (empty: the same). */
export function outcomeDiff(want: Outcome, got: Outcome, window: BuildWindow): string[] {
  if (!want.ok && !got.ok) return [];
  if (!want.ok) return [`the CLI's build failed and this one did not:`, ...tail(want.log)];
  if (!got.ok) return ["this build failed and the CLI's did not:", ...tail(got.log)];
  const lines = treeDiff(want.tree, got.tree, window);
  for (const k of Object.keys(want.config) as (keyof ImageConfig)[])
    if (JSON.stringify(want.config[k]) !== JSON.stringify(got.config[k]))
      lines.push(`config ${k}: ${JSON.stringify(want.config[k])} → ${JSON.stringify(got.config[k])}`);
  return lines;
}

function tail(log: string): string[] {
  return log
    .trim()
    .split('\n')
    .slice(-15)
    .map((l) => `    ${l}`);
}

/** The report a failed comparison prints: the case, and each builder's differences from the CLI. */
export function report(
  name: string,
  c: { dockerfile: string; ignore?: string },
  diffs: Partial<Record<Builder, string[]>>,
): string {
  const parts = [`${name}: the action's image differs from the docker CLI's (- only the CLI's, + only ours, ~ CLI → ours)`];
  parts.push(`Dockerfile:\n${indent(c.dockerfile)}`);
  if (c.ignore !== undefined) parts.push(`.dockerignore:\n${indent(c.ignore)}`);
  for (const [b, lines] of Object.entries(diffs)) if (lines.length) parts.push(`${b}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
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
  const images = (await docker.listImages({ filters: { reference: ['diff/*'] } })).flatMap((i) => i.RepoTags ?? []);
  for (const ref of images)
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
}

/** Builds the case three ways and asserts the action's two images are the CLI's. */
export async function expectSameAsCli(c: DiffCase, slug = slugOf(c.name)): Promise<void> {
  const { outcomes, window } = await buildAll(c, slug);
  const diffs = {
    session: outcomeDiff(outcomes.cli, outcomes.session, window),
    tar: outcomeDiff(outcomes.cli, outcomes.tar, window),
  };
  if (c.cliFails) expect(outcomes.cli.ok, 'the CLI refuses this build').toBe(false);
  else if (!c.known) expect(outcomes.cli.ok, outcomes.cli.ok ? '' : tail(outcomes.cli.log).join('\n')).toBe(true);
  const shown = (l: readonly string[]) => l.filter((x) => !x.startsWith('    '));
  expect({ session: shown(diffs.session), tar: shown(diffs.tar) }, report(c.name, c, diffs)).toEqual({
    session: c.known?.session ?? [],
    tar: c.known?.tar ?? [],
  });
}
