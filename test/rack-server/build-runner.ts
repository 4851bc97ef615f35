/**
 * What the build pod does (doc §2.2): fetch the object, unpack, store the raw manifest,
 * interpolate with the newest release's env + build-args, check `required env`, "pull" each
 * `image:` from the test registry, write a log over `buildMs`, then create the release and set
 * `release` + `complete` together — a few ms after the log stream's EOF, on purpose.
 */
import { nowNs } from './clock.js';
import type { BuildFault } from './faults.js';
import { loadManifest } from './manifest.js';
import type { ManifestService } from './manifest.js';
import type { Rack } from './rack.js';
import { parseImage, pullImage } from './registry.js';
import { buildEnv, createRelease } from './release-logic.js';
import { normalise, unpackTgz } from './tarball.js';
import type { AppRecord, BuildRecord } from './types.js';

/** Run a build in the background; the create request has already been answered. */
export function startBuild(rack: Rack, app: AppRecord, build: BuildRecord): void {
  const fault = rack.faults.takeBuild(app.name);
  void runBuild(rack, app, build, fault).catch((e: unknown) => {
    build.log.write(`ERROR: ${(e as Error).message}\n`);
    build.status = 'failed';
    build.log.end();
  });
}

async function runBuild(rack: Rack, app: AppRecord, build: BuildRecord, fault: BuildFault | undefined): Promise<void> {
  const deadline = Date.now() + rack.timing.buildMs;
  // v2 answers `created` and only then does the stored record turn `running` (doc §2.2).
  if (rack.mode === 'v2') await rack.timers.sleep(Math.min(rack.timing.logChunkMs, rack.timing.buildMs / 4));
  build.status = 'running';
  const lines: string[] = [];
  let error: string | undefined;
  try {
    await prepare(rack, app, build, lines);
  } catch (e) {
    error = (e as Error).message;
  }
  if (!error && fault?.outcome === 'fail') error = fault.message ?? 'build failed';
  await writePaced(rack, build, lines, deadline);
  if (rack.timers.isClosed) return;
  if (fault?.outcome === 'stuck') {
    // The pod is gone but nothing moves the record out of `running` (doc §2.2).
    if (fault.stream !== 'hang') build.log.end();
    return;
  }
  if (error) build.log.write(`ERROR: ${error}\n`);
  await finish(rack, app, build, error, fault);
}

async function prepare(rack: Rack, app: AppRecord, build: BuildRecord, out: string[]): Promise<void> {
  const m = /^object:\/\/([^/]*)\/(.+)$/.exec(build.params.url);
  if (!m) throw new Error(`invalid source url: ${build.params.url}`);
  const data = rack.state.apps.get(m[1] ?? '')?.objects.get(m[2] ?? '');
  if (data === undefined) throw new Error(`object not found: ${m[2]}`);
  let files: Map<string, Buffer>;
  try {
    files = await unpackTgz(data);
  } catch (e) {
    throw new Error(data.length === 0 ? 'unexpected EOF' : `gzip: ${(e as Error).message}`);
  }
  const path = normalise(build.params.manifestPath || 'convox.yml');
  const raw = files.get(path);
  if (raw === undefined) throw new Error(`open ${path}: no such file or directory`);
  build.manifest = raw.toString('utf8');
  const services = loadManifest(build.manifest, buildEnv(rack, app, build.params.buildArgs));
  // The build pod logs in to every rack registry (provider/k8s/build.go `buildAuth`).
  for (const server of rack.state.registries.keys()) out.push(`Authenticating ${server}: Login Succeeded`);
  for (const s of services) {
    if (s.image) await pull(rack, app, build, s, out);
    else dockerBuild(rack, app, build, s, files, out);
  }
}

async function pull(rack: Rack, app: AppRecord, build: BuildRecord, s: ManifestService, out: string[]): Promise<void> {
  out.push(`Running: docker pull ${s.image}`);
  if (rack.registry) {
    const res = await pullImage(rack.registry, s.image, rack.state.registries.get(parseImage(s.image).host));
    if (!res.ok) throw new Error(res.message ?? 'pull failed');
    out.push(`Digest: ${res.digest}`, `Status: Downloaded newer image for ${s.image}`);
  }
  const target = `${repository(rack, app)}:${s.name}.${build.id}`;
  out.push(`Running: docker tag ${s.image} ${target}`, `Running: docker push ${target}`);
}

function dockerBuild(
  rack: Rack,
  app: AppRecord,
  build: BuildRecord,
  s: ManifestService,
  files: Map<string, Buffer>,
  out: string[],
): void {
  const file = normalise(`${s.buildPath}/${s.dockerfile}`);
  const dockerfile = files.get(file);
  out.push(`Building: ${s.buildPath}`);
  if (dockerfile === undefined) throw new Error(`open ${file}: no such file or directory`);
  const steps = dockerfile
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  steps.forEach((step, i) => out.push(`Step ${i + 1}/${steps.length} : ${step}`, ` ---> ${build.id.slice(1, 9).toLowerCase()}`));
  const target = `${repository(rack, app)}:${s.name}.${build.id}`;
  out.push(`Successfully built ${build.id.toLowerCase()}`, `Running: docker push ${target}`);
}

function repository(rack: Rack, app: AppRecord): string {
  return `registry.${rack.state.system.domain}/${app.name}`;
}

function decorate(rack: Rack, line: string): string {
  return rack.faults.unicodeLogs ? `${line} ✓ — ok\n` : `${line}\n`;
}

/** Spread the lines over the time left until `deadline`. */
async function writePaced(rack: Rack, build: BuildRecord, lines: string[], deadline: number): Promise<void> {
  for (const line of lines) {
    const left = deadline - Date.now();
    await rack.timers.sleep(Math.max(1, left / (lines.length + 1)));
    build.log.write(decorate(rack, line));
  }
  const rest = deadline - Date.now();
  if (rest > 0) await rack.timers.sleep(rest);
}

async function finish(
  rack: Rack,
  app: AppRecord,
  build: BuildRecord,
  error: string | undefined,
  fault: BuildFault | undefined,
): Promise<void> {
  const extra = Array.from({ length: fault?.unstreamedLines ?? 0 }, (_, i) => `Stored log line ${i + 1}\n`).join('');
  app.objects.set(`build/${build.id}/logs`, Buffer.concat([build.log.bytes(), Buffer.from(extra)]));
  build.ended = nowNs();
  build.logs = `object://${app.name}/build/${build.id}/logs`;
  const release = error ? undefined : createRelease(rack, app, { build: build.id });
  build.log.end();
  await rack.timers.sleep(rack.timing.statusFlipMs);
  if (release) build.release = release.id;
  build.status = error ? 'failed' : 'complete';
}
