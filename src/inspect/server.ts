import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRetraceError } from '../errors.js';
import { InspectApi, type InspectApiOptions } from './api.js';
import { ApiNotFoundError, ApiParamError, ApiUnauthorizedError, UiBindError } from './errors.js';

/**
 * The inspector's HTTP server: the JSON API under /api/, the built browser UI (dist/ui) for every other GET, and
 * room for more routes (`mount`, e.g. an OTLP receiver at POST /v1/traces). node:http only: the API is small and
 * this keeps the server dependency-free. Loopback by default; any other host needs the access token.
 */

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: Record<string, string>;
  /** the tenant the request is for (?tenant=, else the first served tenant), already checked */
  tenant: string;
  /** the request body parsed as JSON (POST/PUT), at most 16 MB */
  json(): Promise<unknown>;
  /** the raw request body, at most 16 MB (for routes that take protobuf and the like) */
  body(): Promise<Buffer>;
}

/** A handler returns the JSON to send (status 200), or handles `res` itself and returns undefined. */
export type RouteHandler = (ctx: RequestContext) => Promise<unknown>;

interface Route {
  method: string;
  parts: string[];
  handler: RouteHandler;
}

export interface InspectorServerOptions extends InspectApiOptions {
  host?: string;
  /** 0: any free port */
  port?: number;
  /** the access token; generated when the host is not loopback. `false` turns the check off — loopback only */
  token?: string | false;
  /** where the built UI lives (default: dist/ui of this package) */
  uiDir?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_BODY = 16 * 1024 * 1024;

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** dist/ui of the package, whether this module runs from src/ (tsx) or dist/src/. */
export function defaultUiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'ui');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

function statusOf(err: unknown): number {
  if (err instanceof ApiUnauthorizedError) return 401;
  if (err instanceof ApiNotFoundError) return 404;
  if (isRetraceError(err)) {
    if (err.code === 'TRACE_NOT_FOUND') return 404;
    if (err.exitCategory === 'input') return 400;
    return 503;
  }
  return 500;
}

export class InspectorServer {
  readonly api: InspectApi;
  readonly token: string | null;
  private readonly routes: Route[] = [];
  private readonly server: Server;
  private readonly uiDir: string;
  private host: string;
  private port = 0;

  constructor(private readonly options: InspectorServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    if (options.token === false && !isLoopback(this.host)) throw new UiBindError(this.host);
    this.token =
      options.token === false
        ? null
        : (options.token ?? (isLoopback(this.host) ? null : randomBytes(24).toString('base64url')));
    this.api = new InspectApi(options);
    this.uiDir = options.uiDir ?? defaultUiDir();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.mountApi();
  }

