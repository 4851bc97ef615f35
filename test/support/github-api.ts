/**
 * A stand-in for the GitHub REST API endpoints the reports use, on 127.0.0.1 (port 0), so tests
 * drive the real Octokit over real HTTP. Shapes and status codes follow docs.github.com/rest:
 * issue comments (list with `Link` pagination, create 201, update 200), deployments (create
 * 201) and deployment statuses (create 201, list 200); errors are `{ message, documentation_url,
 * status }` JSON. Every request is recorded. Knobs make writes answer 403 (a fork PR's or
 * read-only token), any route answer 500, or drop the connection.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string: `/repos/acme/shop/issues/7/comments`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
}

export interface GitHubUser {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Bot';
}

export interface StoredComment {
  id: number;
  body: string;
  user: GitHubUser;
  owner: string;
  repo: string;
  issueNumber: number;
  created_at: string;
  updated_at: string;
}

export interface StoredDeployment {
  readonly id: number;
  readonly owner: string;
  readonly repo: string;
  readonly request: Record<string, unknown>;
  readonly statuses: Record<string, unknown>[];
}

/** Makes matching requests fail. `status: 'disconnect'` closes the socket without answering. */
export interface FailureRule {
  readonly status: number | 'disconnect';
  readonly message?: string;
  readonly method?: RegExp;
  readonly path?: RegExp;
  /** How many requests to fail; forever when absent. */
  times?: number;
}

/** The `github-actions[bot]` user a workflow's GITHUB_TOKEN acts as. */
export const ACTIONS_BOT: GitHubUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
const DOCS = 'https://docs.github.com/rest';

