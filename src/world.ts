/**
 * The real world the action runs in: the Docker engine, `@actions/core` for the log, outputs and
 * job summary (plain lines outside Actions), SIGINT/SIGTERM as cancellation. `run()` in main.ts
 * takes it by default, so GitHub's local runner (`npx @github/local-action run . src/main.ts .env`,
 * which calls a zero-argument `run()` with `@actions/core` stubbed) runs the real action; index.ts
 * (the bundle's entry) adds the command-line flags and prints the outputs outside Actions.
 */
import * as core from '@actions/core';
import { connectEngine } from './engine/engine.js';
import { ActionError } from './errors.js';
import type { Log } from './log.js';
import type { Deps } from './main.js';
import { annotationsFor } from './report/annotations.js';
import { Secrets } from './secrets.js';
import { definedFields } from './net/defined-fields.js';

function coreLog(secrets: Secrets): Log {
  const r = (m: string): string => secrets.redact(m);
  // @actions/core writes `::error ::…` (a space) for properties present but undefined.
  const props = (p?: { file?: string; line?: number; column?: number; title?: string }): core.AnnotationProperties =>
    definedFields({ file: p?.file, startLine: p?.line, startColumn: p?.column, title: p?.title });
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

/** One secret registry per process: the last-resort handler in index.ts redacts with it too. */
export const secrets = new Secrets((v) => core.setSecret(v));

export interface World {
  readonly deps: Deps;
  /** Outputs set outside Actions (no GITHUB_OUTPUT), to print at the end. */
  readonly outputs: ReadonlyArray<readonly [string, string]>;
}

/** The real dependencies, wired once per run. */
export function realWorld(env: NodeJS.ProcessEnv = process.env): World {
  const inActions = env.GITHUB_ACTIONS === 'true';
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
  const deps: Deps = {
    env,
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
      if (inActions || env.GITHUB_OUTPUT) core.setOutput(name, clean);
      else outputs.push([name, clean]);
    },
    writeSummary: async (markdown) => {
      if (!env.GITHUB_STEP_SUMMARY) return;
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
  };
  return { deps, outputs };
}
