/**
 * Test helper: where docker 20.10's fsutil departs from current fsutil on the property test's
 * random cases, collected and reported as a table (reported, not asserted: the old CLI is not
 * what filter.ts follows, but the engine tests build with it, so its differences are worth seeing).
 */
import { GoMode, hasBit, markdownTable, printReport, type OracleEntry, type OracleWalk } from './fsutil-oracle.js';
import { resolveCase, treeText, type ContextCase } from './context-arbitraries.js';

export interface Departure {
  readonly tree: string;
  readonly lists: string;
  readonly kinds: readonly string[];
  readonly detail: string;
}

/** Records how docker 20.10's fsutil differs from current fsutil on one case (reported, not asserted). */
export function noteDeparture(into: Map<string, Departure>, c: ContextCase, want: OracleWalk, old: OracleWalk): void {
  const found: [kind: string, detail: string][] = [];
  const failure = (e: string) =>
    /^blocked/.test(e) ? 'blocks' : /invalid (include|exclude)patterns/.test(e) ? 'refuses a pattern' : 'fails';
  if (want.error !== undefined || old.error !== undefined) {
    if (want.error === undefined) found.push([`only 20.10 ${failure(old.error ?? '')}`, old.error ?? '']);
    else if (old.error === undefined) found.push([`only current ${failure(want.error)}`, want.error]);
  } else {
    const byPath = (w: OracleWalk) => new Map(w.entries.map((e) => [e.path, e]));
    const [cur, prev] = [byPath(want), byPath(old)];
    const onlyCur = [...cur.keys()].filter((p) => !prev.has(p));
    const onlyOld = [...prev.keys()].filter((p) => !cur.has(p));
    if (onlyCur.length) found.push(['only current sends some paths', onlyCur.join(', ')]);
    if (onlyOld.length) found.push(['only 20.10 sends some paths', onlyOld.join(', ')]);
    for (const [p, e] of cur) {
      const o = prev.get(p);
      for (const k of Object.keys(e) as (keyof OracleEntry)[])
        if (o && JSON.stringify(e[k], big) !== JSON.stringify(o[k], big))
          found.push([`${k} differs`, `${p}: ${k} ${JSON.stringify(e[k], big)} vs ${JSON.stringify(o[k], big)}`]);
    }
    if (found.length === 0 && JSON.stringify([...cur.keys()]) !== JSON.stringify([...prev.keys()]))
      found.push(['order differs', '']);
  }
  if (found.length === 0) return;
  const [tree, lists] = [treeText(c.tree), JSON.stringify(resolveCase(c))];
  into.set(`${tree} ${lists}`, {
    tree,
    lists,
    kinds: [...new Set(found.map(([k]) => k))],
    detail: found.map(([k, d]) => (d ? `${k}: ${d}` : k)).join('; '),
  });
}

/** What kinds of case the run met, so a report shows the property is not vacuous. */
export function countCase(seen: Record<string, number>, want: OracleWalk, all: OracleWalk): void {
  const bump = (k: string, yes = true) => yes && (seen[k] = (seen[k] ?? 0) + 1);
  bump('cases');
  if (want.error !== undefined) return void bump('fsutil fails');
  const n = want.entries.length;
  bump(n === 0 ? 'nothing sent' : n < all.entries.length ? 'part sent' : 'all sent');
  bump(
    'hard links sent',
    want.entries.some((e) => e.linkname !== '' && !hasBit(e.mode, GoMode.symlink)),
  );
  bump(
    'fifos sent',
    want.entries.some((e) => hasBit(e.mode, GoMode.namedPipe)),
  );
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

export function reportOldDepartures(departures: Map<string, Departure>, seen: Record<string, number>, seed: number): void {
  const rows = [...departures.values()];
  const kinds = new Map<string, number>();
  for (const r of rows) for (const k of r.kinds) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const summary = markdownTable(
    [...kinds].sort((a, b) => b[1] - a[1]).map(([departure, cases]) => ({ departure, cases: String(cases) })),
  );
  const size = (r: Departure) => r.tree.length + r.lists.length;
  const examples = [...kinds.keys()].flatMap((k) =>
    rows
      .filter((r) => r.kinds.includes(k))
      .sort((a, b) => size(a) - size(b))
      .slice(0, 2),
  );
  const shown = [...new Set(examples)].map((r) => ({ tree: r.tree, lists: r.lists, departure: r.detail }));
  const met = Object.entries(seen)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const title = `fsutil 0834f99b (docker 20.10 CLI) against current fsutil, seed ${seed} (${met}): ${rows.length} cases differ`;
  printReport(
    'fsutil-20.10-property.md',
    rows.length ? `${title}\n\n${summary}\n\nThe smallest cases of each:\n\n${markdownTable(shown)}` : title,
  );
}
