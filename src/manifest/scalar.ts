/**
 * Writing a string back in the quoting style the person chose. The result replaces the text
 * between the quotes (or the plain text), so the quotes themselves are never touched.
 */
import type { ScalarNode } from './yaml-tree.js';

/** The source text for `value` in the style of `node`, or an Error saying why it cannot be. */
export function renderScalar(value: string, node: ScalarNode): string | Error {
  switch (node.style) {
    case 'single':
      return /[\n\r]/.test(value) ? new Error('a line break cannot be written on one line') : value.replace(/'/g, "''");
    case 'double':
      return escapeDouble(value);
    case 'plain':
      return plainProblem(value, node.inFlow) ?? value;
    default:
      return new Error(`it is a ${node.style} block scalar; write the image on one line, e.g. "image: repo:tag"`);
  }
}

/** Why `value` cannot be written unquoted (the YAML 1.2 plain-scalar rules), or undefined. */
export function plainProblem(value: string, inFlow: boolean): Error | undefined {
  const fail = (why: string): Error =>
    new Error(`"${value}" cannot be written unquoted: ${why}; quote the image in the manifest`);
  if (value === '') return fail('it is empty');
  if (/^[-?:,[\]{}#&*!|>'"%@`\s]/.test(value) && !/^[-?:][^\s,[\]{}]/.test(value)) return fail('it starts with an indicator');
  if (/\s$/.test(value)) return fail('it ends with a space');
  if (/[\n\r\t]/.test(value)) return fail('it contains a line break or tab');
  if (/:\s|\s#/.test(value)) return fail('it contains ": " or " #"');
  if (inFlow && /[,[\]{}]/.test(value)) return fail('it contains , [ ] { } inside a flow mapping');
  if (inFlow && /:$/.test(value)) return fail('it ends with ":" inside a flow mapping');
  if (/:$/.test(value)) return fail('it ends with ":"');
  return undefined;
}

function escapeDouble(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code === 0x2028 || code === 0x2029 || code === 0xfeff) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return out;
}
