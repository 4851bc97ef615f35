import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ActionError, InputErrors } from '../errors.js';
import type { Secrets } from '../secrets.js';
import { parseReference, type ImageReference } from '../image/reference.js';
import { parseTagTemplates, renderTags } from '../image/tags.js';
import { defaultManifestPath } from '../manifest/index.js';
import type { BuildConfig, Config, DeployConfig, UpdateConfig } from './config.js';
import { parseDuration } from '../convox/duration.js';
import { isPullRequestEvent, type GitHubContext } from './github.js';
import { cacheFromProblem, networkProblem, platformProblem, targetProblem, urlProblem } from './checks.js';
import { insideWorkspace, relativeToWorkspace } from './paths.js';
import { RawInputs } from './raw.js';

const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns the raw inputs into one validated Config. Every problem is collected and thrown together
 * (InputErrors), each naming its input and the fix. Secrets are registered before anything else.
 */
export function readInputs(env: NodeJS.ProcessEnv, github: GitHubContext, now: Date, secrets: Secrets): Config {
  const raw = new RawInputs(env);
  secrets.add(raw.get('registry-password'), raw.get('registry-username'));
  secrets.add(raw.get('rack-password'), 'convox');
  secrets.add(raw.get('github-token'));
  const workspace = path.resolve(github.workspace);

  // Promoting an existing release pushes, tags and rewrites nothing: no image is needed.
  const promotesOnly = !raw.get('image') && raw.get('release') !== undefined;
  const image = promotesOnly ? undefined : readImage(raw);
  const tags = promotesOnly ? [] : readTags(raw, github, now);
  const build = readBuild(raw, workspace);
  const { dryRun, dryRunReason } = readDryRun(raw, github);
  const update = readUpdate(raw, workspace);
  const deploy = readDeploy(raw, env);
  const config: Config = {
    github,
    workspace,
    image,
    tags,
    build,
    push: raw.bool('push', true),
    registry: { username: raw.get('registry-username'), password: raw.get('registry-password') },
    dryRun,
    dryRunReason,
    update,
    deploy,
    report: {
      comment: raw.bool('comment', true),
      githubToken: raw.get('github-token') ?? env.GITHUB_TOKEN,
      environment: raw.get('environment'),
      environmentUrl: checkedUrl(raw, 'environment-url', raw.get('environment-url')),
    },
  };
  crossCheck(raw, config);
  if (raw.problems.length > 0) throw new InputErrors(raw.problems);
  return config;
}

function checkedUrl(raw: RawInputs, name: string, value: string | undefined): string | undefined {
  const why = value === undefined ? undefined : urlProblem(value);
  if (why) raw.fail(name, why, 'give the full address, e.g. https://shop.example.com');
  return value;
}

function readImage(raw: RawInputs): ImageReference | undefined {
  const text = raw.get('image');
  if (!text)
    return raw.fail(
      'image',
      'is required',
      "set it to the repository to push, e.g. 'acme/shop' or 'registry.example.com:5000/team/shop'",
    );
  let ref: ImageReference;
  try {
    ref = parseReference(text);
  } catch (e) {
    return raw.fail(
      'image',
      `'${text}' is not a valid image repository: ${(e as Error).message}`,
      "use lowercase 'namespace/repo' or 'host[:port]/path/repo'",
    );
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    return raw.fail(
      'image',
      `'${text}' includes a tag or digest`,
      `give the repository only (e.g. '${text.replace(/[@:][^/]*$/, '')}') and put tags in 'tags'`,
    );
  }
  return ref;
}

function readTags(raw: RawInputs, github: GitHubContext, now: Date): string[] {
  const given = raw.multiline('tags');
  // parseTagTemplates falls back to the default for an empty list; a list of only separators
  // is a mistake (a template expression that rendered empty), not a request for the default.
  const templates = given !== undefined && raw.list('tags').length === 0 ? [] : parseTagTemplates(given ?? '{{timestamp}}');
  if (templates.length === 0) {
    raw.fail('tags', 'lists no tag', "give at least one template, e.g. '{{timestamp}}' or 'v3.0.2'");
    return [];
  }
  try {
    return renderTags(
      templates,
      { now, sha: github.sha, branch: github.branch, runNumber: github.runNumber, eventName: github.eventName },
      raw.get('timestamp-format') ?? '%Y%m%d%H%M%S',
    );
  } catch (e) {
    if (e instanceof ActionError) raw.problems.push(e);
    else raw.fail('tags', (e as Error).message);
    return [];
  }
}

