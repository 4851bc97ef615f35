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
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else {
        value = next;
        i++;
      }
    }
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  return { env, help, errors };
}

export const USAGE = `Usage: convox-image-deploy --image <repo> [--name value ...]

Runs the action outside GitHub Actions. Every input in action.yml is a flag (--tags, --context,
--dry-run, --update, --manifest, --app, ...); INPUT_* variables work too. Secrets are best passed
as variables: INPUT_REGISTRY-PASSWORD is awkward in a shell, so CONVOX_PASSWORD and the Docker
config (docker login) are read as in Actions.

Example (a dry run of the bundled example app):
  node dist/index.cjs --image example/app --context examples/app --manifest examples/app/convox.yml --dry-run true
`;
