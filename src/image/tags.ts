/**
 * Tag templates (the `tags` input): `{{timestamp}}`, `{{sha}}`, `{{short_sha}}`, `{{branch}}`,
 * `{{run_number}}` and literals, rendered into Docker tags. Pure: the caller hands in the clock
 * reading and the git facts.
 */
import { ActionError } from '../errors.js';

/** The facts templates draw on. Take `now` once per run so every tag and retry agrees. */
export interface TemplateContext {
  readonly now: Date;
  /** The commit being built (on pull requests: the head commit, not the merge commit). */
  readonly sha: string;
  /** Unset on tag pushes and detached events. */
  readonly branch?: string | undefined;
  readonly runNumber?: string | undefined;
  /** `GITHUB_EVENT_NAME`, named in errors when a variable is unavailable. */
  readonly eventName?: string | undefined;
  /** `GITHUB_REF`, named in errors when a variable is unavailable (e.g. `refs/tags/v1`). */
  readonly ref?: string | undefined;
}

export const DEFAULT_TAGS = '{{timestamp}}';
export const DEFAULT_TIMESTAMP_FORMAT = '%Y%m%d%H%M%S';
export const TEMPLATE_VARIABLES = ['timestamp', 'sha', 'short_sha', 'branch', 'run_number'] as const;
type Variable = (typeof TEMPLATE_VARIABLES)[number];

const MAX_TAG_LENGTH = 128;
const VARIABLE_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const TAG_RULE =
  'tags may contain only letters, digits, "_", "." and "-", must not start with "." or "-", and are at most 128 characters';

/**
 * Splits the `tags` input on newlines and commas, trimming each and dropping blanks.
 * An input with no templates yields the default, `{{timestamp}}`. The first is the primary tag.
 */
export function parseTagTemplates(text: string): string[] {
  const templates = text
    .split(/[\n,]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return templates.length > 0 ? templates : [DEFAULT_TAGS];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function dayOfYear(date: Date): number {
  const start = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.floor((date.getTime() - start) / 86_400_000) + 1;
}

const STRFTIME: Readonly<Record<string, (d: Date) => string>> = {
  Y: (d) => String(d.getUTCFullYear()),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  y: (d) => pad(d.getUTCFullYear() % 100),
  j: (d) => pad(dayOfYear(d), 3),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  '%': () => '%',
};

function formatError(message: string): ActionError {
  return new ActionError(
    message,
    { input: 'timestamp-format' },
    `use the strftime codes ${Object.keys(STRFTIME)
      .map((c) => `%${c}`)
      .join(' ')}, e.g. the default ${DEFAULT_TIMESTAMP_FORMAT}`,
  );
}

/**
 * Formats `date` in UTC with the strftime subset people use for tags, as
 * `date -u +%Y%m%d%H%M%S` would. Throws an ActionError (input `timestamp-format`) on any other
 * `%` code.
 */
export function formatTimestamp(date: Date, format: string): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const code = format.charAt(++i);
    const render = STRFTIME[code];
    if (!render) {
      throw formatError(
        code === '' ? `"${format}" ends with a lone "%"` : `"%${code}" in "${format}" is not a supported timestamp code`,
      );
    }
    out += render(date);
  }
  return out;
}

/** The first character that makes `tag` illegal, with its 1-based position, or undefined. */
function illegalCharacter(tag: string): { char: string; position: number } | undefined {
  const chars = [...tag];
  for (const [i, char] of chars.entries()) {
    // JavaScript's \w is ASCII-only, as the tag grammar is.
    if (!(i === 0 ? /^\w$/ : /^[\w.-]$/).test(char)) return { char, position: i + 1 };
  }
  return undefined;
}

function tagsError(message: string, fix: string): ActionError {
  return new ActionError(message, { input: 'tags' }, fix);
}

/** Why `{{name}}` has no value in this run, or undefined when it has one. */
function unavailable(name: Variable, ctx: TemplateContext): string | undefined {
  const event = ctx.eventName ? `"${ctx.eventName}" event` : 'event';
  const ref = ctx.ref ? ` (ref ${ctx.ref})` : '';
  if ((name === 'sha' || name === 'short_sha') && !ctx.sha) return `no commit SHA is known for this ${event}${ref}`;
  if (name === 'branch' && !ctx.branch) return `this ${event}${ref} is not on a branch`;
  if (name === 'run_number' && !ctx.runNumber) return `GITHUB_RUN_NUMBER is not set for this ${event}`;
  return undefined;
}

