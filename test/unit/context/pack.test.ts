import { chmodSync, lstatSync, mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { GENERATED_PREFIX, packContext, prepareContext, readContextFile, type PackOptions } from '../../../src/context/pack.js';
import { readIgnorePatterns } from '../../../src/context/dockerignore.js';
import { runProbe } from '../support/probe.js';
import { makeTree, names, readTar, removeTree, type TarEntry } from '../support/tree.js';

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach(removeTree));
const tree = (files: Parameters<typeof makeTree>[0]): string => {
  const root = makeTree(files);
  roots.push(root);
  return root;
};

async function pack(
  root: string,
  opts: Partial<PackOptions> = {},
): Promise<{ entries: TarEntry[]; dockerfileName: string; stats: { files: number; bytes: number; excluded: number } }> {
  const packed = await packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'classic', ...opts });
  const entries = await readTar(packed.stream, opts.gzip);
  return { entries, dockerfileName: packed.dockerfileName, stats: await packed.done };
}

const listing = async (files: Parameters<typeof makeTree>[0], ignore: string) =>
  names((await pack(tree([...files, 'Dockerfile', ['.dockerignore', ignore]]))).entries).filter(
    (n) => n !== 'Dockerfile' && n !== '.dockerignore',
  );

// Pattern list + tree → exactly the entries sent. The first rows are the examples of Docker's
// documentation ("Dockerignore files"); `expected` is what current Docker (BuildKit) sends.
describe('which entries are sent', () => {
  it.each([
    [
      'docs: */temp*, */*/temp*, temp?',
      ['somedir/temporary.txt', 'somedir/temp/x', 'somedir/subdir/temp.txt', 'a/b/c/temp.txt', 'temp1', 'temp12', 'temp.txt'],
      '# comment\n*/temp*\n*/*/temp*\ntemp?\n',
      ['a/', 'a/b/', 'a/b/c/', 'a/b/c/temp.txt', 'somedir/', 'somedir/subdir/', 'temp.txt', 'temp12'],
    ],
    ['docs: **/*.go', ['a.go', 'x/b.go', 'x/y/c.go', 'x/y/keep.txt'], '**/*.go', ['x/', 'x/y/', 'x/y/keep.txt']],
    [
      'docs: *.md, !README*.md, README-secret.md',
      ['README.md', 'README-secret.md', 'CHANGES.md', 'x.txt'],
      '*.md\n!README*.md\nREADME-secret.md',
      ['README.md', 'x.txt'],
    ],
    [
      'docs: *.md, README-secret.md, !README*.md',
      ['README.md', 'README-secret.md', 'CHANGES.md', 'x.txt'],
      '*.md\nREADME-secret.md\n!README*.md',
      ['README-secret.md', 'README.md', 'x.txt'],
    ],
    [
      'an excluded tree is skipped whole',
      ['node_modules/a/index.js', 'node_modules/.bin/a -> ../a/index.js', 'src/a.js'],
      'node_modules',
      ['src/', 'src/a.js'],
    ],
    [
      'a negation re-includes one file of an excluded directory, which is sent for it',
      ['docs/README.md', 'docs/other.md', 'docs/sub/README.md'],
      'docs\n!docs/README.md',
      ['docs/', 'docs/README.md'],
    ],
    ['an excluded directory whose exception matches nothing is not sent', ['docs/other.md', 'x'], 'docs\n!docs/README.md', ['x']],
    [
      'a wildcard negation is looked for inside excluded directories',
      ['stuff/keep.me', 'stuff/drop', 'stuff/in/keep.me', 'other/keep.me'],
      'stuff\n!**/keep.me',
      ['other/', 'other/keep.me', 'stuff/', 'stuff/in/', 'stuff/in/keep.me', 'stuff/keep.me'],
    ],
    [
      '**/cache at any depth, with an exception below it',
      ['lib/deep/cache/keep', 'lib/deep/cache/drop', 'cache/x', 'src/cache.ts'],
      '**/cache\n!lib/deep/cache/keep',
      ['lib/', 'lib/deep/', 'lib/deep/cache/', 'lib/deep/cache/keep', 'src/', 'src/cache.ts'],
    ],
    [
      'leading / and ./, trailing /, character classes and escapes',
      [
        'build/x',
        'src/build/y',
        'dist/z',
        'a.txt',
        'd.txt',
        'secret1.key',
        'secretA.key',
        '#literal',
        'vendor/x/y',
        'vendor/keep/k',
        'vendor/top',
      ],
      '/build\n./dist/\n[abc].txt\nsecret[0-9].key\n\\#literal\nvendor/*\n!vendor/keep/**',
      ['d.txt', 'secretA.key', 'src/', 'src/build/', 'src/build/y', 'vendor/', 'vendor/keep/', 'vendor/keep/k'],
    ],
    ['no .dockerignore: everything, in byte order', ['b', 'B', 'a/x', 'é', 'z'], '', ['B', 'a/', 'a/x', 'b', 'z', 'é']],
  ])('%s', async (_name, files, ignore, expected) => {
    expect(await listing(files, ignore)).toEqual(expected);
  });

  it('always sends the Dockerfile and .dockerignore, even when excluded, and counts what was left out', async () => {
    const root = tree(['Dockerfile', ['.dockerignore', '*\n'], 'a', 'b/c']);
    const { entries, stats } = await pack(root);
    expect(names(entries)).toEqual(['.dockerignore', 'Dockerfile']);
    expect(stats).toMatchObject({ files: 2, excluded: 2 });
  });

  it('sends a Dockerfile inside an excluded directory, with that directory', async () => {
    const root = tree(['docker/app.Dockerfile', 'docker/other', 'src/a', ['.dockerignore', 'docker\n']]);
    const { entries, dockerfileName } = await pack(root, { dockerfile: path.join(root, 'docker/app.Dockerfile') });
    expect(dockerfileName).toBe('docker/app.Dockerfile');
    expect(names(entries)).toEqual(['.dockerignore', 'docker/', 'docker/app.Dockerfile', 'src/', 'src/a']);
  });

  /** A Dockerfile in docker/ with its own .dockerignore (excludes b) beside the root one (excludes a). */
  const twoIgnoreFiles = (): { root: string; dockerfile: string } => {
    const root = tree([
      'docker/app.Dockerfile',
      ['docker/app.Dockerfile.dockerignore', 'b\n'],
      ['.dockerignore', 'a\n'],
      'a',
      'b',
    ]);
    return { root, dockerfile: path.join(root, 'docker/app.Dockerfile') };
  };

  it('for BuildKit, prefers <Dockerfile>.dockerignore next to the Dockerfile over the root .dockerignore', async () => {
    const { root, dockerfile } = twoIgnoreFiles();
    expect(await readIgnorePatterns(root, dockerfile)).toEqual({ patterns: ['b'], source: `${dockerfile}.dockerignore` });
    const { entries } = await pack(root, { dockerfile, reader: 'buildkit' });
    expect(names(entries)).toEqual([
      '.dockerignore',
      'a',
      'docker/',
      'docker/app.Dockerfile',
      'docker/app.Dockerfile.dockerignore',
    ]);
  });

  it('for the classic builder, reads only the root .dockerignore, as the docker CLI does (ReadDockerignore)', async () => {
    const { root, dockerfile } = twoIgnoreFiles();
    expect(await readIgnorePatterns(root, undefined)).toEqual({ patterns: ['a'], source: path.join(root, '.dockerignore') });
    const { entries } = await pack(root, { dockerfile, reader: 'classic' });
    expect(names(entries)).toEqual([
      '.dockerignore',
      'b',
      'docker/',
      'docker/app.Dockerfile',
      'docker/app.Dockerfile.dockerignore',
    ]);
  });
});

