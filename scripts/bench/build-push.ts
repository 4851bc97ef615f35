/**
 * 1. Our whole build + push (the bundle as the runner starts it) of a 3000-file context against
 * the docker CLI (Debian's 20.10 client with DOCKER_BUILDKIT=1, and the current client's build
 * path, buildx, each pushing with `docker push`) and against the floor: the context tarred and
 * sent as one build request and one push request with curl, no client logic at all.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { act, buildx, cliEnv, pushInputs, sh, smallFiles, tree, type Bench } from './run.js';
import { interleave, medians, ms, pairedRatio, ratio, samplesLine, type Row } from './stats.js';

export async function buildPush(b: Bench): Promise<Row[]> {
  const { s } = b;
  const ctx = tree({ Dockerfile: 'FROM scratch\nCOPY . /app\n', ...smallFiles(3000, 'src') });
  // A new file content every run, so every contender builds a new layer and really pushes it.
  const touch = (who: string, round: number): void =>
    writeFileSync(path.join(ctx, 'round.txt'), `${who} ${round} ${process.hrtime.bigint()}`);
  const image = `${s.registry}/bench/app`;
  const env = { DOCKER_HOST: s.dockerHost };
  const ours = async (round: number, tag: string, extra: Record<string, string>): Promise<void> => {
    touch(tag, round);
    const r = await act({ image, tags: tag, ...pushInputs(s) }, { ...env, ...extra }, ctx);
    if (!r.outputs.digest?.startsWith('sha256:')) throw new Error(`our run printed no digest:\n${r.stdout.slice(-2000)}`);
  };
  const current = buildx(b);
  try {
    const t = await interleave(b.rounds, {
      ours: (i) => ours(i, `bench-${i}`, {}),
      // The same bundle made to upload a tar instead of serving the context over the session.
      oursTar: (i) => ours(i, `bench-tar-${i}`, { CID_CONTEXT_TRANSFER: 'tar' }),
      cli: (i) => {
        touch('cli', i);
        const ref = `${s.registry}/bench/cli:bench-${i}`;
        sh(`cd ${ctx} && /usr/bin/docker build -q -t ${ref} . >/dev/null && /usr/bin/docker push ${ref} >/dev/null`, cliEnv(b));
      },
      buildx: (i) => {
        touch('buildx', i);
        const ref = `${s.registry}/bench/buildx:bench-${i}`;
        sh(
          `cd ${ctx} && ${current.program} build -q -t ${ref} . >/dev/null && /usr/bin/docker push ${ref} >/dev/null`,
          current.env,
        );
      },
      floor: (i) => {
        touch('floor', i);
        floor(b, ctx, `${s.registry}/bench/floor`, `bench-${i}`);
      },
    });
    const m = medians(t);
    console.log(
      `build+push of 3000 files, medians of ${b.rounds}: ours ${ms(m.ours)}, ours with a tar upload ${ms(m.oursTar)}, docker CLI 20.10 ${ms(m.cli)}, buildx ${ms(m.buildx)}, curl floor ${ms(m.floor)}`,
    );
    console.log(`  samples: ${samplesLine(t)}`);
    const vsFloor = pairedRatio(t.ours, t.floor);
    const vsCli = pairedRatio(t.ours, t.cli);
    const vsBuildx = pairedRatio(t.ours, t.buildx);
    console.log(
      `  ours/floor ${ratio(m.ours, m.floor)} (paired per round ${vsFloor.toFixed(2)}×), ours/CLI 20.10 ${ratio(m.ours, m.cli)} (paired ${vsCli.toFixed(2)}×), ours/buildx ${ratio(m.ours, m.buildx)} (paired ${vsBuildx.toFixed(2)}×), ours (tar)/floor ${ratio(m.oursTar, m.floor)}`,
    );
    return [
      {
        bench: 'Build + push, 3000-file context (median)',
        ours: ms(m.ours),
        reference: `floor (tar + curl) ${ms(m.floor)}; docker CLI 20.10 ${ms(m.cli)}; buildx ${ms(m.buildx)}; ours with a tar upload ${ms(m.oursTar)}`,
        ratio: `${vsFloor.toFixed(2)}× floor; ${vsCli.toFixed(2)}× CLI 20.10, ${vsBuildx.toFixed(2)}× buildx (paired)`,
        target: '≤ 1.15× floor',
        met: vsFloor <= 1.15,
      },
    ];
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/**
 * The floor: `tar -c` piped into one POST /build and one POST /images/…/push. Both answer HTTP
 * 200 and report failures inside the JSON stream, so the streams are checked: a floor that
 * silently failed would look fast.
 */
function floor(b: Bench, ctx: string, repo: string, tag: string): void {
  const sock = b.s.dockerHost.replace(/^unix:\/\//, '');
  // base64url, as the docker CLI encodes X-Registry-Auth.
  const auth = Buffer.from(
    JSON.stringify({ username: b.s.registryUser, password: b.s.registryPassword, serveraddress: b.s.registry }),
  ).toString('base64url');
  const built = sh(
    `tar -C ${ctx} -c . | curl -sS --fail --unix-socket ${sock} -X POST -H 'Content-Type: application/x-tar' --data-binary @- 'http://d/v1.41/build?version=2&networkmode=none&t=${encodeURIComponent(`${repo}:${tag}`)}'`,
  );
  if (built.includes('"errorDetail"')) throw new Error(`the floor's build failed:\n${built.slice(-2000)}`);
  const pushed = sh(
    `curl -sS --fail --unix-socket ${sock} -X POST -H 'X-Registry-Auth: ${auth}' 'http://d/v1.41/images/${encodeURIComponent(repo)}/push?tag=${tag}'`,
  );
  // The graph-driver store reports the digest in an aux result; the containerd store only in
  // its `<tag>: digest: …` status line (src/engine/push.ts).
  if (pushed.includes('"errorDetail"') || !(pushed.includes('"Digest"') || pushed.includes(`${tag}: digest: sha256:`)))
    throw new Error(`the floor's push failed:\n${pushed.slice(-2000)}`);
}
