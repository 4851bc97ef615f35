import * as core from '@actions/core';
import { connectEngine } from './engine/engine.js';
import { ActionError, describeError } from './errors.js';
import { flagsToInputs, USAGE } from './cli.js';
import { annotationsFor } from './report/annotations.js';
import type { Log } from './log.js';
import { run } from './main.js';
import { Secrets } from './secrets.js';

const inActions = process.env.GITHUB_ACTIONS === 'true';

function coreLog(secrets: Secrets): Log {
  const r = (m: string): string => secrets.redact(m);
  const props = (p?: { file?: string; line?: number; column?: number; title?: string }): core.AnnotationProperties => ({
    ...(p?.file ? { file: p.file } : {}),
    ...(p?.line ? { startLine: p.line } : {}),
    ...(p?.column ? { startColumn: p.column } : {}),
    ...(p?.title ? { title: p.title } : {}),
  });
  return {
    info: (m) => core.info(r(m)),
    warning: (m, p) => core.warning(r(m), props(p)),
    error: (m, p) => core.error(r(m), props(p)),
    debug: (m) => core.debug(r(m)),
    group: (name, fn) => core.group(r(name), fn),
  };
}

/** Outside Actions, workflow commands (::group::) are noise: print plain lines instead. */
function plainLog(secrets: Secrets): Log {
  const r = (m: string): string => secrets.redact(m);
  const where = (p?: { file?: string; line?: number }): string => (p?.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '');
  return {
    info: (m) => process.stdout.write(`${r(m)}\n`),
    warning: (m, p) => process.stdout.write(`warning: ${where(p)}${r(m)}\n`),
    error: (m, p) => process.stdout.write(`error: ${where(p)}${r(m)}\n`),
    debug: (m) => {
      if (process.env.RUNNER_DEBUG === '1') process.stdout.write(`debug: ${r(m)}\n`);
    },
    group: async (name, fn) => {
      process.stdout.write(`\n== ${r(name)}\n`);
      return fn();
    },
  };
}

// Module-level so the last-resort handler below redacts with what main() registered.
const secrets = new Secrets((v) => core.setSecret(v));

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
  const log = inActions ? coreLog(secrets) : plainLog(secrets);
  const controller = new AbortController();
  let phase = 'start';
  const stop = (signal: string): void => {
    if (controller.signal.aborted) return;
    log.error(`Received ${signal}: stopping (phase: ${phase}).`);
    controller.abort(new ActionError(`cancelled by ${signal}`, { phase }));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const outputs: Array<[string, string]> = [];
  const code = await run({
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    log,
    secrets,
    docker: connectEngine,
    signal: controller.signal,
    onPhase: (p: string) => {
      phase = p;
    },
    setOutput: (name, value) => {
      const clean = secrets.redact(value);
      if (inActions || process.env.GITHUB_OUTPUT) core.setOutput(name, clean);
      else outputs.push([name, clean]);
    },
    writeSummary: async (markdown) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(secrets.redact(markdown)).write();
    },
    fail: (error) => {
      // One annotation per problem, placed at the file:line, or titled with the input at fault.
      for (const a of annotationsFor(error)) {
        const message = secrets.redact(a.message);
        if (inActions) core.error(message, a.properties);
        else
          process.stdout.write(
            `error: ${a.properties.file ? `${a.properties.file}${a.properties.startLine ? `:${a.properties.startLine}` : ''}: ` : ''}${message}\n`,
          );
      }
      process.exitCode = 1;
    },
  });
  if (outputs.length)
    process.stdout.write(
      `\nOutputs:\n${outputs.map(([k, v]) => `  ${k}: ${v.includes('\n') ? `\n    ${v.split('\n').join('\n    ')}` : v}`).join('\n')}\n`,
    );
  process.exitCode = code;
}

main().catch((e: unknown) => {
  // run() catches everything it knows about; this is the last line of defence.
  core.setFailed(secrets.redact(`convox-image-deploy crashed: ${describeError(e)}`));
  process.exitCode = 1;
});