describe('the files a tar carries only for the engine (extras)', () => {
  const prepared = (root: string, reader: 'classic' | 'buildkit', dockerfile = path.join(root, 'Dockerfile')) =>
    prepareContext({ contextDir: root, dockerfile, reader });

  it('are none when .dockerignore leaves the Dockerfile and itself in', async () => {
    const root = tree(['Dockerfile', 'a', ['.dockerignore', 'a\n']]);
    expect((await prepared(root, 'buildkit')).extras).toEqual([]);
    expect((await prepared(root, 'classic')).extras).toEqual([]);
  });

  it('are the build files .dockerignore excludes: for BuildKit only the Dockerfile, which the tar must carry', async () => {
    const root = tree(['Dockerfile', 'a', ['.dockerignore', 'Dockerfile\n.dockerignore\n']]);
    expect((await prepared(root, 'buildkit')).extras).toEqual(['Dockerfile']);
    expect((await prepared(root, 'classic')).extras).toEqual(['.dockerignore', 'Dockerfile']);
    // For BuildKit the excluded .dockerignore stays out of the tar; the Dockerfile is in it.
    expect(names((await pack(root, { reader: 'buildkit' })).entries)).toEqual(['Dockerfile', 'a']);
    expect(names((await pack(root, { reader: 'classic' })).entries)).toEqual(['.dockerignore', 'Dockerfile', 'a']);
  });

  it('include a Dockerfile in an excluded directory', async () => {
    const root = tree(['build/Dockerfile', 'src/a', ['.dockerignore', 'build\n']]);
    expect((await prepared(root, 'buildkit', path.join(root, 'build/Dockerfile'))).extras).toEqual(['build/Dockerfile']);
  });

  it('include the generated name of a Dockerfile outside the context (and, for the classic builder, the rewritten .dockerignore)', async () => {
    const outside = tree(['Dockerfile']);
    const root = tree(['a']);
    const buildkit = await prepared(root, 'buildkit', path.join(outside, 'Dockerfile'));
    expect(buildkit.extras).toEqual([buildkit.dockerfileName]);
    expect(buildkit.dockerfileName.startsWith(GENERATED_PREFIX)).toBe(true);
    const classic = await prepared(root, 'classic', path.join(outside, 'Dockerfile'));
    expect(classic.extras).toEqual([classic.dockerfileName, '.dockerignore'].sort());
  });

  it("leave out a file the caller replaces (the rack tarball's manifest), even when .dockerignore excludes it", async () => {
    const root = tree(['convox.yml', 'a', ['.dockerignore', 'convox.yml\n']]);
    const p = await prepareContext({
      contextDir: root,
      dockerfile: path.join(root, 'convox.yml'),
      reader: 'classic',
      replace: new Map([['convox.yml', Buffer.from('x')]]),
    });
    expect(p.extras).toEqual([]);
  });
});

