/**
 * A Console rack name the Console would not resolve (docs/rack-api.md §1). We send the `Rack`
 * header verbatim, as the v2 CLI does; the v3 CLI instead matches the name against Console
 * `GET /racks` (exact `org/rack`, else a single substring match, else "ambiguous rack name").
 * Only once the Console has refused the name do we list its racks the same way, to say which
 * ones were meant and that the full `org/rack` form is never ambiguous. Pure.
 */
import { RackError } from './rack-error.js';
import type { RackTarget } from './target.js';

/** Racks named in a message before the rest is summed up. */
const MAX_LISTED = 10;

/** True when a Console answer means the `Rack` header names no single rack. */
export function isRackNameRefusal(target: RackTarget, error: RackError): boolean {
  if (!target.rack || error.status < 400 || error.status >= 500) return false;
  // The real Console's wording is not public: the fake's, the v3 CLI's, and likely variants.
  return /ambiguous rack|rack not found|could not find rack|no such rack|unknown rack/i.test(error.rackMessage);
}

/** The full `org/rack` names in a Console `GET /racks` answer (`[{name, organization: {name}}]`). */
export function consoleRackNames(listing: unknown): string[] {
  if (!Array.isArray(listing)) return [];
  return listing.flatMap((item: unknown) => {
    const { name, organization } = (item ?? {}) as { name?: unknown; organization?: { name?: unknown } };
    if (typeof name !== 'string' || !name) return [];
    const org = organization?.name;
    return [typeof org === 'string' && org ? `${org}/${name}` : name];
  });
}

/** What listing the racks gave: their full names, or why there are none to show. */
export type RackListing = { names: readonly string[] } | { problem: string };

/** The error for a refused rack name, naming where the name came from and what to write instead. */
export function rackNameError(target: RackTarget, refusal: RackError, listing: RackListing): RackError {
  const wanted = target.rack ?? '';
  const ambiguous = /ambiguous/i.test(refusal.rackMessage);
  const head = `${rackOrigin(target)} "${wanted}" ${ambiguous ? 'is ambiguous' : 'names no rack'} on the Console ${new URL(target.baseUrl).host} (it answered: ${refusal.rackMessage})`;
  const { detail, example } = describeListing(listing, wanted, ambiguous);
  const fix = example
    ? `write the rack as org/rack, e.g. rack: ${example}`
    : 'write the rack as org/rack, as convox racks lists it, and check that the credential belongs to the organization owning that rack';
  return new RackError(`${head}; ${detail}`, fix, refusal.status, refusal.rackMessage, { phase: 'deploy', input: 'rack' });
}

function describeListing(listing: RackListing, wanted: string, ambiguous: boolean): { detail: string; example?: string } {
  if ('problem' in listing) return { detail: `the racks could not be listed (${listing.problem})` };
  // The v3 CLI's rule: a name matches every full name containing it.
  const like = listing.names.filter((n) => n.includes(wanted)).sort();
  if (like.length)
    return { detail: `${ambiguous ? 'it matches' : 'racks with a similar name'}: ${listed(like)}`, example: like[0] };
  if (!listing.names.length) return { detail: 'this credential sees no racks on it' };
  const all = [...listing.names].sort();
  return { detail: `the racks this credential can see: ${listed(all)}`, example: all[0] };
}

function listed(names: readonly string[]): string {
  const more = names.length - MAX_LISTED;
  return names.slice(0, MAX_LISTED).join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** Where the rack name came from: the input, or `CONVOX_RACK` when the input was empty. */
function rackOrigin(target: RackTarget): string {
  return /CONVOX_RACK/.test(target.source) ? 'the rack name from CONVOX_RACK' : 'the rack input';
}
