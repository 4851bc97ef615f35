/**
 * Ports the fetch standard blocks (https://fetch.spec.whatwg.org/#port-blocking) that a registry
 * may plausibly listen on; Node's fetch refuses them ("bad port"), Docker refuses none.
 */
import { createServer } from 'node:net';

export const FETCH_BAD_PORTS = [5061, 6000, 5060, 6665, 6666, 6667, 6668, 6669, 10080] as const;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of FETCH_BAD_PORTS free on 127.0.0.1 now, or undefined when every one is taken. */
export async function freeBadPort(): Promise<number | undefined> {
  for (const port of FETCH_BAD_PORTS) if (await canListen(port)) return port;
  return undefined;
}

/** Why a test that needs a bad port was skipped, for its title. */
export const NO_BAD_PORT = `skipped: none of ${FETCH_BAD_PORTS.join(', ')} is free on 127.0.0.1`;
