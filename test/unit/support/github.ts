/** The GitHub context of a push to main in this repository, for unit tests that read inputs. */
import path from 'node:path';
import type { GitHubContext } from '../../../src/config/github.js';

/** The repository root: examples/app is the context the tests' inputs name. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export function pushContext(over: Partial<GitHubContext> = {}): GitHubContext {
  return {
    eventName: 'push',
    sha: 'feedc0de00112233445566778899aabbccddeeff',
    ref: 'refs/heads/main',
    branch: 'main',
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    workspace: REPO_ROOT,
    fromFork: false,
    ...over,
  };
}