describe('how entries are sent', () => {
  it('for BuildKit, keeps sub-second mtimes in PAX records, but not on the first entry (BuildKit sniffs 1024 bytes for a tar header)', async () => {
    const root = tree(['Dockerfile', 'a', 'b']);
    for (const f of ['.', 'Dockerfile', 'a', 'b']) utimesSync(path.join(root, f), 1700000000.25, 1700000000.25);
    const packed = await packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'buildkit' });
    const chunks: Buffer[] = [];
    for await (const c of packed.stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    // The first block is the first entry's own header (typeflag '0'), not a PAX header ('x').
    expect(bytes.subarray(0, 10).toString().replace(/\0.*/, '')).toBe('Dockerfile');
    expect(String.fromCharCode(bytes[156]!)).toBe('0');
    // Later entries carry the exact mtime.
    expect(bytes.toString('latin1').match(/mtime=1700000000\.25/g)).toHaveLength(2);
  });

  it('keeps symlinks as symlinks (not followed), modes, and gives everything to root', async () => {
    const root = tree([
      'Dockerfile',
      'bin/run',
      'dir/inner',
      'link-to-dir -> dir',
      'abs -> /etc/passwd',
      'dangling -> nowhere',
      ['empty', ''],
    ]);
    chmodSync(path.join(root, 'bin/run'), 0o755);
    chmodSync(path.join(root, 'dir'), 0o750);
    const { entries } = await pack(root);
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(names(entries)).toEqual([
      'Dockerfile',
      'abs',
      'bin/',
      'bin/run',
      'dangling',
      'dir/',
      'dir/inner',
      'empty',
      'link-to-dir',
    ]);
    expect(byName['link-to-dir']).toMatchObject({ type: 'symlink', linkname: 'dir', size: 0 });
    expect(byName['abs']).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' });
    expect(byName['bin/run']).toMatchObject({ type: 'file', mode: 0o755, content: Buffer.from('bin/run') });
    expect(byName['dir']).toMatchObject({ type: 'directory', mode: 0o750 });
    expect(byName['empty']).toMatchObject({ type: 'file', size: 0 });
    expect(entries.every((e) => e.uid === 0 && e.gid === 0)).toBe(true);
  });

  it('streams a large file whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const root = tree(['Dockerfile', ['big.bin', big]]);
    const { entries, stats } = await pack(root);
    expect(entries[1]?.content.equals(big)).toBe(true);
    // Header and padded contents per entry, then the two zero blocks that end a tar.
    expect(stats.bytes).toBe(512 + 512 + 512 + Math.ceil(big.length / 512) * 512 + 1024);
  });

  it('adds a Dockerfile from outside the context under a generated name, listed in .dockerignore as the CLI does', async () => {
    const root = tree(['app/a', ['app/.dockerignore', 'secret\n'], 'app/secret']);
    const outside = tree([['Dockerfile.prod', 'FROM scratch\n']]);
    const { entries, dockerfileName } = await pack(path.join(root, 'app'), { dockerfile: path.join(outside, 'Dockerfile.prod') });
    expect(dockerfileName).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/);
    expect(names(entries)).toEqual(['.dockerignore', 'a', dockerfileName]);
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(byName[dockerfileName]).toMatchObject({ mode: 0o600, content: Buffer.from('FROM scratch\n') });
    expect(byName['.dockerignore']?.content.toString()).toBe(`secret\n\n${dockerfileName}\n`);
  });

  it('replaces files (the rewritten manifest), adds missing ones, and sends them even when excluded', async () => {
    const root = tree(['Dockerfile', ['convox.yml', 'old'], ['.dockerignore', 'convox.yml\n']]);
    const replace = new Map([
      ['convox.yml', Buffer.from('new')],
      ['sub/added.txt', Buffer.from('added')],
    ]);
    const { entries } = await pack(root, { replace, gzip: true });
    expect(entries.map((e) => [e.name, e.content.toString()])).toEqual([
      ['.dockerignore', 'convox.yml\n'],
      ['Dockerfile', 'Dockerfile'],
      ['convox.yml', 'new'],
      ['sub/added.txt', 'added'],
    ]);
    expect(entries[2]?.mode).toBe(statSync(path.join(root, 'convox.yml')).mode & 0o777);
  });

  it('replaces a symlink of that name by a regular file, and refuses to replace a directory', async () => {
    const root = tree(['Dockerfile', 'real.yml', 'convox.yml -> real.yml', 'dir/x']);
    const { entries } = await pack(root, { replace: new Map([['convox.yml', Buffer.from('new')]]) });
    expect(entries.find((e) => e.name === 'convox.yml')).toMatchObject({
      type: 'file',
      mode: 0o644,
      content: Buffer.from('new'),
    });
    const bad = await packContext({
      contextDir: root,
      dockerfile: path.join(root, 'Dockerfile'),
      reader: 'classic',
      replace: new Map([['dir', Buffer.from('x')]]),
    });
    await expect(readTar(bad.stream)).rejects.toThrow("cannot replace the directory 'dir' with a file");
  });

  it('gzips on request: the bytes counted are the compressed ones', async () => {
    const root = tree(['Dockerfile', ['a', 'x'.repeat(100_000)]]);
    const { stats, entries } = await pack(root, { gzip: true });
    expect(entries.map((e) => e.name)).toEqual(['Dockerfile', 'a']);
    expect(stats.bytes).toBeLessThan(2_000);
  });
});

