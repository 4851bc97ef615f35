import { describe, expect, it } from 'vitest';
import { main, parseArgs } from '../../rack-server/cli.js';

describe('rack server CLI', () => {
  it('parses flags into options', () => {
    const { options, port } = parseArgs([
      '--port',
      '7001',
      '--version',
      '20260418101514',
      '--app',
      'web',
      '--registry',
      '127.0.0.1:5055,ci,pw',
      '--timing',
      '{"promoteMs":5}',
      '--console',
      'acme/a,acme/b',
      '--deploy-key',
      'k',
      '--session',
      'session',
    ]);
    expect(port).toBe(7001);
    expect(options).toEqual({
      version: '20260418101514',
      apps: [{ name: 'web' }],
      registry: { host: '127.0.0.1:5055', username: 'ci', password: 'pw' },
      timing: { promoteMs: 5 },
      console: { racks: ['acme/a', 'acme/b'], passwords: [], deployKeys: ['k'], session: 'session' },
    });
    expect(() => parseArgs(['--nope'])).toThrow('unknown flag: --nope');
  });

  it('starts a server that answers', async () => {
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    const server = await main(['--app', 'web']).finally(() => (process.stdout.write = write));
    try {
      expect(JSON.parse(printed)).toEqual({ url: server.url, password: 'rack-pass' });
      expect((await fetch(`${server.url}/check`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
