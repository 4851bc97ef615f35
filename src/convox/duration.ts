/**
 * Durations as people write them in workflow files. Pure.
 *
 * Grammar: Go's `time.ParseDuration` units (`ms`, `s`, `m`, `h`), combinable and with decimals
 * (`1h30m`, `1.5h`, `90s`), case-insensitive, spaces between parts allowed; a bare number is
 * seconds (`45` = 45 s), as Docker and Compose read bare timeouts. Anything else is rejected
 * naming the input, so a typo never turns into a surprising timeout.
 */
import { ActionError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|h|m|s)/gy;
/** GitHub's own ceiling for a self-hosted job is days, but a deploy timeout above a day is a typo. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * Milliseconds in `text` (see the module comment for the grammar).
 * @throws ActionError naming `input` for empty, malformed, zero or over-24h values.
 */
export function parseDuration(text: string, input: string): number {
  const trimmed = text.trim().toLowerCase();
  const fix = `write a duration such as 30m, 1h30m or 90s (a bare number is seconds)`;
  if (trimmed === '') throw new ActionError('is empty; it needs a duration', { input }, fix);
  const ms = /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : sumParts(trimmed);
  if (ms === undefined) throw new ActionError(`"${text}" is not a duration`, { input }, fix);
  if (ms <= 0) throw new ActionError(`"${text}" must be longer than zero`, { input }, fix);
  if (ms > MAX_DURATION_MS) {
    throw new ActionError(`"${text}" is longer than 24h`, { input }, 'use at most 24h; a deploy that needs longer is stuck');
  }
  return Math.round(ms);
}

function sumParts(text: string): number | undefined {
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (;;) {
    while (text[consumed] === ' ') consumed++;
    if (consumed === text.length) break;
    PART.lastIndex = consumed;
    const match = PART.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  return Number.isFinite(total) && consumed > 0 ? total : undefined;
}

/**
 * The `timeout` input's own syntax (`1h30m`, `45s`, `2m5s`) for messages; whole seconds (ms below
 * 1 s). The job summary's `1.2 s` is report/markdown.ts formatDuration.
 */
export function formatInputDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
