/**
 * Markdown building blocks that stay safe whatever the text holds. Image names, YAML lines,
 * error messages and rack logs come from users and remote systems: without escaping, a `|`,
 * a stray backtick run or an `<img>` in a log line would break the layout of the summary or
 * the PR comment, and an `@name` would notify a stranger from a PR comment.
 */

// ANSI colour/cursor sequences from rack logs, then every other C0/C1 control but tab and newline.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// Inline markup; `(` only matters after `]`, which is escaped, so brackets suffice for links.
const MARKDOWN_PUNCTUATION = /[\\`*_[\]|~]/g;
// Block markup only matters at the start of a line: headings, list items, ordered lists.
const BLOCK_START = /^(#|[-+]|\d+(?=[.)]))/;
const ZERO_WIDTH_SPACE = '\u200b';

/** Removes terminal escapes and control characters; `\r\n` and lone `\r` become `\n`. */
export function stripControl(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(ANSI, '').replace(CONTROL, '');
}

/**
 * Text shown as prose, on one line: HTML is neutralised, Markdown punctuation is
 * backslash-escaped, and `@name` gets a zero-width space so GitHub does not turn it into a
 * mention (mentions in a PR comment notify people; code spans are exempt, prose is not).
 */
export function escapeText(text: string): string {
  return stripControl(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`)
    .replace(BLOCK_START, (m) => (/^\d/.test(m) ? `${m}\\` : `\\${m}`))
    .replace(/@(?=[A-Za-z0-9])/g, `@${ZERO_WIDTH_SPACE}`);
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

/**
 * An inline code span that holds any text: its backtick fence is longer than any run inside,
 * and it is padded when the text starts or ends with a backtick (CommonMark strips one space).
 * Pipes are escaped because GitHub tables split cells on `|` even inside code spans.
 */
export function code(text: string, opts: { inTable?: boolean } = {}): string {
  let body = stripControl(text).replace(/\n/g, ' ');
  if (body.trim() === '') return '*(empty)*';
  if (opts.inTable) body = body.replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(body, '`') + 1);
  const pad = body.startsWith('`') || body.endsWith('`') || (body.startsWith(' ') && body.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced code block whose fence is longer than any backtick run in the text, so a log line
 * or a YAML comment holding ``` cannot close it early.
 */
export function fenced(text: string, lang = ''): string {
  const body = stripControl(text).replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  const info = lang.replace(/[^A-Za-z0-9_+-]/g, '');
  return `${fence}${info}\n${body}\n${fence}`;
}

/** `[text](url)` for http(s) URLs; anything else (or an unparsable URL) renders as text only. */
export function link(text: string, url: string | undefined): string {
  const label = escapeText(text);
  if (!url) return label;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return label;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return label;
  // Userinfo in a link would print a credential; such a link is never what we mean to show.
  if (parsed.username || parsed.password) return label;
  const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');
  return `[${label}](${href})`;
}

/**
 * At most `maxChars` of whole lines: from the start (diffs read top down) or from the end
 * (log tails matter most at the bottom). `omitted` counts the lines left out.
 */
export function clipLines(text: string, maxChars: number, keep: 'head' | 'tail'): { text: string; omitted: number } {
  if (text.length <= maxChars) return { text, omitted: 0 };
  const lines = text.split('\n');
  const ordered = keep === 'head' ? lines : [...lines].reverse();
  const kept: string[] = [];
  let size = 0;
  for (const line of ordered) {
    if (size + line.length + 1 > maxChars) break;
    kept.push(line);
    size += line.length + 1;
  }
  const text2 = (keep === 'head' ? kept : kept.reverse()).join('\n');
  return { text: text2, omitted: lines.length - kept.length };
}

/** `850 ms`, `12.3 s`, `2 min 05 s`, `10 min`, `1 h 02 min`: precise when short, readable when long. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return seconds ? `${minutes} min ${String(seconds).padStart(2, '0')} s` : `${minutes} min`;
  const rest = minutes % 60;
  return rest ? `${Math.floor(minutes / 60)} h ${String(rest).padStart(2, '0')} min` : `${Math.floor(minutes / 60)} h`;
}

/** The first line of a message, clipped, for one-line verdicts and titles. */
export function firstLine(text: string, max = 200): string {
  const line =
    stripControl(text)
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
