/**
 * Vitest global setup for the e2e project: builds the bundle the tests run (so they never test a
 * stale dist/), starts the real engine and registry once (or reuses ones named by CID_DOCKER_HOST /
 * CID_REGISTRY, e.g. while developing) and hands their coordinates to the test files.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  engineKind,
  registryKind,
  startServices,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  BASE_IMAGE,
  type Services,
} from './services.js';
import { reliabilityTable, resetFigures } from './figures-table.js';

/** Prints the reliability figures the suites recorded (faults, bad inputs, secret scans). */
function printFigures(): void {
  const table = reliabilityTable();
  if (table) console.log(`\nReliability (also in .tmp/reliability.md, for docs/reliability.md):\n${table}\n`);
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** What startServices started, without its directory and its stop(). */
    services: Omit<Services, 'root' | 'stop'>;
  }
}

/** `npm run build`: the e2e tests run dist/index.cjs as the runner does, so it must be what src/ builds. */
function buildBundle(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  resetFigures();
  buildBundle();
  if (process.env.CID_DOCKER_HOST && process.env.CID_REGISTRY) {
    project.provide('services', {
      dockerHost: process.env.CID_DOCKER_HOST,
      registry: process.env.CID_REGISTRY,
      registryUser: process.env.CID_REGISTRY_USER ?? REGISTRY_USER,
      registryPassword: process.env.CID_REGISTRY_PASSWORD ?? REGISTRY_PASSWORD,
      baseImage: BASE_IMAGE,
      engine: engineKind(),
      registryKind: registryKind(),
    });
    return async () => printFigures();
  }
  const services = await startServices();
  const { stop, root: _root, ...coords } = services;
  project.provide('services', coords);
  return async () => {
    printFigures();
    await stop();
  };
}
