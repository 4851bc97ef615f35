/**
 * Lets the bundle run outside Actions, as a command: `node dist/index.cjs --image acme/shop
 * --dry-run true`. Flags become INPUT_* variables exactly as the runner would set them, so a
 * person can dry-run locally with the same inputs their workflow uses.
 */
export function flagsToInputs(argv: readonly string[]): { env: Record<string, string>; help: boolean; errors: string[] } {
  const env: Record<string, string> = {};
  const errors: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      errors.push(`unexpected argument '${arg}' (inputs are given as --name value)`);
      continue;
    }
    const name = m[1] ?? '';
    const kind = INPUTS[name];
    // A misspelt flag would be an input nothing reads: `--dryrun true` would then push and deploy.
    if (!kind) {
      const near = closest(name);
      errors.push(`unknown input --${name}${near ? ` (did you mean --${near}?)` : ''}; the inputs are those of action.yml`);
      if (m[2] === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else if (kind === 'switch') {
        value = 'true';
      } else {
        errors.push(`--${name} needs a value (--${name} <value>, or --${name}=<value> for a value that starts with --)`);
        continue;
      }
    }
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  return { env, help, errors };
}

/**
 * Every input of action.yml (test/unit/cli.test.ts keeps the two in step). A `switch` (a boolean,
 * or dry-run's auto/true/false) may be given bare to mean true; the others need a value.
 */
export const INPUTS: Readonly<Record<string, 'switch' | 'value'>> = {
  image: 'value',
  tags: 'value',
  'timestamp-format': 'value',
  context: 'value',
  file: 'value',
  'build-args': 'value',
  target: 'value',
  labels: 'value',
  'no-cache': 'switch',
  pull: 'switch',
  'cache-from': 'value',
  platform: 'value',
  network: 'value',
  build: 'switch',
  push: 'switch',
  'registry-username': 'value',
  'registry-password': 'value',
  'dry-run': 'switch',
  update: 'value',
  manifest: 'value',
  services: 'value',
  'env-var': 'value',
  'pin-digest': 'switch',
  app: 'value',
  rack: 'value',
  'rack-host': 'value',
  'rack-password': 'value',
  'rack-insecure-tls': 'switch',
  'rack-build': 'value',
  promote: 'switch',
  release: 'value',
  wait: 'switch',
  timeout: 'value',
  description: 'value',
  comment: 'switch',
  'github-token': 'value',
  environment: 'value',
  'environment-url': 'value',
};

/** The known input nearest to a misspelt one (at most two edits away), for the error. */
function closest(name: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const known of Object.keys(INPUTS)) {
    const d = editDistance(name, known);
    if (d <= 2 && (!best || d < best.d)) best = { name: known, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

export const USAGE = `Usage: convox-image-deploy --image <repo> [--name value ...]

Runs the action outside GitHub Actions. Every input in action.yml is a flag (--tags, --context,
--dry-run, --update, --manifest, --app, ...); INPUT_* variables work too. Secrets are best passed
as variables: INPUT_REGISTRY-PASSWORD is awkward in a shell, so CONVOX_PASSWORD and the Docker
config (docker login) are read as in Actions.

Example (a dry run of the bundled example app):
  node dist/index.cjs --image example/app --context examples/app --manifest examples/app/convox.yml --dry-run true
`;