  /** Adds a route; `path` segments starting with ":" are parameters. Mounted routes get the same token check. */
  mount(method: string, path: string, handler: RouteHandler): void {
    this.routes.push({ method: method.toUpperCase(), parts: path.split('/').filter(Boolean), handler });
  }

  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    const shown = h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h;
    return `http://${shown}:${this.port}/${this.token ? `?token=${this.token}` : ''}`;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolveListen, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.host, () => resolveListen());
    });
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.api.jobs.settle();
  }

  private mountApi(): void {
    const api = this.api;
    this.mount('GET', '/api/meta', async () => api.meta());
    this.mount('GET', '/api/traces', async ({ tenant, query }) => api.listTraces(tenant, withoutTenant(query)));
    this.mount('GET', '/api/traces/:id', async ({ tenant, params }) => api.trace(tenant, params.id!));
    this.mount('GET', '/api/traces/:id/steps', async ({ tenant, params, query }) =>
      api.steps(tenant, params.id!, withoutTenant(query)),
    );
    this.mount('GET', '/api/traces/:id/events', async ({ tenant, params, query }) =>
      api.events(tenant, params.id!, withoutTenant(query)),
    );
    this.mount('GET', '/api/traces/:id/events/:seq', async ({ tenant, params }) =>
      api.event(tenant, params.id!, params.seq!),
    );
    this.mount('GET', '/api/diff', async ({ tenant, query }) => api.diff(tenant, withoutTenant(query)));
    this.mount('POST', '/api/replays', async ({ tenant, json, res }) => {
      const job = await api.startReplay(tenant, await json());
      res.statusCode = 202;
      return job;
    });
    this.mount('GET', '/api/replays/:id', async ({ tenant, params }) => api.replayJob(tenant, params.id!));
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    if (!this.token) return true;
    const header = req.headers.authorization;
    const given =
      (header?.startsWith('Bearer ') ? header.slice(7) : undefined) ??
      (typeof req.headers['x-retrace-token'] === 'string' ? req.headers['x-retrace-token'] : undefined) ??
      url.searchParams.get('token') ??
      cookieToken(req.headers.cookie);
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Loopback servers answer only to loopback Host names, so a web page cannot reach them by DNS rebinding. */
  private hostAllowed(req: IncomingMessage): boolean {
    if (!isLoopback(this.host)) return true;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return isLoopback(host);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inspector.local');
    try {
      if (!this.hostAllowed(req)) throw new ApiParamError(`Unexpected Host header "${req.headers.host}".`, '', 'host');
      if (!this.authorized(req, url)) throw new ApiUnauthorizedError();
      // the page's own script and style requests cannot carry a header: the token from the printed URL becomes a
      // same-site, script-inaccessible cookie (as Jupyter does)
      if (this.token && url.searchParams.has('token'))
        res.setHeader('set-cookie', `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`);
      const route = this.match(req.method ?? 'GET', url.pathname);
      if (!route) {
        if (req.method === 'GET' && !url.pathname.startsWith('/api/')) return this.serveUi(url.pathname, res);
        throw new ApiNotFoundError(`No endpoint ${req.method} ${url.pathname}.`, 'See docs/ui.md for the API.');
      }
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) if (k !== 'token') query[k] = v;
      const tenant = this.api.tenant(query.tenant);
      let bodyRead: Promise<Buffer> | undefined;
      const body = () => (bodyRead ??= readBody(req));
      const result = await route.route.handler({
        req,
        res,
        params: route.params,
        query,
        tenant,
        body,
        json: async () => {
          const buf = await body();
          try {
            return JSON.parse(buf.toString('utf8')) as unknown;
          } catch {
            throw new ApiParamError('The request body is not JSON.', 'Send Content-Type: application/json.', 'body');
          }
        },
      });
      if (result !== undefined && !res.headersSent) send(res, res.statusCode || 200, result);
    } catch (err) {
      const status = statusOf(err);
      const body = isRetraceError(err)
        ? {
            error: {
              code: err.code,
              message: err.message,
              hint: err.hint,
              ...((err as { field?: string }).field ? { field: (err as { field?: string }).field } : {}),
            },
          }
        : { error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), hint: '' } };
      if (!res.headersSent) send(res, status, body);
      else res.end();
    }
  }

  private match(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    for (const route of this.routes) {
      if (route.method !== method || route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      route.parts.forEach((p, i) => {
        if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
        else if (p !== parts[i]) ok = false;
      });
      if (ok) return { route, params };
    }
    return undefined;
  }

  private serveUi(pathname: string, res: ServerResponse): void {
    const root = resolve(this.uiDir);
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      send(res, 503, {
        error: {
          code: 'UI_NOT_BUILT',
          message: `The inspector UI is not built (${index} is missing).`,
          hint: 'Run `npm run build`.',
        },
      });
      return;
    }
    let file = resolve(root, `.${normalize(decodeURIComponent(pathname))}`);
    // client-side routes (/trace/…, /diff/…) get the page; files outside the folder are never served
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) file = index;
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': file === index ? 'no-cache' : 'public, max-age=31536000, immutable',
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  }
}

const COOKIE = 'retrace_ui_token';

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

function withoutTenant(query: Record<string, string>): Record<string, string> {
  const { tenant: _t, ...rest } = query;
  return rest;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiParamError('The request body is larger than 16 MB.', '', 'body');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startInspector(options: InspectorServerOptions): Promise<InspectorServer> {
  const server = new InspectorServer(options);
  await server.listen();
  return server;
}
