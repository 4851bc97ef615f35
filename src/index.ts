/**
 * The bundle's entry (dist/index.cjs): what the runner starts, and the command line
 * (`node dist/index.cjs --image … --dry-run true`, flags as inputs).
 */
import * as core from '@actions/core';
import { describeError } from './errors.js';
import { flagsToInputs, USAGE } from './cli.js';
import { run } from './main.js';
import { realWorld, secrets } from './world.js';

async function main(): Promise<void> {
  const flags = flagsToInputs(process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (flags.errors.length) {
    process.stderr.write(`${flags.errors.join('\n')}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  Object.assign(process.env, flags.env);
  const world = realWorld();
  const code = await run(world.deps);
  if (world.outputs.length)
    process.stdout.write(
      `\nOutputs:\n${world.outputs.map(([k, v]) => `  ${k}: ${v.includes('\n') ? `\n    ${v.split('\n').join('\n    ')}` : v}`).join('\n')}\n`,
    );
  process.exitCode = code;
}

main().catch((e: unknown) => {
  // run() catches everything it knows about; this is the last line of defence.
  core.setFailed(secrets.redact(`convox-image-deploy crashed: ${describeError(e)}`));
  process.exitCode = 1;
});
