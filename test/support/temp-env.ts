/**
 * Runs before every test file of both projects: os.tmpdir() in this worker (and in the programs the
 * tests start, which inherit the environment) is the run's temp root that temp-root.ts made and
 * removes when the run ends.
 */
import { inject } from 'vitest';

process.env.TMPDIR = inject('tempRoot');
