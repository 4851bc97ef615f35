/**
 * The unified diff shown in dry runs, PR comments and the `manifest-diff` output.
 */
import { FILE_HEADERS_ONLY, createTwoFilesPatch } from 'diff';

/**
 * A git-style unified diff (`--- a/file`, `+++ b/file`, 3 lines of context), '' when equal.
 * A BOM is not shown, and CRLF line ends compare as lines (a trailing `\r` on every line would
 * only show up as `^M` noise in a PR comment); so does a lone `\r`, a line break to YAML, which
 * the diff would otherwise see as one long line. A missing final newline is marked as git does.
 */
export function unifiedDiff(file: string, before: Buffer, after: Buffer): string {
  if (before.equals(after)) return '';
  const decode = (bytes: Buffer): string => new TextDecoder('utf-8').decode(bytes).replace(/\r(?!\n)/g, '\n');
  const name = file.replace(/\\/g, '/');
  return createTwoFilesPatch(`a/${name}`, `b/${name}`, decode(before), decode(after), undefined, undefined, {
    context: 3,
    stripTrailingCr: true,
    headerOptions: FILE_HEADERS_ONLY,
  });
}
