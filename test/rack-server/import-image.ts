/**
 * `POST /apps/{app}/builds/{id}/image` as a v3 rack ≥ 3.24.6 answers it (doc §2.3, from
 * convox/convox provider/k8s/build.go `BuildImportImage` at 9e0245260): check the reference,
 * refuse a build already `running` (409), an empty manifest (422), a manifest that does not load
 * with an EMPTY env (422 `manifest parse failed: …`), one without services (422), a full set of
 * import slots (409); then `running`, answer 202 and relay each service's image — its own
 * `image:` when set, else the given one — in the background. The relay is a real manifest read
 * against the test registry, with the source credentials only for the given image's host (the
 * rack's auth file holds nothing else; the rack's registries list is NOT used here). The build
 * ends `complete` (no release: the client makes it) or `failed` with `reason`.
 */
import { nowNs } from './clock.js';
import { RackError } from './errors.js';
import type { Reply } from './http.js';
import { loadManifest } from './manifest.js';
import type { ManifestService } from './manifest.js';
import type { Rack } from './rack.js';
import { parseImage, pullImage } from './registry.js';
import type { PullCredentials } from './registry.js';
import type { Ctx } from './router.js';
import { param, value } from './router.js';
import type { AppRecord, BuildRecord } from './types.js';

/** provider/k8s/build.go `validImageRef`: the leading character blocks flag smuggling. */
const VALID_REF = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
const BAD_SEQUENCES = ['//', '@-', ':-', '/-', '::', '@@', ':@', '/@'];

/** provider/k8s/build.go `validImageRef` + `isDangerousImageRef`. */
export function importableRef(image: string): boolean {
  if (!VALID_REF.test(image)) return false;
  if (BAD_SEQUENCES.some((b) => image.includes(b))) return false;
  return !/[:@/]$/.test(image);
}

const INVALID_REF =
  'invalid image ref: must start with a letter or digit, contain only A-Z a-z 0-9 . _ : / @ + -, and not include // @- :- or /-';

/** The handler. The route exists only on v3 ≥ 3.24.6 (dispatch.ts gates it). */
export function buildImportImage(ctx: Ctx): Reply {
  const { rack } = ctx;
  const app = rack.state.requireApp(ctx.params.app ?? '');
  // pkg/api/controllers.go: `c.Value("image")` empty → 422 before the provider runs.
  const image = value(ctx, 'image');
  if (!image) throw new RackError(422, 'image param required');
  if (!importableRef(image)) throw new RackError(422, INVALID_REF);
  const id = ctx.params.id ?? '';
  const b = rack.state.requireBuild(app, id);
  if (b.status === 'running') throw new RackError(409, `build ${id} is already importing; wait for completion before retrying`);
  if (b.manifest.trim() === '') {
    throw new RackError(422, `build ${id} has no manifest; populate via BuildUpdate before BuildImportImage`);
  }
  let services: ManifestService[];
  try {
    services = loadManifest(b.manifest, new Map());
  } catch (e) {
    throw new RackError(422, `manifest parse failed: ${(e as Error).message}`);
  }
  if (services.length === 0) throw new RackError(422, 'manifest has no services to relay');
  if (rack.state.importsInFlight >= rack.importSlots) {
    throw new RackError(409, `rack at concurrent-import cap (${rack.importSlots} in flight); wait and retry`);
  }
  rack.state.importsInFlight++;
  b.status = 'running';
  b.started = nowNs();
  b.reason = '';
  const user = param(ctx, 'src-creds-user') ?? '';
  const pass = param(ctx, 'src-creds-pass') ?? '';
  const creds = user && pass ? { username: user, password: pass } : undefined;
  void relay(rack, app, b, services, image, creds)
    .then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    .then((err) => {
      rack.state.importsInFlight--;
      if (rack.timers.isClosed) return;
      b.ended = nowNs();
      b.status = err ? 'failed' : 'complete';
      b.reason = err ? scrub(err.message) : '';
    });
  return { status: 202, headers: {}, body: Buffer.alloc(0) };
}

/** One skopeo copy per service, in manifest order; the first failure ends the import. */
async function relay(
  rack: Rack,
  app: AppRecord,
  b: BuildRecord,
  services: ManifestService[],
  image: string,
  creds: PullCredentials | undefined,
): Promise<void> {
  for (const s of services) {
    const src = s.image || image;
    if (!importableRef(src)) throw new Error(`invalid image ref for service ${s.name}`);
    await rack.timers.sleep(rack.timing.importMs);
    // The auth file keys the source credentials by the given image's registry host only.
    const own = creds && parseImage(src).host === parseImage(image).host ? creds : undefined;
    const res = rack.registry ? await pullImage(rack.registry, src, own) : { ok: true, message: undefined };
    if (!res.ok) {
      const why = res.message ?? 'pull failed';
      throw new Error(
        `image relay failed for service ${s.name}: exit status 1 (output: time="${new Date().toISOString()}" level=fatal msg="initializing source docker://${src}: ${skopeoWords(why)}")`,
      );
    }
    app.objects.set(`import/${b.id}/${s.name}`, Buffer.from(`docker://${src}\n`));
  }
}

/** Docker's pull words as skopeo says them (close enough for a person reading `reason`). */
function skopeoWords(dockerMessage: string): string {
  if (/no basic auth credentials/.test(dockerMessage)) return 'reading manifest: unauthorized: authentication required';
  // A token registry's anonymous token carries no access to the repository.
  if (/pull access denied/.test(dockerMessage)) return 'reading manifest: requested access to the resource is denied';
  if (/manifest unknown/.test(dockerMessage)) return 'reading manifest: manifest unknown';
  return dockerMessage.replace(/^Error response from daemon: /, '');
}

/** provider/k8s/build.go `scrubCredentials`: userinfo in URLs, bearer tokens; 500 characters. */
function scrub(text: string): string {
  return text
    .replace(/(:\/\/)[A-Za-z0-9._+-]*:[^\s@/]+@/g, '$1[REDACTED]@')
    .replace(/([Bb]earer\s+)[A-Za-z0-9._~+/=-]{10,}/g, '$1[REDACTED]')
    .slice(0, 500);
}
