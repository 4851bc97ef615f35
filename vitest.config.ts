import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and end-to-end tests that need the real Docker engine,
// the real registry and the rack test server (started once by the e2e global setup).
export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/e2e-env.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // One engine and one registry for all files: run files one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