/**
 * `{{branch}}` is sanitised as docker/metadata-action does: every run of characters other than
 * letters, digits, `.`, `_` and `-` becomes one `-` (`feature/login` → `feature-login`).
 */
export function sanitizeBranch(branch: string): string {
  return branch.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

function valueOf(name: Variable, ctx: TemplateContext, timestamp: () => string): string {
  switch (name) {
    case 'timestamp':
      return timestamp();
    case 'sha':
      return ctx.sha;
    case 'short_sha':
      return ctx.sha.slice(0, 7);
    case 'branch':
      return sanitizeBranch(ctx.branch ?? '');
    case 'run_number':
      return ctx.runNumber ?? '';
  }
}

function isVariable(name: string): name is Variable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

function renderOne(template: string, ctx: TemplateContext, timestamp: () => string): string {
  const known = TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ');
  const rendered = template.replace(VARIABLE_RE, (_match, raw: string) => {
    if (!isVariable(raw)) {
      throw tagsError(`unknown variable "{{${raw}}}" in tag template "${template}"`, `use one of ${known}, or a literal tag`);
    }
    const why = unavailable(raw, ctx);
    if (why) {
      throw tagsError(
        `{{${raw}}} in tag template "${template}" has no value: ${why}`,
        `remove "${template}" from 'tags' for this event, or run the workflow on a branch push`,
      );
    }
    return valueOf(raw, ctx, timestamp);
  });
  if (/\{\{|\}\}/.test(rendered)) {
    throw tagsError(`tag template "${template}" has an unmatched "{{" or "}}"`, `write variables as {{name}}, one of ${known}`);
  }
  return rendered;
}

function checkTag(tag: string, template: string): void {
  const from = tag === template ? '' : ` (from template "${template}")`;
  if (tag === '')
    throw tagsError(`tag template "${template}" renders to an empty tag`, 'add a literal part or use another variable');
  if (tag.length > MAX_TAG_LENGTH) {
    throw tagsError(
      `tag "${tag}"${from} is ${tag.length} characters long; the limit is ${MAX_TAG_LENGTH}`,
      'use {{short_sha}} instead of {{sha}}, or shorten the literal parts',
    );
  }
  const bad = illegalCharacter(tag);
  if (bad) {
    const where = bad.position === 1 ? 'as the first character' : `at position ${bad.position}`;
    throw tagsError(`tag "${tag}"${from} is not a valid Docker tag: "${bad.char}" is not allowed ${where}`, TAG_RULE);
  }
}

/** Checks the format once, and that what it renders can sit inside a tag. */
function timestampRenderer(now: Date, format: string): () => string {
  const value = formatTimestamp(now, format);
  if (value === '') throw formatError(`"${format}" renders an empty timestamp`);
  // Checked as if mid-tag: a leading "-" is only wrong when nothing precedes it, which checkTag sees.
  const bad = illegalCharacter(`x${value}`);
  if (bad) throw formatError(`"${format}" renders "${value}", and "${bad.char}" is not allowed in a Docker tag`);
  return () => value;
}

/**
 * Renders every template into a tag, in order (the first is the primary tag). Throws an
 * ActionError naming input `tags` (unknown or unavailable variable, empty, illegal or too long
 * tag, duplicates) or `timestamp-format` (unknown code, characters a tag cannot hold).
 */
export function renderTags(templates: readonly string[], ctx: TemplateContext, timestampFormat: string): string[] {
  const timestamp = timestampRenderer(ctx.now, timestampFormat);
  const seen = new Map<string, string>();
  return templates.map((template) => {
    const tag = renderOne(template, ctx, timestamp);
    checkTag(tag, template);
    const earlier = seen.get(tag);
    if (earlier !== undefined) {
      throw tagsError(
        `tag templates "${earlier}" and "${template}" both render to "${tag}"`,
        'remove one of them; each tag must be distinct',
      );
    }
    seen.set(tag, template);
    return tag;
  });
}
