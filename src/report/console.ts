/**
 * Links into the Convox Console, for summaries.
 *
 * A best guess, kept conservative on purpose. The Console's web pages for a rack or an app sit
 * under organisation-scoped paths that Convox does not document, and the organisation's id is
 * not something this action knows, so a guessed deep link would too easily be a 404. We link to
 * the Console's home page, which always exists, and name the rack and app beside the link.
 * When the plan carries a real app URL (`DeployPlan.url`), that wins.
 *
 * Only hosts that look like a Console get a link: `console.convox.com`, or a self-hosted
 * Console whose host name starts with `console.`. A rack reached directly (its API host) has
 * no web pages at all, and only https is linked.
 */
import type { DeployPlan } from '../plan/types.js';

/** True for `console.convox.com` and `console.<domain>` hosts, with or without a scheme. */
export function isConsoleHost(host: string): boolean {
  return consoleHome(host) !== undefined;
}

/** `https://console.convox.com/` for a Console host (scheme optional); undefined otherwise. */
export function consoleHome(host: string): string | undefined {
  const text = host.trim();
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const name = url.hostname.toLowerCase();
  if (name !== 'console.convox.com' && !/^console\.[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(name)) return undefined;
  return `https://${name}${url.port ? `:${url.port}` : ''}/`;
}

/**
 * The link to show next to the rack and app: the plan's own app URL when it has one, else the
 * home page of `consoleHost` (given by the caller) or of the deploy host when that is a Console.
 */
export function consoleLink(deploy: DeployPlan | undefined, consoleHost?: string): string | undefined {
  if (!deploy) return undefined;
  if (deploy.url) return deploy.url;
  if (consoleHost) return consoleHome(consoleHost);
  return consoleHome(deploy.host);
}
