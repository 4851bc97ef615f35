import { ActionError } from '../../src/errors.js';

/** The ActionError `fn` throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): ActionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('expected an ActionError, but nothing was thrown');
}
