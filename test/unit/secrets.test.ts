import { describe, expect, it } from 'vitest';
import { Secrets } from '../../src/secrets.js';

describe('Secrets.redact', () => {
  it('removes a registered secret in each form it travels in', () => {
    const s = new Secrets();
    s.add('Reg1stry-Pa55', 'ci-user');
    const basic = Buffer.from('ci-user:Reg1stry-Pa55').toString('base64');
    expect(s.redact(`p=Reg1stry-Pa55 u=${encodeURIComponent('Reg1stry-Pa55')} auth=${basic}`)).toBe('p=*** u=*** auth=***');
  });

  it("removes an Authorization value it never saw: the engine's own registry token, echoed by a registry", () => {
    // The shape distribution's token auth hands the engine (a JWT), as a registry error would echo it.
    const jwt = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjaWQifQ.Vhc_LLOz6IMosweXErPq0ef8DylHnc-Isaam7FqKs9C0';
    const s = new Secrets();
    expect(s.redact(`refused the push: denied: denied: Bearer ${jwt}`)).toBe('refused the push: denied: denied: Bearer ***');
    expect(s.redact(`denied: Basic ${Buffer.from('someone:their-password').toString('base64')}`)).toBe('denied: Basic ***');
  });

  it('leaves prose and challenges alone', () => {
    const s = new Secrets();
    for (const text of [
      'Head "http://r/v2/x/manifests/1": no basic auth credentials',
      'Basic authentication failed',
      'WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry"',
    ])
      expect(s.redact(text)).toBe(text);
  });
});
