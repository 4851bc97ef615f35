/**
 * The import route (v3 racks ≥ 3.24.6), in the order the Convox CLI's `builds import-image`
 * makes its calls (docs/rack-api.md §2.3, from convox/convox pkg/cli/builds.go
 * `BuildsImportImage` at 9e0245260): create an external build, PUT the manifest text on it, POST
 * the image (with source credentials when the image is private), poll the build every 2 s
 * (tolerating up to 5 failed polls in a row), then create the release from the build and link
 * it. The rack relays each service's image registry-to-registry; no build pod, no build log.
 *
 * Differences from the CLI, each on purpose: a 409 "concurrent-import cap" is retried with
 * backoff (the CLI gives up); a 409 "already importing" for our own build means an earlier POST
 * did land, so we go on polling; a 5xx or a lost answer is settled by reading the build (the
 * rack marks it running before answering): followed when it started, asked once more when not; a 404 without words is `ImportUnavailable` (the caller falls
 * back to the source build, as the CLI's `wrapVersionGate` explains it).
 */
import { ActionError } from '../errors.js';
import { at } from './context.js';
import type { FlowContext } from './context.js';
import { formatInputDuration } from './duration.js';
import { RackError } from './rack-error.js';
import { TransportError } from '../net/http.js';
import { retryDelayMs } from './timing.js';
import { appPath } from './types.js';
import type { RackBuild, RackRelease } from './types.js';
import { credentialIn } from './build.js';

export interface ImportInput {
  /** The manifest text, exactly as the rack should store it (the rewritten file). */
  manifest: string;
  /** The reference the rack relays for services without their own `image:` (and validates). */
  image: string;
  description: string;
  gitSha: string;
  /** Source registry credentials: only for a private image on the pushed registry. */
  credentials?: { username: string; password: string };
}

/** The rack has no import-image route (older than 3.24.6): fall back to the source build. */
export class ImportUnavailable extends Error {
  constructor(readonly buildId: string) {
    super('the rack has no import-image route');
  }
}

/** Poll interval and tolerated failed polls, as pkg/cli/builds.go `BuildsImportImage`. */
export const IMPORT_POLL_MS = 2000;
export const IMPORT_POLL_FAILURES = 5;
/** How many times a 409 "concurrent-import cap" is retried before giving up. */
const CAP_RETRIES = 6;

/** Runs the import; returns the build and the release made from it. @throws ImportUnavailable, ActionError. */
export async function importImage(ctx: FlowContext, input: ImportInput): Promise<{ id: string; release: string }> {
  if (input.credentials) ctx.secrets.add(input.credentials.password, input.credentials.username);
  at(ctx, () => `creating the external build (check convox builds --app ${ctx.app} before re-running)`);
  const created = await ctx.client.post<RackBuild>(
    appPath(ctx.app, '/builds'),
    { external: true, description: input.description, 'git-sha': input.gitSha || undefined },
    { what: 'create the external build', app: ctx.app },
  );
  const id = typeof created === 'object' ? created.id : undefined;
  if (!id) throw new ActionError(`the rack did not return a build id for ${ctx.app}`, { phase: 'deploy' }, 'retry the deploy');
  // The external build's `repository` carries the rack password as userinfo.
  if (typeof created === 'object') ctx.secrets.add(credentialIn(created.repository));
  ctx.ids.buildId = id;
  const buildPath = appPath(ctx.app, `/builds/${encodeURIComponent(id)}`);
  await ctx.client.put<RackBuild>(
    buildPath,
    { manifest: input.manifest },
    { what: `store the manifest on build ${id}`, app: ctx.app },
  );
  ctx.progress('import');
  await startImport(ctx, id, input);
  ctx.log.info(`Import ${id} started on ${ctx.rack}: the rack relays ${input.image} into its registry`);
  await pollImport(ctx, id);
  at(ctx, () => `creating the release from build ${id}`);
  const release = await ctx.client.post<RackRelease>(
    appPath(ctx.app, '/releases'),
    { build: id },
    { what: `create the release from build ${id}`, app: ctx.app },
  );
  const rid = typeof release === 'object' ? release.id : undefined;
  if (!rid)
    throw new ActionError(`the rack did not return a release id for build ${id}`, { phase: 'deploy' }, 'retry the deploy');
  ctx.ids.releaseId = rid;
  await ctx.client.put<RackBuild>(buildPath, { release: rid }, { what: `link release ${rid} to build ${id}`, app: ctx.app });
  ctx.log.info(`Import ${id} complete: release ${rid}`);
  return { id, release: rid };
}

