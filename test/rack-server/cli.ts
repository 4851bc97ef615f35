/**
 * Run the rack server as a process for benchmarks and manual runs. Nothing here runs on import:
 * a caller (a script bundled with esbuild, or `node -e`) calls `main()`.
 *
 *   main(['--version', '20260418101514', '--app', 'web', '--timing', '{"promoteMs":5000}'])
 *
 * Flags: --port N, --version V, --password P, --app NAME (repeatable; or --apps '<SeedApp[] JSON>'),
 * --registry host:port[,user,password], --timing '<RackTiming JSON>',
 * --console org/rack[,org/rack…] with --console-password P, --deploy-key K, --session none|session|hardware.
 * Prints one JSON line `{"url": …, "password": …}` to stdout, then serves until SIGINT/SIGTERM.
 */
import { startRackServer } from './index.js';
import type { RackServer } from './index.js';
import type { ConsoleOptions, RackServerOptions, SeedApp } from './types.js';

/** Parse flags into server options (exported for tests). */
export function parseArgs(argv: readonly string[]): { options: RackServerOptions; port: number } {
  const options: RackServerOptions = {};
  const apps: SeedApp[] = [];
  const cons: ConsoleOptions = { racks: [], passwords: [], deployKeys: [] };
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') port = Number(next());
    else if (flag === '--version') options.version = next();
    else if (flag === '--password') options.password = next();
    else if (flag === '--app') apps.push({ name: next() });
    else if (flag === '--apps') apps.push(...(JSON.parse(next()) as SeedApp[]));
    else if (flag === '--timing') options.timing = JSON.parse(next()) as RackServerOptions['timing'];
    else if (flag === '--registry') {
      const [host = '', username, password] = next().split(',');
      options.registry = { host, ...(username ? { username, password: password ?? '' } : {}) };
    } else if (flag === '--console') cons.racks.push(...next().split(','));
    else if (flag === '--console-password') cons.passwords?.push(next());
    else if (flag === '--deploy-key') cons.deployKeys?.push(next());
    else if (flag === '--session') cons.session = next() as ConsoleOptions['session'];
    else throw new Error(`unknown flag: ${flag}`);
  }
  if (apps.length > 0) options.apps = apps;
  if (cons.racks.length > 0) options.console = cons;
  return { options, port };
}

/** Start the server from flags; resolves with it once listening. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<RackServer> {
  const { options, port } = parseArgs(argv);
  const server = await startRackServer(options, port);
  process.stdout.write(`${JSON.stringify({ url: server.url, password: server.password })}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const close = server.close;
  server.close = async () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await close();
  };
  return server;
}