describe('failures', () => {
  it.each([
    [
      'a missing context',
      (root: string) => ({ contextDir: path.join(root, 'nope') }),
      /the build context directory '.*nope' does not exist/,
    ],
    [
      'a missing Dockerfile',
      (root: string) => ({ dockerfile: path.join(root, 'Dockerfile.nope') }),
      /the Dockerfile '.*Dockerfile.nope' does not exist/,
    ],
  ])('%s is an ActionError before any byte is sent', async (_name, opts, message) => {
    const root = tree(['Dockerfile']);
    const run = packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), ...opts(root), reader: 'classic' });
    await expect(run).rejects.toBeInstanceOf(ActionError);
    await expect(run).rejects.toThrow(message);
  });

  it('names the .dockerignore line of a pattern Docker rejects', async () => {
    const root = tree(['Dockerfile', ['.dockerignore', '# ok\nnode_modules\n\nsrc/[a-\n']]);
    const e = await packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'classic' }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).place).toMatchObject({ line: 4, phase: 'build' });
    expect((e as ActionError).message).toMatch(/\.dockerignore:4: invalid \.dockerignore pattern "src\/\[a-": the range/);
  });

  it('names a file that cannot be read', () => {
    const root = tree(['dir/']);
    const e = (() => {
      try {
        const abs = path.join(root, 'dir');
        return readContextFile({ path: 'dir', abs, kind: 'file', stats: lstatSync(abs, { bigint: true }), linkname: '' });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe("cannot read 'dir' in the build context (EISDIR)");
    expect((e as ActionError).fix).toMatch(/readable by the runner user, or add it to \.dockerignore/);
  });

  it('fails the stream and done with an ActionError naming an unreadable file', async () => {
    const root = tree(['Dockerfile', 'a', 'secret/key', 'z']);
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'secret/key'), 0o000);
    // Root reads everything: run the packing as an unprivileged user then.
    const outcome = process.getuid?.() === 0 ? await packAsNobody(root) : await packHere(root);
    expect(outcome).toEqual({
      stream: "cannot read 'secret/key' in the build context (EACCES)",
      done: "cannot read 'secret/key' in the build context (EACCES)",
      isActionError: true,
    });
  });

  it('stops on abort: the stream errors and done rejects', async () => {
    const root = tree(['Dockerfile', ...Array.from({ length: 200 }, (_, i) => `f/${i}`)]);
    const controller = new AbortController();
    const packed = await packContext({
      contextDir: root,
      dockerfile: path.join(root, 'Dockerfile'),
      signal: controller.signal,
      reader: 'classic',
    });
    controller.abort(new Error('job cancelled'));
    await expect(readTar(packed.stream)).rejects.toThrow('job cancelled');
    await expect(packed.done).rejects.toThrow('job cancelled');
  });

  it('holds back while nobody reads: memory does not grow with the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctx-big-'));
    roots.push(dir);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch');
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data/big.bin'), Buffer.alloc(64 * 1024 * 1024, 1));
    const before = process.memoryUsage().arrayBuffers;
    const packed = await packContext({ contextDir: dir, dockerfile: path.join(dir, 'Dockerfile'), reader: 'classic' });
    packed.stream.read(); // start, then read nothing more
    await new Promise((r) => setTimeout(r, 300));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    const entries = await readTar(packed.stream);
    expect(entries.map((e) => [e.name, e.size])).toEqual([
      ['Dockerfile', 12],
      ['data', 0],
      ['data/big.bin', 64 * 1024 * 1024],
    ]);
  });
});