async function startImport(ctx: FlowContext, id: string, input: ImportInput): Promise<void> {
  const form = {
    image: input.image,
    'src-creds-user': input.credentials?.username,
    'src-creds-pass': input.credentials?.password,
  };
  let repeated = false;
  for (let attempt = 1; ; attempt++) {
    at(ctx, () => `asking the rack to import ${input.image} into build ${id}`);
    try {
      await ctx.client.post(appPath(ctx.app, `/builds/${encodeURIComponent(id)}/image`), form, {
        what: `import ${input.image} into build ${id}`,
        app: ctx.app,
      });
      return;
    } catch (e) {
      // A 5xx or a lost answer: the rack may have started the import. It marks the build running
      // before it answers, so the build says which: follow it, or ask once more.
      const lost = e instanceof ActionError && e.cause instanceof TransportError && e.cause.sent;
      if (lost || (e instanceof RackError && e.status >= 500)) {
        const said = lost ? 'lost' : `${(e as RackError).status}`;
        const status = await buildStatus(ctx, id);
        if (status !== 'created') {
          ctx.log.info(`The rack's answer to the import was ${said}, but build ${id} is ${status}: following it`);
          return;
        }
        if (repeated) throw e;
        repeated = true;
        ctx.log.info(`The rack's answer to the import was ${said}, and build ${id} has not started: asking again`);
        continue;
      }
      if (!(e instanceof RackError)) throw e;
      // pkg/cli/version_gate.go: only the SDK's bare "response status 404" means a missing route.
      if (e.status === 404 && e.rackMessage === 'response status 404') throw new ImportUnavailable(id);
      // Our own earlier POST landed (its answer was lost): the import runs; follow it.
      if (e.status === 409 && /already importing/.test(e.rackMessage)) return;
      if (e.status === 409 && attempt <= CAP_RETRIES) {
        const ms = retryDelayMs(attempt + 2);
        ctx.log.info(`rack: ${e.rackMessage}; retrying the import in ${(ms / 1000).toFixed(1)}s (attempt ${attempt + 1})`);
        await ctx.sleep(ms, ctx.deadline.signal);
        continue;
      }
      if (e.status === 422) throw refused(ctx, id, e);
      throw e;
    }
  }
}

async function buildStatus(ctx: FlowContext, id: string): Promise<string> {
  at(ctx, () => `reading build ${id} to see whether the import started (check convox builds --app ${ctx.app})`);
  const build = await ctx.client.get<RackBuild>(appPath(ctx.app, `/builds/${encodeURIComponent(id)}`), {
    what: `read build ${id}`,
    app: ctx.app,
  });
  return build.status ?? '';
}

/** A 422: the rack's words, and what the action can do about them. */
function refused(ctx: FlowContext, id: string, e: RackError): ActionError {
  const parse = /^manifest parse failed/.test(e.rackMessage);
  return new ActionError(
    `the rack refused to import into build ${id}: ${e.rackMessage}`,
    { phase: 'deploy' },
    parse
      ? 'the rack reads the manifest with an EMPTY environment on this route; use rack-build: source, or remove the ${VAR} and required environment entries without defaults'
      : 'the image reference was refused; check the image and tags inputs',
  );
}

async function pollImport(ctx: FlowContext, id: string): Promise<void> {
  const started = ctx.now();
  let status = 'created';
  let failures = 0;
  at(ctx, () => `import ${id} was still ${status} after ${formatInputDuration(ctx.now() - started)}`);
  for (;;) {
    await ctx.sleep(IMPORT_POLL_MS, ctx.deadline.signal);
    let build: RackBuild;
    try {
      build = await ctx.client.get<RackBuild>(appPath(ctx.app, `/builds/${encodeURIComponent(id)}`), {
        what: `read build ${id}`,
        app: ctx.app,
      });
    } catch (e) {
      if (!(e instanceof ActionError) || ++failures > IMPORT_POLL_FAILURES) throw e;
      ctx.log.info(`(reading import ${id} failed ${failures} time(s) in a row; still polling)`);
      continue;
    }
    failures = 0;
    status = build.status ?? '';
    if (status === 'created' || status === 'running') continue;
    if (status === 'complete') return;
    if (status === 'failed') throw importFailed(ctx, id, build.reason ?? '');
    throw new ActionError(
      `import ${id} has status "${status}", which a build should never have`,
      { phase: 'deploy' },
      `inspect it with: convox builds info ${id} --app ${ctx.app}`,
    );
  }
}

function importFailed(ctx: FlowContext, id: string, reason: string): ActionError {
  const said = ctx.secrets.redact(reason);
  const auth = /unauthori[sz]ed|authentication required|denied/i.test(said);
  return new ActionError(
    `import ${id} failed on ${ctx.rack}${said ? `: ${said}` : ''}`,
    { phase: 'deploy' },
    auth
      ? 'the rack could not read the image: give registry-username and registry-password (passed to the rack for this pull only), or make the image public'
      : `inspect it with: convox builds info ${id} --app ${ctx.app}`,
  );
}