export class GitHubApiStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly comments: StoredComment[] = [];
  readonly deployments: StoredDeployment[] = [];
  /** The user requests act as. */
  user: GitHubUser = ACTIONS_BOT;
  private readonly rules: FailureRule[] = [];
  private nextId = 2_000_000_001;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  url = '';

  /** Starts listening on 127.0.0.1 with a free port; `url` is the API root. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds a failure rule; the first matching rule wins. */
  fail(rule: FailureRule): void {
    this.rules.push(rule);
  }

  /** What GITHUB_TOKEN gets in a pull request from a fork: reads work, writes answer 403. */
  forkPullRequest(): void {
    this.fail({ status: 403, message: 'Resource not accessible by integration', method: /^(POST|PATCH|PUT|DELETE)$/ });
  }

  /** Seeds `count` comments by someone else, oldest first; `body(i)` for custom bodies. */
  seedComments(owner: string, repo: string, issueNumber: number, count: number, body = (i: number) => `comment ${i}`): void {
    for (let i = 0; i < count; i++)
      this.addComment(owner, repo, issueNumber, body(i), { login: 'octocat', id: 583231, type: 'User' });
  }

  addComment(owner: string, repo: string, issueNumber: number, body: string, user: GitHubUser = this.user): StoredComment {
    const now = new Date(Date.UTC(2026, 0, 1) + this.comments.length * 1000).toISOString();
    const c: StoredComment = { id: this.nextId++, body, user, owner, repo, issueNumber, created_at: now, updated_at: now };
    this.comments.push(c);
    return c;
  }

  commentsOn(owner: string, repo: string, issueNumber: number): StoredComment[] {
    return this.comments.filter((c) => c.owner === owner && c.repo === repo && c.issueNumber === issueNumber);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
    }
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, headers: req.headers });
    if (!/^(token|bearer) \S+/i.test(req.headers.authorization ?? '')) return error(res, 401, 'Requires authentication');
    const rule = this.rules.find(
      (r) => (r.times ?? 1) > 0 && (!r.method || r.method.test(method)) && (!r.path || r.path.test(url.pathname)),
    );
    if (rule) {
      if (rule.times !== undefined) rule.times--;
      if (rule.status === 'disconnect') return void req.socket.destroy();
      return error(res, rule.status, rule.message ?? (rule.status >= 500 ? 'Server Error' : 'Forbidden'));
    }
    this.route(method, url, (body ?? {}) as Record<string, unknown>, res);
  }

  private route(method: string, url: URL, body: Record<string, unknown>, res: ServerResponse): void {
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/))) {
      const [owner, repo, n] = [m[1] ?? '', m[2] ?? '', Number(m[3])];
      if (method === 'GET') return this.listComments(owner, repo, n, url, res);
      if (method === 'POST') return this.createComment(owner, repo, n, body, res);
    }
    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/)) && method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(m?.[3]) && c.owner === m?.[1] && c.repo === m?.[2]);
      if (!comment) return error(res, 404, 'Not Found');
      if (!validBody(body.body, res)) return;
      comment.body = body.body as string;
      comment.updated_at = new Date().toISOString();
      return send(res, 200, this.commentJson(comment));
    }
    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)\/deployments$/)) && method === 'POST')
      return this.createDeployment(m[1] ?? '', m[2] ?? '', body, res);
    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/))) {
      const d = this.deployments.find((x) => x.id === Number(m?.[3]) && x.owner === m?.[1] && x.repo === m?.[2]);
      if (!d) return error(res, 404, 'Not Found');
      if (method === 'GET') return send(res, 200, [...d.statuses].reverse());
      if (method === 'POST') return this.createStatus(d, body, res);
    }
    error(res, 404, 'Not Found');
  }

  private listComments(owner: string, repo: string, n: number, url: URL, res: ServerResponse): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const all = this.commentsOn(owner, repo, n);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const at = (pg: number): string => `<${this.url}${url.pathname}?per_page=${perPage}&page=${pg}>`;
    const links: string[] = [];
    if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
    if (page > 1) links.push(`${at(page - 1)}; rel="prev"`, `${at(1)}; rel="first"`);
    const headers: Record<string, string> = links.length ? { link: links.join(', ') } : {};
    send(
      res,
      200,
      all.slice((page - 1) * perPage, page * perPage).map((c) => this.commentJson(c)),
      headers,
    );
  }

  private createComment(owner: string, repo: string, n: number, body: Record<string, unknown>, res: ServerResponse): void {
    if (!validBody(body.body, res)) return;
    const c = this.addComment(owner, repo, n, body.body as string);
    send(res, 201, this.commentJson(c), { location: `${this.url}/repos/${owner}/${repo}/issues/comments/${c.id}` });
  }

  private createDeployment(owner: string, repo: string, body: Record<string, unknown>, res: ServerResponse): void {
    if (typeof body.ref !== 'string' || !body.ref) return validation(res, 'Deployment', 'ref', 'missing_field');
    const id = this.nextId++;
    const d: StoredDeployment = { id, owner, repo, request: body, statuses: [] };
    this.deployments.push(d);
    send(res, 201, {
      url: `${this.url}/repos/${owner}/${repo}/deployments/${id}`,
      id,
      node_id: `DE_${id}`,
      sha: body.ref,
      ref: body.ref,
      task: 'deploy',
      payload: {},
      environment: body.environment ?? 'production',
      description: body.description ?? null,
      creator: this.user,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      statuses_url: `${this.url}/repos/${owner}/${repo}/deployments/${id}/statuses`,
      repository_url: `${this.url}/repos/${owner}/${repo}`,
      transient_environment: false,
      production_environment: false,
    });
  }

  private createStatus(d: StoredDeployment, body: Record<string, unknown>, res: ServerResponse): void {
    const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
    if (!states.includes(String(body.state))) return validation(res, 'DeploymentStatus', 'state', 'invalid');
    if (typeof body.description === 'string' && body.description.length > 140) {
      return validation(res, 'DeploymentStatus', 'description', 'custom', 'description is too long (maximum is 140 characters)');
    }
    const id = this.nextId++;
    const status = {
      id,
      node_id: `DES_${id}`,
      state: body.state,
      description: body.description ?? '',
      environment: d.request.environment ?? 'production',
      target_url: body.log_url ?? '',
      log_url: body.log_url ?? '',
      environment_url: body.environment_url ?? '',
      creator: this.user,
      created_at: new Date().toISOString(),
      deployment_url: `${this.url}/repos/${d.owner}/${d.repo}/deployments/${d.id}`,
    };
    d.statuses.push(status);
    send(res, 201, status);
  }

  private commentJson(c: StoredComment): Record<string, unknown> {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.url}/repos/${c.owner}/${c.repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
      body: c.body,
      user: c.user,
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'MEMBER',
      issue_url: `${this.url}/repos/${c.owner}/${c.repo}/issues/${c.issueNumber}`,
    };
  }
}

/** Starts a stand-in; remember to `close()` it. */
export async function startGitHubApi(): Promise<GitHubApiStandIn> {
  return new GitHubApiStandIn().start();
}

function validBody(body: unknown, res: ServerResponse): boolean {
  if (typeof body !== 'string' || body === '') return (validation(res, 'IssueComment', 'body', 'missing_field'), false);
  if (body.length > 65536)
    return (validation(res, 'IssueComment', 'body', 'custom', 'body is too long (maximum is 65536 characters)'), false);
  return true;
}

function validation(res: ServerResponse, resource: string, field: string, code: string, message?: string): void {
  send(res, 422, {
    message: 'Validation Failed',
    errors: [{ resource, code, field, message }],
    documentation_url: DOCS,
    status: '422',
  });
}

function error(res: ServerResponse, status: number, message: string): void {
  send(res, status, { message, documentation_url: DOCS, status: String(status) });
}

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(json);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-github-media-type': 'github.v3; format=json',
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
