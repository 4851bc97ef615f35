import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// @actions/workflow-parser imports its JSON schemas without an import attribute, which Node
// refuses, so the unit project lets Vite load it (server.deps.inline). Its files point at source
// maps of sources the package does not ship: load them without that comment, or Vite warns once
// per file.
const workflowParserWithoutSourceMaps: Plugin = {
  name: 'workflow-parser-without-source-maps',
  load(id) {
    if (!/\/@actions\/workflow-parser\/dist\/.*\.js$/.test(id)) return undefined;
    return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

// Two projects: fast pure unit tests, and end-to-end tests that need the real Docker engine,
// the real registry and the rack test server (started once by the e2e global setup).
export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        plugins: [workflowParserWithoutSourceMaps],
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globalSetup: ['test/support/temp-root.ts'],
          setupFiles: ['test/support/temp-env.ts'],
          testTimeout: 30_000,
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // temp-root first: its teardown runs last, after the engine and registry have stopped.
          globalSetup: ['test/support/temp-root.ts', 'test/support/global-setup.ts'],
          setupFiles: ['test/support/temp-env.ts', 'test/support/e2e-env.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // One engine and one registry for all files: run files one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
