/**
 * Turning a rack's error answer into something a person can act on. Pure.
 *
 * Bodies come in three shapes (docs/rack-api.md §1): JSON `{"error": …}` (v3 ≥ 3.24.1 when
 * asked for JSON, and legacy racks), plain text (everything else), or empty (unknown routes).
 * The status code is kept on the error because some callers branch on it (403 "app is currently
 * updating", a deploy key refused a read).
 */
import { ActionError } from '../errors.js';
import type { ErrorPlace } from '../errors.js';
import type { RackTarget } from './target.js';
import { rackLabel } from './target.js';

/** A rack answered with an error status. */
export class RackError extends ActionError {
  constructor(
    message: string,
    fix: string | undefined,
    readonly status: number,
    /** The rack's own words (already redacted), or '' for an empty body. */
    readonly rackMessage: string,
    place: ErrorPlace = { phase: 'deploy' },
  ) {
    super(message, place, fix);
  }
}

/** What the request was for, so messages name an operation and not just a path. */
export interface RequestLabel {
  method: string;
  path: string;
  /** e.g. `create the build`, `read app shop`. */
  what: string;
  app?: string;
}

/** The rack's error message from a body of any of the three shapes. */
export function rackErrorText(body: string, status: number): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string') return parsed.error.trim();
    } catch {
      // Not JSON after all; the text itself is the message.
    }
  }
  return text || `response status ${status}`;
}

/** True when the answer means "this credential is a deploy key and may not do that". */
export function isDeployKeyRefusal(status: number, message: string): boolean {
  return (status === 401 || status === 403) && /deploy key|not supported for|unauthorized to access/i.test(message);
}

/**
 * The error for a non-2xx answer. `redact` removes secrets from the rack's words first.
 */
export function rackError(
  status: number,
  body: string,
  label: RequestLabel,
  target: RackTarget,
  redact: (t: string) => string,
): RackError {
  const said = redact(rackErrorText(body, status));
  const where = rackLabel(target);
  const req = `${label.method} ${label.path}`;
  if (status === 401 && !isDeployKeyRefusal(status, said)) {
    return new RackError(
      `${where} rejected the credential from ${target.passwordSource} (${req}: ${said})`,
      credentialFix(target),
      status,
      said,
    );
  }
  if (status === 404 && body.trim() === '') {
    return new RackError(
      `${where} does not support ${label.what} (${req} answered 404 with no message; the route is missing on this rack version)`,
      'update the rack (convox rack update), or check that rack-host points at a Convox rack or Console',
      status,
      said,
    );
  }
  if (status === 404 && label.app && /app not found|no such app/i.test(said)) {
    return new RackError(
      `app not found: ${label.app} on ${where}`,
      `check the app input; create the app first with: convox apps create ${label.app}`,
      status,
      said,
    );
  }
  const fix =
    status >= 500
      ? `the rack itself failed; check its health (convox rack, convox apps info${label.app ? ` ${label.app}` : ''}) and re-run`
      : "the words are the rack's own: fix what they name, then re-run";
  return new RackError(`could not ${label.what} on ${where}: ${said} (${req} answered ${status})`, fix, status, said);
}

function credentialFix(target: RackTarget): string {
  if (target.source === 'RACK_URL') return 'update the password in RACK_URL (https://convox:<rack password>@<rack host>)';
  return target.rack
    ? `check ${target.passwordSource}: through a Console (rack ${target.rack}) it must be a Console deploy key or CLI token of the organization owning the rack`
    : `check ${target.passwordSource}: talking to the rack API directly needs the rack password (a Console deploy key works only with the rack input and the Console as rack-host)`;
}