async function packHere(root: string): Promise<{ stream: string; done: string; isActionError: boolean }> {
  const packed = await packContext({ contextDir: root, dockerfile: path.join(root, 'Dockerfile'), reader: 'classic' });
  const streamError = await readTar(packed.stream).then(
    () => 'no error',
    (e: Error) => e.message,
  );
  const doneError = await packed.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  return {
    stream: streamError,
    done: (doneError as Error | undefined)?.message ?? 'no error',
    isActionError: doneError instanceof ActionError,
  };
}

async function packAsNobody(root: string): Promise<unknown> {
  const code = `
    import { packContext } from ${JSON.stringify(path.resolve('src/context/pack.ts'))};
    import { ActionError } from ${JSON.stringify(path.resolve('src/errors.ts'))};
    const root = ${JSON.stringify(root)};
    const packed = await packContext({ contextDir: root, dockerfile: root + '/Dockerfile', reader: 'classic' });
    const stream = await new Promise((resolve) => { packed.stream.on('error', (e) => resolve(e.message)); packed.stream.on('end', () => resolve('no error')); packed.stream.resume(); });
    const e = await packed.done.then(() => undefined, (x) => x);
    console.log(JSON.stringify({ stream, done: e ? e.message : 'no error', isActionError: e instanceof ActionError }));
  `;
  return JSON.parse(await runProbe(code, { uid: 65534, gid: 65534 })) as unknown;
}
