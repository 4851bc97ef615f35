import type Docker from 'dockerode';
import type { Config } from '../config/config.js';
import { relativeToWorkspace } from '../config/paths.js';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import type { Secrets } from '../secrets.js';
import { buildImage, type BuildResult } from '../engine/build.js';
import type { ContextPrefetch } from '../context/prefetch.js';
import type { CredentialsFor } from '../buildkit/session.js';
import { inspectEngine } from '../engine/engine.js';
import { ociLabels } from '../image/labels.js';
import { pushTag } from '../engine/push.js';
import { parseReference, registryApiHost, type ImageReference } from '../image/reference.js';
import { engineAuthConfig, resolveCredentials, type RegistryCredentials } from '../registry/credentials.js';
import { hostKey } from '../registry/docker-config.js';
import { lookupDigest, manifestDigest } from '../registry/client.js';

export interface ImageContext {
  readonly config: Config;
  /** The repository pushed to: `config.image`, which every run with an image phase has. */
  readonly image: ImageReference;
  readonly references: readonly string[];
  readonly docker: () => Docker;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  readonly secrets: Secrets;
  readonly now: Date;
  readonly signal?: AbortSignal;
  /** The build context's listing, walked while the run waits for the rack and the engine. */
  readonly contextPrefetch?: ContextPrefetch;
}

/** Credentials for the pushed registry: the inputs, else the Docker config (login-action). */
export function credentialsForImage(ctx: ImageContext): Promise<RegistryCredentials | undefined> {
  const { config } = ctx;
  return resolveCredentials(ctx.image.registry, {
    username: config.registry.username,
    password: config.registry.password,
    env: ctx.env,
    secrets: ctx.secrets,
  });
}

/** Builds the image and tags it with every reference. */
export async function buildPhase(ctx: ImageContext, creds: RegistryCredentials | undefined): Promise<BuildResult> {
  try {
    return await build(ctx, creds);
  } finally {
    // Sent by now, or not wanted (the classic builder, a tar upload, a failure before BuildKit asked).
    ctx.contextPrefetch?.stop();
  }
}

async function build(ctx: ImageContext, creds: RegistryCredentials | undefined): Promise<BuildResult> {
  const docker = ctx.docker();
  const engine = await inspectEngine(docker, ctx.env);
  ctx.log.info(
    `Docker engine ${engine.serverVersion} (API ${engine.apiVersion}), ${engine.buildkit ? 'BuildKit' : 'classic builder'}`,
  );
  const pushHost = ctx.image.registry;
  const known: Record<string, { username: string; password: string }> = {};
  if (creds) known[pushHost] = { username: creds.username, password: creds.password };
  // Cache sources may come from other registries: the classic builder needs their credentials up front.
  for (const ref of ctx.config.build.cacheFrom) {
    const host = safeRegistry(ref);
    if (!host || known[host]) continue;
    const c = await resolveCredentials(host, { env: ctx.env, secrets: ctx.secrets });
    if (c) known[host] = { username: c.username, password: c.password };
  }
  const labels = { ...ociLabels(ctx.config.github, ctx.config.tags[0] ?? '', ctx.now), ...ctx.config.build.labels };
  const result = await buildImage(docker, {
    contextPrefetch: ctx.contextPrefetch,
    config: ctx.config.build,
    references: ctx.references,
    labels,
    engine,
    credentialsFor: sessionCredentials(known, ctx),
    registryConfig: Object.fromEntries(
      Object.entries(known).map(([h, c]) => [h === 'docker.io' ? 'https://index.docker.io/v1/' : h, c]),
    ),
    log: ctx.log,
    dockerfileLabel: relativeToWorkspace(ctx.config.workspace, ctx.config.build.dockerfile),
    signal: ctx.signal,
  });
  ctx.log.info(
    `Built ${result.imageId} with ${result.builder === 'buildkit' ? 'BuildKit' : 'the classic builder'} (${result.steps} steps, ${result.cachedSteps} cached)`,
  );
  return result;
}

/**
 * What the build session answers when BuildKit asks for a registry's credentials: those already
 * known (the push registry, cache sources), else the Docker config's (docker/login-action, credential
 * helpers), looked up once per host. So a `FROM` image on any registry the job logged in to is
 * pulled with that registry's own credentials, and no registry is offered another's.
 */
