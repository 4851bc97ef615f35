import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTagTemplates, renderTags, sanitizeBranch, type TemplateContext } from '../../../src/image/tags.js';
import { thrown } from '../../support/thrown.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const NOW = new Date('2026-11-22T20:55:00.123Z');
const CTX: TemplateContext = { now: NOW, sha: SHA, branch: 'main', runNumber: '42', eventName: 'push', ref: 'refs/heads/main' };

describe('parseTagTemplates', () => {
  it.each([
    ['', ['{{timestamp}}']],
    ['  \n , \n', ['{{timestamp}}']],
    ['{{sha}}', ['{{sha}}']],
    ['{{timestamp}}, latest', ['{{timestamp}}', 'latest']],
    ['{{ sha }}\nv3.0.2\r\n\nlatest\n', ['{{ sha }}', 'v3.0.2', 'latest']],
    ['a,b\nc', ['a', 'b', 'c']],
  ])('%j', (text, templates) => {
    expect(parseTagTemplates(text)).toEqual(templates);
  });
});

describe('formatTimestamp (UTC, like date -u)', () => {
  it.each([
    ['%Y%m%d%H%M%S', '20261122205500'],
    ['%y%m%d', '261122'],
    ['%Y.%j', '2026.326'],
    ['%s', String(Math.floor(NOW.getTime() / 1000))],
    ['100%%', '100%'],
    ['v%Y', 'v2026'],
    ['', ''],
  ])('%j → %s', (format, expected) => {
    expect(formatTimestamp(NOW, format)).toBe(expected);
  });

  it.each([
    [new Date('2026-01-01T00:00:00Z'), '%j %H%M%S', '001 000000'],
    [new Date('2024-12-31T23:59:59Z'), '%j %y', '366 24'],
    [new Date('2009-03-04T05:06:07Z'), '%Y%m%d%H%M%S', '20090304050607'],
  ])('%s with %j', (date, format, expected) => {
    expect(formatTimestamp(date, format)).toBe(expected);
  });

  it.each([
    ['%Y%F', '"%F" in "%Y%F" is not a supported timestamp code'],
    ['%Y%', '"%Y%" ends with a lone "%"'],
  ])('rejects %j', (format, message) => {
    const e = thrown(() => formatTimestamp(NOW, format));
    expect(e.message).toBe(message);
    expect(e.place.input).toBe('timestamp-format');
    expect(e.fix).toContain('%Y %m %d %H %M %S %y %j %s %%');
  });
});

describe('sanitizeBranch (as docker/metadata-action)', () => {
  it.each([
    ['main', 'main'],
    ['feature/login', 'feature-login'],
    ['dependabot/npm_and_yarn/@types/node-24', 'dependabot-npm_and_yarn-types-node-24'],
    ['fix//a b', 'fix-a-b'],
    ['Ünïcode', '-n-code'],
  ])('%s → %s', (branch, tag) => {
    expect(sanitizeBranch(branch)).toBe(tag);
  });
});

