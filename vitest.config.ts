import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // e2e tests share one daemon and registry; keep files in parallel but bounded for 2 cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
