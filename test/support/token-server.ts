/**
 * A small token issuer for the distribution v3 registry's own `auth: token:` mode, the Bearer flow
 * Docker Hub and GHCR use (distribution's docs/spec/auth/token.md and jwt.md): the registry answers
 * 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the client asks the realm for a
 * token with Basic credentials (GET) or an OAuth2 form (POST); the issuer signs an ES256 JWT whose
 * `x5c` header carries a self-signed certificate that the registry trusts through `rootcertbundle`.
 * The registry, not this file, decides whether the token's `access` allows the request.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface TokenIssuer {
  /** `http://127.0.0.1:<port>/token` */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM file for the registry's `rootcertbundle`. */
  readonly certFile: string;
  /** Every token request, for tests that check what was asked (`GET scope=… account=…`). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** `repository:acme/shop:pull,push` → access entry; `repository(plugin):…` style classes keep their name. */
function parseScope(scope: string): Access | undefined {
  const m = /^([a-z0-9]+(?:\([a-z0-9]+\))?):(.+):([^:]*)$/.exec(scope);
  return m ? { type: m[1]!, name: m[2]!, actions: m[3]!.split(',').filter(Boolean) } : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the issuer. `users` maps user names to passwords; a known user gets every action it asks
 * for, an anonymous request gets a token with no access (as Docker Hub does), a wrong password 401.
 */
export async function startTokenIssuer(dir: string, users: Readonly<Record<string, string>>): Promise<TokenIssuer> {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=cid-e2e-token-issuer', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  const key = createPrivateKey(readFileSync(keyFile));
  const x5c = [new X509Certificate(readFileSync(certFile)).raw.toString('base64')];
  const service = 'cid-e2e-registry';
  const issuer = 'cid-e2e-token-issuer';
  const requests: string[] = [];

  const token = (account: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c }));
    const claims = { iss: issuer, sub: account, aud: service, exp: now + 300, nbf: now - 5, iat: now, jti: randomUUID(), access };
    const payload = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
    return `${header}.${payload}.${b64url(signature)}`;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    let user: string | undefined;
    let password: string | undefined;
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic) [user, password] = Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s);
    if (req.method === 'POST' && params.get('grant_type') === 'password') {
      user = params.get('username') ?? undefined;
      password = params.get('password') ?? undefined;
    }
    const scopes = params
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    requests.push(`${req.method} scope=${scopes.join(' ')} account=${params.get('account') ?? user ?? ''}`);
    if (url.pathname !== '/token') return void res.writeHead(404).end();
    if (params.get('service') !== service) return void res.writeHead(400).end(`unknown service ${params.get('service')}`);
    if (user !== undefined && users[user] !== password) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ details: 'incorrect username or password' }));
    }
    const access = user === undefined ? [] : scopes.flatMap((s) => parseScope(s) ?? []);
    const signed = token(user ?? '', access);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: signed, access_token: signed, expires_in: 300, issued_at: new Date().toISOString() }));
  };

  const server: Server = createServer((req, res) => void answer(req, res).catch(() => res.writeHead(500).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
