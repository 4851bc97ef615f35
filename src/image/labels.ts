import type { GitHubContext } from '../config/github.js';

/**
 * The OCI annotation labels a pushed image should carry, so a person looking at a running
 * container can find the commit and run it came from. The user's `labels` input wins.
 */
export function ociLabels(github: GitHubContext, version: string, created: Date): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.created': created.toISOString(),
    'org.opencontainers.image.version': version,
  };
  if (github.sha) labels['org.opencontainers.image.revision'] = github.sha;
  if (github.repository) labels['org.opencontainers.image.source'] = `${github.serverUrl}/${github.repository}`;
  return labels;
}
