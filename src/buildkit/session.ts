/**
 * Follows: moby/buildkit session/auth/auth.proto, session/grpchijack, grpc health/v1/health.proto.
 *
 * A BuildKit session that answers registry credential requests per host. BuildKit pulls base
 * images itself and asks the client, over a gRPC connection the client serves on a hijacked
 * `POST /session`, for each registry's credentials. dockerode's own session gives every host the
 * same credentials (our private registry's password would go to Docker Hub) and serves no health
 * check, which BuildKit 0.8 (Docker 20.10) polls every second and drops the session without.
 *
 * Messages are hand-encoded (protobuf.ts) against moby/buildkit session/auth/auth.proto and
 * grpc/health/v1/health.proto: no .proto files or proto-loader at run time.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { ActionError } from '../errors.js';
import type { Log } from '../log.js';
import { DIFF_COPY, fileSync, type FileSyncDirs, type FileSyncOptions } from './filesync.js';
import { GrpcError, GrpcStatus, serveGrpc, type GrpcConnection, type Method } from './grpc-server.js';
import { fieldText, ProtoWriter, readFields } from './protobuf.js';

export type HostCredentials = { username: string; password: string } | undefined;
/** Credentials for a registry host; may look them up (a credential helper) when first asked. */
export type CredentialsFor = (host: string) => HostCredentials | Promise<HostCredentials>;

export interface BuildSession {
  /** Pass as the `session` query parameter of `POST /build`. */
  readonly id: string;
  /** Registry hosts BuildKit asked credentials for, in order. */
  readonly hostsAsked: readonly string[];
  /** Resolves once the engine has the session; rejects with an ActionError if it refused it. */
  readonly opened: Promise<void>;
  close(): void;
}

const AUTH = '/moby.filesync.v1.Auth/';
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

/** The session once the engine has it (startBuildSession, awaited). */
export async function openBuildSession(...args: Parameters<typeof startBuildSession>): Promise<BuildSession> {
  const session = startBuildSession(...args);
  await session.opened;
  return session;
}

/**
 * Starts opening the session and returns at once: its id can go out on `POST /build` before the
 * engine has it, as the docker CLI sends the two requests together; the engine waits for the
 * session to attach. BuildKit asks for `registry-1.docker.io` for Docker Hub images; when
 * `credentialsFor` has nothing for that host, `docker.io` is asked too.
 */
export function startBuildSession(
  docker: Docker,
  credentialsFor: CredentialsFor,
  log?: Log,
  /**
   * Serve these local directories to BuildKit (the build context), as the docker CLI does;
   * `prefetch`, the context read ahead, answers BuildKit's request for it.
   */
  files?: { dirs: FileSyncDirs } & FileSyncOptions,
): BuildSession {
  const id = randomUUID();
  const hostsAsked: string[] = [];
  const methods = new Map<string, Method>(authMethods(credentialsFor, hostsAsked, log));
  // HealthCheckResponse.status = SERVING (1)
  methods.set(HEALTH_CHECK, { kind: 'unary', handle: () => new ProtoWriter().varint(1, 1).finish() });
  if (files) methods.set(DIFF_COPY, { kind: 'stream', handle: fileSync(files.dirs, files) });
  // Like the CLI, a shared key per context directory lets BuildKit reuse what it already
  // received from an earlier build of the same directory and transfer only what changed.
  const sharedKey = files ? createHash('sha256').update(`convox-image-deploy:${files.dirs.context}`).digest('hex') : id;
  let connection: GrpcConnection | undefined;
  let closed = false;
  const opened = dialSession(docker, id, [...methods.keys()], sharedKey).then(
    (socket) => {
      if (closed) {
        socket.destroy();
        return;
      }
      connection = serveGrpc(socket, methods, (e: Error) => log?.debug(`BuildKit session ${id}: ${e.message}`));
      log?.debug(`BuildKit session ${id} open`);
    },
    (e: unknown) => {
      files?.prefetch?.stop();
      throw e;
    },
  );
  // Whoever awaits `opened` sees a refusal; a session closed unawaited fails nothing.
  opened.catch(() => {});
  return {
    id,
    hostsAsked,
    opened,
    close: () => {
      closed = true;
      files?.prefetch?.stop();
      connection?.close();
    },
  };
}

const AUTH_METHODS = ['Credentials', 'FetchToken', 'GetTokenAuthority', 'VerifyTokenAuthority'] as const;

function authMethods(credentialsFor: CredentialsFor, hostsAsked: string[], log?: Log): Array<[string, Method]> {
  const credentials: Method = {
    kind: 'unary',
    handle: async (request) => {
      const host = credentialsHost(request);
      hostsAsked.push(host);
      const creds =
        (await credentialsFor(host)) ?? (host === 'registry-1.docker.io' ? await credentialsFor('docker.io') : undefined);
      log?.debug(
        `BuildKit asked for credentials for ${host}: ${creds ? `answered as ${creds.username}` : 'none, so pulling anonymously'}`,
      );
      // CredentialsResponse: Username = 1, Secret = 2; empty when we have none.
      const reply = new ProtoWriter();
      if (creds) reply.string(1, creds.username).string(2, creds.password);
      return reply.finish();
    },
  };
  // BuildKit then asks Credentials and fetches registry tokens itself (util/resolver/authorizer.go).
  const unimplemented = (name: string): Method => ({
    kind: 'unary',
    handle: () => {
      throw new GrpcError(GrpcStatus.UNIMPLEMENTED, `${name} is not served by this client`);
    },
  });
  return AUTH_METHODS.map((m) => [AUTH + m, m === 'Credentials' ? credentials : unimplemented(m)]);
}

/** CredentialsRequest: Host = 1. */
export function credentialsHost(request: Buffer): string {
  for (const f of readFields(request)) if (f.field === 1) return fieldText(f);
  return '';
}

/** `POST /session` upgraded to h2c; the daemon then speaks gRPC to us as the client. */
function dialSession(docker: Docker, id: string, methods: string[], sharedKey: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/session',
        method: 'POST',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'convox-image-deploy',
          'X-Docker-Expose-Session-Sharedkey': sharedKey,
          // One header line per method: BuildKit only calls what is listed.
          'X-Docker-Expose-Session-Grpc-Method': methods,
        },
        statusCodes: { 101: true, 200: true, 400: 'bad parameter', 404: 'no such endpoint', 500: 'server error' },
      } as never,
      (err: unknown, socket: unknown) => {
        if (err) {
          reject(
            new ActionError(
              `cannot open a BuildKit session with the Docker engine: ${(err as Error).message ?? String(err)}`,
              { phase: 'build' },
              'use a Docker engine with BuildKit (Docker 18.09 or later, API 1.39+), or check that DOCKER_HOST points at the engine',
              { cause: err },
            ),
          );
        } else {
          resolve(socket as Duplex);
        }
      },
    );
  });
}