describe('renderTags', () => {
  it.each([
    [['{{timestamp}}'], '%Y%m%d%H%M%S', ['20261122205500']],
    [['{{timestamp}}', 'latest'], '%Y%m%d%H%M%S', ['20261122205500', 'latest']],
    [['{{sha}}', '{{short_sha}}'], '%Y', [SHA, '0123456']],
    [['{{ sha }}', '{{  short_sha}}'], '%Y', [SHA, '0123456']],
    [['{{branch}}-{{run_number}}'], '%Y', ['main-42']],
    [['v3.0.2'], '%Y', ['v3.0.2']],
    [['{{timestamp}}-{{short_sha}}'], '%Y%m%d', ['20261122-0123456']],
    [['build-{{timestamp}}'], '%Y-%m-%d.%H', ['build-2026-11-22.20']],
  ])('%j with %j', (templates, format, tags) => {
    expect(renderTags(templates, CTX, format)).toEqual(tags);
  });

  it('renders the branch sanitised', () => {
    expect(renderTags(['{{branch}}'], { ...CTX, branch: 'feature/login' }, '%Y')).toEqual(['feature-login']);
  });

  it('uses one instant for every tag', () => {
    expect(renderTags(['a{{timestamp}}', 'b{{timestamp}}'], CTX, '%s')).toEqual(['a1795380900', 'b1795380900']);
  });

  it.each([
    [
      ['{{version}}'],
      CTX,
      'unknown variable "{{version}}" in tag template "{{version}}"',
      'use one of {{timestamp}}, {{sha}}, {{short_sha}}, {{branch}}, {{run_number}}, or a literal tag',
    ],
    [['{{SHA}}'], CTX, 'unknown variable "{{SHA}}"', '{{sha}}'],
    [['{{}}'], CTX, 'unknown variable "{{}}"', '{{timestamp}}'],
    [['{{sha}'], CTX, 'tag template "{{sha}" has an unmatched "{{" or "}}"', 'write variables as {{name}}'],
    [
      ['v{{branch}}'],
      { ...CTX, branch: undefined, ref: 'refs/tags/v1.2.0' },
      '{{branch}} in tag template "v{{branch}}" has no value: this "push" event (ref refs/tags/v1.2.0) is not on a branch',
      'remove "v{{branch}}"',
    ],
    [
      ['{{branch}}'],
      { ...CTX, branch: undefined, eventName: 'schedule', ref: undefined },
      'has no value: this "schedule" event is not on a branch',
      'remove',
    ],
    [
      ['{{run_number}}'],
      { ...CTX, runNumber: undefined },
      'has no value: GITHUB_RUN_NUMBER is not set for this "push" event',
      'remove',
    ],
    [['{{short_sha}}'], { ...CTX, sha: '' }, 'has no value: no commit SHA is known', 'remove'],
    [
      ['feature/x'],
      CTX,
      'tag "feature/x" is not a valid Docker tag: "/" is not allowed at position 8',
      'tags may contain only letters',
    ],
    [
      ['-{{short_sha}}'],
      CTX,
      'tag "-0123456" (from template "-{{short_sha}}") is not a valid Docker tag: "-" is not allowed as the first character',
      'must not start with "." or "-"',
    ],
    [
      ['{{branch}}'],
      { ...CTX, branch: '.hidden' },
      'tag ".hidden" (from template "{{branch}}") is not a valid Docker tag: "." is not allowed as the first character',
      'must not start',
    ],
    [['x'.repeat(129)], CTX, 'is 129 characters long; the limit is 128', 'shorten'],
    [
      ['{{sha}}{{sha}}{{sha}}{{sha}}'],
      CTX,
      'tag "' + SHA.repeat(4) + '" (from template "{{sha}}{{sha}}{{sha}}{{sha}}") is 160 characters long',
      '{{short_sha}}',
    ],
    [
      ['latest', '{{timestamp}}', 'latest'],
      CTX,
      'tag templates "latest" and "latest" both render to "latest"',
      'remove one of them',
    ],
    [['{{short_sha}}', '0123456'], CTX, 'tag templates "{{short_sha}}" and "0123456" both render to "0123456"', 'remove one'],
  ])('%j rejects with input tags', (templates, ctx, message, fix) => {
    const e = thrown(() => renderTags(templates, ctx, '%Y%m%d%H%M%S'));
    expect(e.place.input).toBe('tags');
    expect(e.message).toContain(message);
    expect(e.fix).toContain(fix);
  });

  it('rejects a template that renders empty', () => {
    // parseTagTemplates drops blanks, but renderTags is also called with templates from config.
    const e = thrown(() => renderTags([''], CTX, '%Y'));
    expect(e.message).toBe('tag template "" renders to an empty tag');
    expect(e.place.input).toBe('tags');
  });

  it.each([
    ['%Y-%m-%d %H:%M', '"%Y-%m-%d %H:%M" renders "2026-11-22 20:55", and " " is not allowed in a Docker tag'],
    ['%Y/%m', '"%Y/%m" renders "2026/11", and "/" is not allowed in a Docker tag'],
    ['', '"" renders an empty timestamp'],
    ['%Q', '"%Q" in "%Q" is not a supported timestamp code'],
  ])('rejects timestamp-format %j', (format, message) => {
    const e = thrown(() => renderTags(['{{timestamp}}'], CTX, format));
    expect(e.place.input).toBe('timestamp-format');
    expect(e.message).toBe(message);
  });

  it('describes the error for a person', () => {
    const e = thrown(() => renderTags(['{{bogus}}'], CTX, '%Y'));
    expect(e.describe()).toBe(
      'input \'tags\': unknown variable "{{bogus}}" in tag template "{{bogus}}"\n' +
        '  Fix: use one of {{timestamp}}, {{sha}}, {{short_sha}}, {{branch}}, {{run_number}}, or a literal tag',
    );
  });
});
