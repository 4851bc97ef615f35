import { describe, expect, it } from 'vitest';
import { formatInputDuration, parseDuration } from '../../../src/convox/duration.js';
import { redactUserinfo, resolveRackTarget } from '../../../src/convox/target.js';
import type { RackInputs } from '../../../src/convox/target.js';
import { thrown } from '../../support/thrown.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['90s', 90_000],
    ['45', 45_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    [' 2M ', 120_000],
    ['24h', 86_400_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, 'timeout')).toBe(ms);
  });

  it.each(['', '  ', 'soon', '30x', '-5m', '0', '0s', 'm30', '1h30', '25h', '30 minutes', '1e3'])(
    'rejects %j naming the input',
    (text) => {
      const e = thrown(() => parseDuration(text, 'timeout'));
      expect(e.place.input).toBe('timeout');
      expect(e.fix).toBeTruthy();
    },
  );

  it.each([
    [500, '500ms'],
    [45_000, '45s'],
    [1_800_000, '30m'],
    [5_430_000, '1h30m30s'],
    [0, '0ms'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatInputDuration(ms)).toBe(text);
  });
});

const inputs = (over: Partial<RackInputs> = {}): RackInputs => ({ insecureTls: false, ...over });

describe('resolveRackTarget', () => {
  it('console mode: rack named, default host, deploy key', () => {
    const t = resolveRackTarget(inputs({ rack: 'acme/staging', rackPassword: 'key123' }), {});
    expect(t).toMatchObject({
      baseUrl: 'https://console.convox.com',
      password: 'key123',
      username: 'convox',
      rack: 'acme/staging',
      insecureTls: false,
      passwordSource: 'rack-password',
    });
  });

  it('treats the action.yml default host as not given, so CONVOX_HOST applies', () => {
    const t = resolveRackTarget(inputs({ rack: 'staging', rackHost: 'console.convox.com' }), {
      CONVOX_HOST: 'console.example.com',
      CONVOX_PASSWORD: 'pw1',
    });
    expect(t.baseUrl).toBe('https://console.example.com');
    expect(t.passwordSource).toBe('CONVOX_PASSWORD');
    expect(t.source).toContain('CONVOX_HOST');
  });

  it('direct mode: bare rack host gets https like the CLI', () => {
    const t = resolveRackTarget(inputs({ rackHost: 'api.rack.example.com:5443/', rackPassword: 'pw' }), {});
    expect(t.baseUrl).toBe('https://api.rack.example.com:5443');
    expect(t.rack).toBeUndefined();
  });

  it('keeps a path prefix and drops trailing slashes', () => {
    expect(
      resolveRackTarget(inputs({ rackHost: 'https://h.example.com/console/', rackPassword: 'p', rack: 'r' }), {}).baseUrl,
    ).toBe('https://h.example.com/console');
  });

  it('RACK_URL is used when the host and password inputs are empty', () => {
    const t = resolveRackTarget(inputs(), {
      RACK_URL: 'https://convox:s3cr%2Ft@api.rack.example.com',
      CONVOX_HOST: 'other',
      CONVOX_PASSWORD: 'x',
    });
    expect(t).toMatchObject({
      baseUrl: 'https://api.rack.example.com',
      password: 's3cr/t',
      source: 'RACK_URL',
      username: 'convox',
    });
  });

  it('RACK_URL with a jwt user keeps the jwt user name', () => {
    expect(resolveRackTarget(inputs(), { RACK_URL: 'https://jwt:eyJabc@api.r.example.com' }).username).toBe('jwt');
  });

  it('inputs beat RACK_URL', () => {
    const t = resolveRackTarget(inputs({ rackHost: 'https://rack.example.com', rackPassword: 'pw' }), {
      RACK_URL: 'https://convox:x@other.example.com',
    });
    expect(t.baseUrl).toBe('https://rack.example.com');
  });

  it('rejects rack together with RACK_URL instead of picking one silently', () => {
    expect(
      thrown(() => resolveRackTarget(inputs({ rack: 'prod' }), { RACK_URL: 'https://convox:x@r.example.com' })).place.input,
    ).toBe('rack');
  });

  it('RACK_URL without a password names the problem', () => {
    expect(thrown(() => resolveRackTarget(inputs(), { RACK_URL: 'https://r.example.com' })).message).toMatch(
      /RACK_URL has no password/,
    );
  });

  it('missing password names rack-password and CONVOX_PASSWORD', () => {
    const e = thrown(() => resolveRackTarget(inputs({ rack: 'acme/staging' }), {}));
    expect(e.place.input).toBe('rack-password');
    expect(e.fix).toContain('CONVOX_PASSWORD');
  });

  it('the Console without a rack name asks for rack', () => {
    expect(thrown(() => resolveRackTarget(inputs({ rackPassword: 'k' }), {})).place.input).toBe('rack');
  });

  it('CONVOX_RACK makes console mode', () => {
    expect(resolveRackTarget(inputs({ rackPassword: 'k' }), { CONVOX_RACK: 'acme/prod' }).rack).toBe('acme/prod');
  });

  it.each([
    ['ftp://rack.example.com', /only https/],
    ['https://', /not a host name|no host/],
    ['rack example.com', /spaces/],
    ['https://r.example.com/?x=1', /query/],
    ['http://rack.example.com', /plain http/],
  ])('rejects rack-host %s', (host, why) => {
    const e = thrown(() => resolveRackTarget(inputs({ rackHost: host, rackPassword: 'p' }), {}));
    expect(e.place.input).toBe('rack-host');
    expect(e.message).toMatch(why);
  });

  it('plain http is fine for loopback, and elsewhere only with insecure TLS', () => {
    expect(resolveRackTarget(inputs({ rackHost: 'http://127.0.0.1:5000', rackPassword: 'p' }), {}).baseUrl).toBe(
      'http://127.0.0.1:5000',
    );
    expect(resolveRackTarget(inputs({ rackHost: 'http://localhost', rackPassword: 'p' }), {}).baseUrl).toBe('http://localhost');
    expect(resolveRackTarget(inputs({ rackHost: 'http://10.0.0.5', rackPassword: 'p', insecureTls: true }), {}).insecureTls).toBe(
      true,
    );
  });

  it('refuses insecure TLS towards console.convox.com', () => {
    expect(thrown(() => resolveRackTarget(inputs({ rack: 'a/b', rackPassword: 'p', insecureTls: true }), {})).place.input).toBe(
      'rack-insecure-tls',
    );
  });

  it('never repeats a password from a URL in a message', () => {
    const e = thrown(() =>
      resolveRackTarget(inputs({ rackHost: 'ftp://convox:hunter22@rack.example.com', rackPassword: 'p' }), {}),
    );
    expect(e.message).not.toContain('hunter22');
    expect(redactUserinfo('convox:pw@host')).toBe('***@host');
  });
});