function readBuild(raw: RawInputs, workspace: string): BuildConfig {
  const enabled = raw.bool('build', true);
  const contextInput = raw.get('context') ?? '.';
  const context = insideWorkspace(workspace, contextInput);
  if (!context)
    raw.fail(
      'context',
      `'${contextInput}' is outside the workspace ${workspace}`,
      'use a directory inside the repository checkout',
    );
  else if (enabled && !(existsSync(context) && statSync(context).isDirectory())) {
    raw.fail(
      'context',
      `directory '${contextInput}' does not exist`,
      'check the path (it is relative to the workspace); did the checkout step run?',
    );
  }
  const fileInput = raw.get('file');
  const dockerfile = fileInput ? insideWorkspace(workspace, fileInput) : context && path.join(context, 'Dockerfile');
  if (fileInput && !dockerfile)
    raw.fail('file', `'${fileInput}' is outside the workspace`, 'use a Dockerfile inside the repository checkout');
  else if (enabled && dockerfile && context && !existsSync(dockerfile)) {
    const shown = fileInput ?? `${relativeToWorkspace(workspace, context)}/Dockerfile`;
    raw.fail(
      fileInput ? 'file' : 'context',
      `no Dockerfile at '${shown}'`,
      "set 'file' to your Dockerfile, or 'build: false' to deploy an existing tag",
    );
  } else if (enabled && dockerfile && !statSync(dockerfile).isFile()) {
    raw.fail(
      fileInput ? 'file' : 'context',
      `'${fileInput ?? relativeToWorkspace(workspace, dockerfile)}' is a directory, not a Dockerfile`,
      "set 'file' to the Dockerfile itself, e.g. docker/Dockerfile",
    );
  } else if (enabled && dockerfile) checkEngineInputs(raw, dockerfile, relativeToWorkspace(workspace, dockerfile));
  return {
    enabled,
    context: context ?? workspace,
    dockerfile: dockerfile ?? path.join(workspace, 'Dockerfile'),
    buildArgs: raw.keyValues('build-args'),
    labels: raw.keyValues('labels'),
    target: raw.get('target'),
    noCache: raw.bool('no-cache', false),
    pull: raw.bool('pull', false),
    cacheFrom: raw.list('cache-from'),
    platform: raw.get('platform'),
    network: raw.get('network'),
  };
}

function readDryRun(raw: RawInputs, github: GitHubContext): { dryRun: boolean; dryRunReason: string } {
  const mode = raw.choice('dry-run', ['auto', 'true', 'false'] as const, 'auto');
  if (mode !== 'auto') return { dryRun: mode === 'true', dryRunReason: `dry-run: ${mode}` };
  const pr = isPullRequestEvent(github.eventName);
  const event = github.eventName || 'no event (local run)';
  return { dryRun: pr, dryRunReason: `${event} event (dry-run: auto)` };
}

function readUpdate(raw: RawInputs, workspace: string): UpdateConfig {
  const mode = raw.choice('update', ['manifest', 'env', 'none'] as const, 'manifest');
  const envVar = raw.get('env-var') ?? 'IMAGE_VERSION';
  if (!ENV_VAR_NAME.test(envVar))
    raw.fail(
      'env-var',
      `'${envVar}' is not a valid environment variable name`,
      'use letters, digits and underscores, e.g. IMAGE_VERSION',
    );
  const services = raw.list('services');
  if (raw.multiline('services') !== undefined && services.length === 0)
    raw.fail('services', 'is set but names no service', 'list service names, or leave it empty to match by image');
  const base = { mode, envVar, pinDigest: raw.bool('pin-digest', false), services: services.length ? services : undefined };
  const given = raw.get('manifest');
  if (mode === 'none' && !given) return base;
  let file = given;
  if (!file) {
    try {
      file = defaultManifestPath((p) => existsSync(path.join(workspace, p)));
    } catch (e) {
      if (e instanceof ActionError) raw.problems.push(e);
      else throw e;
      return base;
    }
  }
  const abs = insideWorkspace(workspace, file);
  if (!abs) {
    raw.fail('manifest', `'${file}' is outside the workspace`, 'use a manifest inside the repository checkout');
    return base;
  }
  if (!existsSync(abs)) {
    const fix = given
      ? 'check the path (relative to the workspace)'
      : "add convox.yml (or docker-compose.yml) or set 'manifest', or use 'update: none'";
    raw.fail('manifest', `no manifest at '${file}'`, fix);
  }
  return { ...base, manifestPath: abs, manifestFile: relativeToWorkspace(workspace, abs) };
}

