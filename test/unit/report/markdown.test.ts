import { describe, expect, it } from 'vitest';
import { consoleHome, consoleLink } from '../../../src/report/console.js';
import { clipLines, code, escapeText, fenced, formatDuration, link } from '../../../src/report/markdown.js';

describe('escapeText', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['a & b', 'a &amp; b'],
    ['*bold* _it_ `code` [x](y) | ~~s~~', '\\*bold\\* \\_it\\_ \\`code\\` \\[x\\](y) \\| \\~\\~s\\~\\~'],
    ['# heading', '\\# heading'],
    ['- item', '\\- item'],
    ['1. first', '1\\. first'],
    ['two\nlines', 'two lines'],
    ['ping @octocat, mail a@b.c', 'ping @\u200boctocat, mail a@\u200bb.c'],
    ['\x1b[31mred\x1b[0m', 'red'],
  ])('%j → %j', (input, output) => {
    expect(escapeText(input)).toBe(output);
  });
});

describe('code', () => {
  it.each([
    ['repo:tag', '`repo:tag`'],
    ['a`b', '``a`b``'],
    ['`edge`', '`` `edge` ``'],
    ['a``b', '```a``b```'],
    ['', '*(empty)*'],
  ])('%j → %j', (input, output) => {
    expect(code(input)).toBe(output);
  });

  it('escapes pipes inside tables', () => {
    expect(code('a|b', { inTable: true })).toBe('`a\\|b`');
  });
});

describe('fenced', () => {
  it('uses a fence longer than any backtick run inside', () => {
    expect(fenced('x\n````\ny', 'text')).toBe('`````text\nx\n````\ny\n`````');
    expect(fenced('plain\n', 'diff')).toBe('```diff\nplain\n```');
  });

  it('drops terminal escapes and carriage returns', () => {
    expect(fenced('\x1b[1;32mok\x1b[0m\r\nnext\rline')).toBe('```\nok\nnext\nline\n```');
  });
});

describe('link', () => {
  it('links http(s) only, never with credentials', () => {
    expect(link('run', 'https://github.com/a/b/actions/runs/1')).toBe('[run](https://github.com/a/b/actions/runs/1)');
    expect(link('x', 'https://e.com/a(b)')).toBe('[x](https://e.com/a%28b%29)');
    expect(link('x', 'javascript:alert(1)')).toBe('x');
    expect(link('x', 'https://user:pass@e.com/')).toBe('x');
    expect(link('x', undefined)).toBe('x');
  });
});

describe('clipLines', () => {
  it('keeps whole lines from the head or the tail', () => {
    expect(clipLines('aaa\nbbb\nccc', 8, 'head')).toEqual({ text: 'aaa\nbbb', omitted: 1 });
    expect(clipLines('aaa\nbbb\nccc', 8, 'tail')).toEqual({ text: 'bbb\nccc', omitted: 1 });
    expect(clipLines('short', 100, 'tail')).toEqual({ text: 'short', omitted: 0 });
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [12_340, '12.3 s'],
    [125_000, '2 min 05 s'],
    [600_000, '10 min'],
    [3_720_000, '1 h 02 min'],
    [7_200_000, '2 h'],
    [-1, 'unknown'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('Console links (best guess: the Console home page)', () => {
  it.each([
    ['console.convox.com', 'https://console.convox.com/'],
    ['https://console.convox.com', 'https://console.convox.com/'],
    ['console.acme.io:8443', 'https://console.acme.io:8443/'],
    ['http://console.convox.com', undefined],
    ['api.rack.example.com', undefined],
    ['127.0.0.1:5443', undefined],
    ['', undefined],
  ])('%j → %s', (host, url) => {
    expect(consoleHome(host)).toBe(url);
  });

  it("prefers the plan's own app URL", () => {
    const deploy = {
      app: 'shop',
      host: 'console.convox.com',
      route: { route: 'source', why: 'rack-build: source' } as const,
      promote: true,
      wait: true,
      timeoutMs: 1,
      url: 'https://console.convox.com/x',
    };
    expect(consoleLink(deploy)).toBe('https://console.convox.com/x');
    expect(consoleLink({ ...deploy, url: undefined }, 'console.acme.io')).toBe('https://console.acme.io/');
    expect(consoleLink(undefined)).toBeUndefined();
  });
});