export function sessionCredentials(
  known: Readonly<Record<string, { username: string; password: string }>>,
  ctx: Pick<ImageContext, 'env' | 'secrets'>,
): CredentialsFor {
  const looked = new Map<string, Promise<{ username: string; password: string } | undefined>>();
  return (asked) => {
    // Docker Hub's hosts (BuildKit asks for registry-1.docker.io) are one entry, as in the Docker config.
    const host = hostKey(asked);
    if (known[host]) return known[host];
    let found = looked.get(host);
    if (!found) {
      found = resolveCredentials(host, { env: ctx.env, secrets: ctx.secrets })
        .then((c) => (c ? { username: c.username, password: c.password } : undefined))
        // A broken helper must not break the build: the pull is tried anonymously.
        .catch(() => undefined);
      looked.set(host, found);
    }
    return found;
  };
}

function safeRegistry(ref: string): string | undefined {
  try {
    return parseReference(ref).registry;
  } catch {
    return undefined;
  }
}

/**
 * Pushes every tag, then confirms with the registry that the primary tag serves the pushed digest.
 * `onPushed` hears each reference as soon as the registry has it, so a later failure can still
 * report what was pushed.
 */
export async function pushPhase(
  ctx: ImageContext,
  creds: RegistryCredentials | undefined,
  onPushed: (reference: string) => void = () => {},
): Promise<string> {
  const docker = ctx.docker();
  const repository = ctx.image.original;
  const results: string[] = [];
  let digest: string | undefined;
  for (const tag of ctx.config.tags) {
    ctx.log.info(`Pushing ${repository}:${tag}`);
    try {
      const pushed = await pushTag(docker, {
        repository,
        tag,
        authconfig: engineAuthConfig(creds),
        registry: ctx.image.registry,
        log: ctx.log,
        signal: ctx.signal,
      });
      results.push(`${pushed.reference}: pushed ${pushed.digest}`);
      onPushed(pushed.reference);
      digest ??= pushed.digest;
      if (pushed.digest !== digest)
        throw new ActionError(
          `${pushed.reference} was pushed as ${pushed.digest}, but ${repository}:${ctx.config.tags[0]} as ${digest}`,
          { phase: 'push' },
          'a tag was moved by someone else during the push; re-run the job',
        );
    } catch (e) {
      // A partial push is reported tag by tag so nobody has to guess what the registry holds.
      if (!results.length || !(e instanceof ActionError)) throw e;
      const rest = ctx.config.tags.slice(ctx.config.tags.indexOf(tag) + 1).map((t) => `${repository}:${t}`);
      const tally = `Partial push. Already pushed:\n${results.join('\n')}\nFailed: ${repository}:${tag}${rest.length ? `\nNot attempted: ${rest.join(', ')}` : ''}`;
      ctx.log.error(tally);
      throw new ActionError(`${e.message}\n${tally}`, e.place, e.fix, { cause: e });
    }
  }
  const primary = parseReference(`${repository}:${ctx.config.tags[0]}`);
  const confirmed = await manifestDigest(primary, creds, {
    log: ctx.log,
    secrets: ctx.secrets,
    signal: ctx.signal,
  });
  if (confirmed !== digest) {
    throw new ActionError(
      `the registry serves ${confirmed} for ${repository}:${ctx.config.tags[0]}, not the pushed ${digest}`,
      { phase: 'push' },
      'another push to the same tag raced this one; use unique tags such as {{timestamp}} or {{sha}}',
    );
  }
  ctx.log.info(`Registry ${registryApiHost(primary)} confirms ${digest}`);
  return digest!;
}

/**
 * `build: false` deploys a tag that is already in the registry: check it is there (a read, so
 * dry runs do it too) and take its digest, before anything else happens.
 */
export async function existingImagePhase(ctx: ImageContext, creds: RegistryCredentials | undefined): Promise<string> {
  const reference = `${ctx.image.original}:${ctx.config.tags[0]}`;
  const digest = await lookupDigest(parseReference(reference), creds, {
    log: ctx.log,
    secrets: ctx.secrets,
    signal: ctx.signal,
  });
  if (!digest) {
    throw new ActionError(
      `${reference} is not in the registry`,
      { input: 'tags', phase: 'plan' },
      "with 'build: false' the first tag must name an image that was already pushed (e.g. tags: v3.0.2); or set 'build: true'",
    );
  }
  ctx.log.info(`${reference} exists in the registry as ${digest}; deploying it without a build.`);
  return digest;
}