function readDeploy(raw: RawInputs, env: NodeJS.ProcessEnv): DeployConfig | undefined {
  const app = raw.get('app');
  let timeoutMs: number | undefined;
  try {
    timeoutMs = parseDuration(raw.get('timeout') ?? '30m', 'timeout');
  } catch (e) {
    if (!(e instanceof ActionError)) throw e;
    raw.problems.push(e);
  }
  const wait = raw.bool('wait', true);
  const insecureTls = raw.bool('rack-insecure-tls', false);
  const rackBuild = raw.choice('rack-build', ['auto', 'import', 'source'] as const, 'auto');
  const promote = raw.bool('promote', true);
  const release = raw.get('release');
  if (release !== undefined && !/^R[A-Za-z]{10}$/.test(release))
    raw.fail(
      'release',
      `'${release}' is not a Convox release id`,
      'give an id like RABCDEFGHIJ, e.g. the release-id output of the job that staged it',
    );
  if (!app) {
    if (release !== undefined) raw.fail('release', "is set but no 'app' is", "set 'app' to the app the release belongs to");
    if (!promote) raw.fail('promote', "is false but no 'app' is set", "set 'app', or remove 'promote'");
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(app))
    raw.fail('app', `'${app}' is not a Convox app name`, 'app names are lowercase letters, digits and dashes');
  return {
    app,
    rack: raw.get('rack') ?? (env.CONVOX_RACK || undefined),
    rackHost: raw.get('rack-host'),
    rackPassword: raw.get('rack-password'),
    insecureTls,
    wait,
    timeoutMs: timeoutMs ?? 30 * 60_000,
    description: raw.get('description'),
    rackBuild,
    promote,
    release,
  };
}

/** Inputs the engine would refuse only after the context was packed and sent: checked here instead. */
function checkEngineInputs(raw: RawInputs, dockerfile: string, shown: string): void {
  const checks: [string, (v: string) => string | undefined, string][] = [
    ['platform', platformProblem, 'give one platform such as linux/amd64'],
    ['network', networkProblem, 'use default, none, host or the name of a network'],
    [
      'target',
      (v) => targetProblem(v, dockerfile, shown),
      "name a stage declared with 'FROM <image> AS <name>', or remove 'target' to build the last stage",
    ],
  ];
  for (const [name, problem, fix] of checks) {
    const value = raw.get(name);
    const why = value === undefined ? undefined : problem(value);
    if (why) raw.fail(name, why, fix);
  }
  const cache = cacheFromProblem(raw.list('cache-from'));
  if (cache)
    raw.fail(
      'cache-from',
      cache,
      'list image references such as registry.example.com/acme/shop:latest, one per line or comma-separated',
    );
}

/** Problems that only show when inputs are read together. */
function crossCheck(raw: RawInputs, c: Config): void {
  if (c.registry.password && !c.registry.username)
    raw.fail(
      'registry-username',
      "is empty but 'registry-password' is set",
      'set both, or neither to use the Docker config written by docker/login-action',
    );
  if (c.registry.username && !c.registry.password)
    raw.fail('registry-password', "is empty but 'registry-username' is set", 'pass the password or token from a secret');
  if (c.update.mode === 'env' && !c.deploy && !c.dryRun)
    raw.fail('update', "is 'env' but no 'app' is set", "set 'app' so IMAGE_VERSION can be set on it, or use 'update: manifest'");
  if (c.deploy?.release !== undefined) {
    if (c.build.enabled)
      raw.fail(
        'release',
        "promotes an existing release, but 'build' is true",
        "set 'build: false' (the release already holds its image)",
      );
    if (c.update.mode !== 'none')
      raw.fail(
        'release',
        `promotes an existing release, but 'update' is '${c.update.mode}' (a manifest or env change would need a new release)`,
        "set 'update: none'",
      );
    if (!c.deploy.promote)
      raw.fail('promote', "is false, but 'release' asks to promote", "remove one of 'promote: false' and 'release'");
    if (raw.get('rack-build') !== undefined)
      raw.fail('rack-build', "has no effect with 'release' (nothing is built)", "remove 'rack-build'");
    if (c.image)
      raw.fail(
        'image',
        "is set, but 'release' promotes an existing release (its image is already in it)",
        "remove 'image' from the promoting step",
      );
  }
  if (!c.build.enabled && c.build.noCache)
    raw.fail('no-cache', "has no effect with 'build: false'", "remove 'no-cache' or set 'build: true'");
}
