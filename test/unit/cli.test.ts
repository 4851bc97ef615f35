/**
 * Running the bundle as a command: flags become INPUT_* variables (src/cli.ts), and src/index.ts
 * applies them over the environment before run() reads the inputs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flagsToInputs, INPUTS, USAGE } from '../../src/cli.js';
import type { GitHubContext } from '../../src/config/github.js';
import { readInputs } from '../../src/config/inputs.js';
import { RawInputs } from '../../src/config/raw.js';
import type { Deps } from '../../src/main.js';
import { Secrets } from '../../src/secrets.js';

const root = path.resolve(import.meta.dirname, '../..');
const actionInputs = Object.keys(
  (load(readFileSync(path.join(root, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs,
);

const hint = '(inputs are given as --name value)';

describe('flagsToInputs', () => {
  it.each<[string, string[], Record<string, string>]>([
    ['nothing', [], {}],
    ['--name value pairs', ['--image', 'acme/shop', '--dry-run', 'true'], { INPUT_IMAGE: 'acme/shop', 'INPUT_DRY-RUN': 'true' }],
    [
      'dashes kept, name upper-cased',
      ['--registry-username', 'ci', '--registry-password', 's3cret'],
      { 'INPUT_REGISTRY-USERNAME': 'ci', 'INPUT_REGISTRY-PASSWORD': 's3cret' },
    ],
    ['--name=value', ['--image=acme/shop', '--timeout=10m'], { INPUT_IMAGE: 'acme/shop', INPUT_TIMEOUT: '10m' }],
    ['--name=value keeps later = signs', ['--build-args=A=1'], { 'INPUT_BUILD-ARGS': 'A=1' }],
    ['--name= is an empty value', ['--tags='], { INPUT_TAGS: '' }],
    ['an empty separate value is kept', ['--tags', ''], { INPUT_TAGS: '' }],
    [
      'a bare flag at the end is true',
      ['--image', 'acme/shop', '--dry-run'],
      { INPUT_IMAGE: 'acme/shop', 'INPUT_DRY-RUN': 'true' },
    ],
    [
      'a bare flag before another flag is true',
      ['--no-cache', '--image', 'acme/shop'],
      { 'INPUT_NO-CACHE': 'true', INPUT_IMAGE: 'acme/shop' },
    ],
    ['a value starting with a single dash is taken as the value', ['--tags', '-x'], { INPUT_TAGS: '-x' }],
    ['a value that looks like a flag needs =', ['--build-args=--opt=1'], { 'INPUT_BUILD-ARGS': '--opt=1' }],
    ['multi-line values survive (separate)', ['--tags', 'a\nb'], { INPUT_TAGS: 'a\nb' }],
    ['multi-line values survive (=)', ['--build-args=A=1\nB=2'], { 'INPUT_BUILD-ARGS': 'A=1\nB=2' }],
    ['spaces in a value are kept', ['--description', '  shipped by hand  '], { INPUT_DESCRIPTION: '  shipped by hand  ' }],
    ['the last of a repeated flag wins', ['--tags', 'a', '--tags', 'b'], { INPUT_TAGS: 'b' }],
  ])('%s', (_what, argv, env) => {
    expect(flagsToInputs(argv)).toEqual({ env, help: false, errors: [] });
  });

  it.each<[string, string[], string[], Record<string, string>]>([
    ['a positional argument', ['acme/shop'], [`unexpected argument 'acme/shop' ${hint}`], {}],
    [
      'a single-dash flag, and then its value',
      ['-i', 'acme/shop'],
      [`unexpected argument '-i' ${hint}`, `unexpected argument 'acme/shop' ${hint}`],
      {},
    ],
    [
      'upper case in a name',
      ['--Image', 'acme/shop'],
      [`unexpected argument '--Image' ${hint}`, `unexpected argument 'acme/shop' ${hint}`],
      {},
    ],
    [
      'an underscore in a name',
      ['--dry_run', 'true'],
      [`unexpected argument '--dry_run' ${hint}`, `unexpected argument 'true' ${hint}`],
      {},
    ],
    ['a bare --', ['--'], [`unexpected argument '--' ${hint}`], {}],
    ['three dashes', ['---image', 'x'], [`unexpected argument '---image' ${hint}`, `unexpected argument 'x' ${hint}`], {}],
    ['a name starting with a digit', ['--1x=y'], [`unexpected argument '--1x=y' ${hint}`], {}],
    [
      'a good flag amid bad ones is still read',
      ['oops', '--image', 'acme/shop', 'extra'],
      [`unexpected argument 'oops' ${hint}`, `unexpected argument 'extra' ${hint}`],
      { INPUT_IMAGE: 'acme/shop' },
    ],
    ['an empty argument', [''], [`unexpected argument '' ${hint}`], {}],
    // A misspelt input would be read by nothing: `--dryrun true` would push and deploy.
    [
      'a misspelt input, with the one meant',
      ['--dryrun', 'true', '--image', 'acme/shop'],
      ['unknown input --dryrun (did you mean --dry-run?); the inputs are those of action.yml'],
      { INPUT_IMAGE: 'acme/shop' },
    ],
    ['an unknown input, nothing near it', ['--x2', 'y'], ['unknown input --x2; the inputs are those of action.yml'], {}],
    [
      'a value input missing its value (not true, as a bare switch is)',
      ['--image', '--dry-run', 'false'],
      ['--image needs a value (--image <value>, or --image=<value> for a value that starts with --)'],
      { 'INPUT_DRY-RUN': 'false' },
    ],
    [
      'a value input at the very end',
      ['--tags'],
      ['--tags needs a value (--tags <value>, or --tags=<value> for a value that starts with --)'],
      {},
    ],
  ])('rejects %s', (_what, argv, errors, env) => {
    expect(flagsToInputs(argv)).toEqual({ env, help: false, errors });
  });

  it.each<[string[], Record<string, string>, string[]]>([
    [['--help'], {}, []],
    [['-h'], {}, []],
    [['--image', 'acme/shop', '--help'], { INPUT_IMAGE: 'acme/shop' }, []],
    [['--help', 'stray'], {}, [`unexpected argument 'stray' ${hint}`]],
  ])('%j asks for help', (argv, env, errors) => {
    expect(flagsToInputs(argv)).toEqual({ env, help: true, errors });
  });

  it('--help=x is not a request for help, and no input is named help', () => {
    expect(flagsToInputs(['--help=x'])).toEqual({
      env: {},
      help: false,
      errors: ['unknown input --help; the inputs are those of action.yml'],
    });
  });

  it('knows exactly the inputs of action.yml, and takes bare only those with a true/false/auto default', () => {
    const yml = (
      load(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
        inputs: Record<string, { default?: string; description?: string }>;
      }
    ).inputs;
    expect(Object.keys(INPUTS).sort()).toEqual(Object.keys(yml).sort());
    const switches = Object.entries(yml)
      // `auto` is a switch's third value (dry-run: auto/true/false), not rack-build's (auto/import/source).
      .filter(
        ([, v]) =>
          ['true', 'false'].includes(String(v.default)) || (v.default === 'auto' && /\btrue\b/.test(v.description ?? '')),
      )
      .map(([k]) => k)
      .sort();
    expect(
      Object.entries(INPUTS)
        .filter(([, k]) => k === 'switch')
        .map(([n]) => n)
        .sort(),
    ).toEqual(switches);
  });

  it('does not read or change process.env', () => {
    const before = { ...process.env };
    flagsToInputs(['--image', 'acme/shop']);
    expect(process.env).toEqual(before);
  });

  it.each(actionInputs)('--%s reaches the input of that name as the runner would pass it', (name) => {
    const { env, errors } = flagsToInputs([`--${name}`, 'v a l']);
    expect(errors).toEqual([]);
    expect(env).toEqual({ [`INPUT_${name.toUpperCase()}`]: 'v a l' });
    expect(new RawInputs(env).multiline(name)).toBe('v a l');
    expect(new RawInputs(env).get(name)).toBe('v a l');
  });
});

describe('flags as readInputs sees them', () => {
  const local: GitHubContext = {
    eventName: '',
    sha: 'a'.repeat(40),
    ref: '',
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    workspace: root,
    fromFork: false,
  };
  const read = (argv: string[]) =>
    readInputs(flagsToInputs(['--context', 'examples/app', ...argv]).env, local, new Date('2024-01-02T03:04:05Z'), new Secrets());

  it('a bare --dry-run makes a dry run', () => {
    const config = read(['--image', 'acme/shop', '--update', 'none', '--dry-run']);
    expect([config.dryRun, config.dryRunReason]).toEqual([true, 'dry-run: true']);
  });

  it('--dry-run=false is a real run', () => {
    expect(read(['--image', 'acme/shop', '--update', 'none', '--dry-run=false']).dryRun).toBe(false);
  });

  it('registry credentials given as flags are read', () => {
    const config = read(['--image', 'acme/shop', '--update', 'none', '--registry-username', 'ci', '--registry-password=s3cret']);
    expect(config.registry).toEqual({ username: 'ci', password: 's3cret' });
  });

  it('a misspelt --dryrun is ignored: a local run is then not a dry run', () => {
    const config = read(['--image', 'acme/shop', '--update', 'none', '--dryrun', 'true']);
    expect([config.dryRun, config.dryRunReason]).toEqual([false, 'no event (local run) event (dry-run: auto)']);
  });

  it('--image with its value forgotten is an error, not an image named "true"', () => {
    expect(flagsToInputs(['--image', '--update', 'none', '--dry-run']).errors).toEqual([
      '--image needs a value (--image <value>, or --image=<value> for a value that starts with --)',
    ]);
  });
});

// src/index.ts runs main() when imported; run() is replaced so nothing is built or deployed.
const run = vi.hoisted(() => vi.fn<(deps: Deps) => Promise<number>>());
vi.mock('../../src/main.js', () => ({ run }));

describe('src/index.ts as a command', () => {
  let savedEnv: NodeJS.ProcessEnv;
  let savedArgv: string[];
  let savedExitCode: typeof process.exitCode;
  let signalListeners: { SIGINT: number; SIGTERM: number };
  let stdout: string[];
  let stderr: string[];
  let seenEnv: Record<string, string | undefined> | undefined;

  beforeEach(() => {
    savedEnv = { ...process.env };
    savedArgv = process.argv;
    savedExitCode = process.exitCode;
    signalListeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_') || k.startsWith('GITHUB_')) delete process.env[k];
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    seenEnv = undefined;
    run.mockReset();
    run.mockImplementation(async (deps) => {
      seenEnv = Object.fromEntries(Object.entries(deps.env).filter(([k]) => k.startsWith('INPUT_')));
      return 3;
    });
    vi.resetModules();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    process.argv = savedArgv;
    process.exitCode = savedExitCode;
    // Remove the SIGINT/SIGTERM handlers index.ts installed.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const added = process.listeners(sig).slice(signalListeners[sig]);
      for (const l of added) process.removeListener(sig, l);
    }
  });

  async function runCommand(args: string[]): Promise<void> {
    process.argv = [process.execPath, 'dist/index.cjs', ...args];
    await import('../../src/index.js');
    // main() is not awaited by the import; let it finish.
    await new Promise((r) => setImmediate(r));
  }

  it("hands the flags to run() as INPUT_* variables and exits with run()'s code", async () => {
    await runCommand(['--image', 'acme/shop', '--dry-run', '--registry-username=ci']);
    expect(run).toHaveBeenCalledTimes(1);
    expect(seenEnv).toEqual({ INPUT_IMAGE: 'acme/shop', 'INPUT_DRY-RUN': 'true', 'INPUT_REGISTRY-USERNAME': 'ci' });
    expect(process.exitCode).toBe(3);
    expect(stderr).toEqual([]);
  });

  it('a flag overrides the INPUT_* variable of the same input; other INPUT_* variables still count', async () => {
    process.env.INPUT_IMAGE = 'from/env';
    process.env['INPUT_DRY-RUN'] = 'false';
    process.env.INPUT_APP = 'shop';
    await runCommand(['--image', 'from/flag', '--dry-run']);
    expect(seenEnv).toEqual({ INPUT_IMAGE: 'from/flag', 'INPUT_DRY-RUN': 'true', INPUT_APP: 'shop' });
  });

  it('INPUT_* variables alone work without any flag', async () => {
    process.env.INPUT_IMAGE = 'acme/shop';
    process.env['INPUT_REGISTRY-PASSWORD'] = 's3cret';
    await runCommand([]);
    expect(seenEnv).toEqual({ INPUT_IMAGE: 'acme/shop', 'INPUT_REGISTRY-PASSWORD': 's3cret' });
  });

  it('an empty --name= value overrides a variable with emptiness', async () => {
    process.env.INPUT_TAGS = 'latest';
    await runCommand(['--tags=']);
    expect(seenEnv).toEqual({ INPUT_TAGS: '' });
  });

  it.each([['--help'], ['-h']])('%s prints the usage and does not run', async (flag) => {
    await runCommand(['--image', 'acme/shop', flag]);
    expect(run).not.toHaveBeenCalled();
    expect(stdout.join('')).toBe(USAGE);
    expect(stderr).toEqual([]);
    expect(process.exitCode).toBe(savedExitCode);
    expect(process.env.INPUT_IMAGE).toBeUndefined();
  });

  it('--help wins over bad arguments', async () => {
    await runCommand(['stray', '--help']);
    expect(run).not.toHaveBeenCalled();
    expect(stdout.join('')).toBe(USAGE);
    expect(stderr).toEqual([]);
  });

  it('bad arguments: every problem, then the usage, on stderr; exit code 2; nothing run or set', async () => {
    await runCommand(['acme/shop', '--image', 'acme/shop', '-n']);
    expect(run).not.toHaveBeenCalled();
    expect(stderr.join('')).toBe(`unexpected argument 'acme/shop' ${hint}\nunexpected argument '-n' ${hint}\n\n${USAGE}`);
    expect(stdout).toEqual([]);
    expect(process.exitCode).toBe(2);
    expect(process.env.INPUT_IMAGE).toBeUndefined();
  });

  it('the usage names the flag form, the INPUT_* alternative and a runnable example', () => {
    expect(USAGE.split('\n')[0]).toBe('Usage: convox-image-deploy --image <repo> [--name value ...]');
    expect(USAGE).toContain('INPUT_* variables work too');
    expect(USAGE).toContain(
      'node dist/index.cjs --image example/app --context examples/app --manifest examples/app/convox.yml --dry-run true',
    );
    // The example is the flag form of the same inputs.
    expect(
      flagsToInputs([
        '--image',
        'example/app',
        '--context',
        'examples/app',
        '--manifest',
        'examples/app/convox.yml',
        '--dry-run',
        'true',
      ]),
    ).toEqual({
      env: {
        INPUT_IMAGE: 'example/app',
        INPUT_CONTEXT: 'examples/app',
        INPUT_MANIFEST: 'examples/app/convox.yml',
        'INPUT_DRY-RUN': 'true',
      },
      help: false,
      errors: [],
    });
  });
});
