/**
 * The daemon's HTTP server (node:http): a small route table. Health and metrics routes stay open; routes
 * marked `protected` require the bearer token when HTTP_API_TOKEN is set. Without a token they answer
 * only requests addressed to an IP address, localhost or a name in HTTP_ALLOWED_HOSTS: a web page that
 * rebinds its own DNS name to this machine's address must not be able to read the data.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface Route {
  method: 'GET' | 'HEAD' | 'POST';
  /** An exact path, or a prefix ending in `/*`. */
  path: string;
  /** Requires `Authorization: Bearer <HTTP_API_TOKEN>` when a token is configured. */
  protected?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function matches(route: Route, method: string, pathname: string): boolean {
  const methodOk = route.method === method || (route.method === 'GET' && method === 'HEAD');
  if (!methodOk) return false;
  return route.path.endsWith('/*') ? pathname.startsWith(route.path.slice(0, -1)) || pathname === route.path.slice(0, -2) : pathname === route.path;
}

function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  // The dashboard's browser requests may carry the token as ?token= (set once, kept by the page).
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : (url.searchParams.get('token') ?? '');
  // Digests have one length whatever was sent, so the comparison takes the same time for any guess.
  return timingSafeEqual(digest(given), digest(token));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The host a request is addressed to (absolute-form target first, then the Host header), lower case,
 * without port or IPv6 brackets; null when there is none.
 */
function requestHost(req: IncomingMessage, url: URL, absoluteForm: boolean): string | null {
  const authority = absoluteForm ? url.host : req.headers.host;
  if (authority === undefined || authority === '') return null;
  const parsed = URL.parse(`http://${authority}`);
  if (parsed === null) return null;
  return parsed.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

function hostAllowed(host: string | null, allowedHosts: readonly string[]): boolean {
  if (host === null) return false;
  return isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost') || allowedHosts.includes(host);
}

export async function startHttpServer(options: {
  port: number;
  host?: string;
  routes: readonly Route[];
  apiToken: string | null;
  /** Host names answered without a token besides IP literals and localhost (HTTP_ALLOWED_HOSTS). */
  allowedHosts?: readonly string[];
  logger: Logger;
}): Promise<HttpServer> {
  const { routes, apiToken, logger } = options;
  const allowedHosts = (options.allowedHosts ?? []).map((host) => host.replace(/\.$/, '').toLowerCase());
  const respond = (req: IncomingMessage, res: ServerResponse): Promise<void> | void => {
    const url = requestUrl(req.url ?? '/');
    if (url === null || !decodablePath(url)) {
      // A client's mistake, and scanners send these by the thousand: not worth more than a debug line.
      logger.debug({ method: sample(req.method), target: sample(req.url) }, 'malformed request target; answered 400');
      return sendJson(res, 400, { error: 'malformed request target' });
    }
    const route = routes.find((r) => matches(r, req.method ?? 'GET', url.pathname));
    if (!route) return sendJson(res, 404, { error: 'not found' });
    if (route.protected && apiToken && !authorized(req, url, apiToken)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, { error: 'a bearer token is required (HTTP_API_TOKEN)' });
    }
    if (route.protected && !apiToken && !hostAllowed(requestHost(req, url, !(req.url ?? '/').startsWith('/')), allowedHosts)) {
      logger.debug({ host: sample(req.headers.host) }, 'request for a host name not allowed without a token; answered 403');
      return sendJson(res, 403, { error: 'this host name is not allowed: set HTTP_API_TOKEN, or list the name in HTTP_ALLOWED_HOSTS' });
    }
    return route.handle(req, res, url);
  };
  const server = createServer((req, res) => {
    // Whatever a request makes a handler throw, synchronously or not, ends here and never reaches the
    // process-level handler, which would stop the daemon.
    Promise.resolve()
      .then(() => respond(req, res))
      .catch((err: unknown) => {
        logger.error({ err, method: sample(req.method), target: sample(req.url) }, 'HTTP handler failed; answered 500');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  });
  // A slow or idle client must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, options.port)));
    // No host: Node listens on `::`, which also accepts IPv4 where the system allows (Railway's private
    // network is IPv6-only in older environments), and falls back to 0.0.0.0 where IPv6 is missing.
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'HTTP server listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The request target as a URL, or null when it is not one: origin-form (`/path?query`, taken literally, so
 * `//x/healthz` is the path `//x/healthz`, not the host x) or absolute-form (`http://host/path`, which
 * HTTP/1.1 servers must accept). `*` (OPTIONS) and anything the URL parser refuses are null.
 */
function requestUrl(target: string): URL | null {
  if (target.startsWith('/')) return URL.parse(`http://localhost${target}`);
  const absolute = URL.parse(target);
  return absolute !== null && (absolute.protocol === 'http:' || absolute.protocol === 'https:') ? absolute : null;
}

/**
 * Whether every percent-encoding in the path decodes (`%ff` alone is not UTF-8): refused here, once, so no
 * route that decodes a path segment can fail on one.
 */
function decodablePath(url: URL): boolean {
  try {
    decodeURIComponent(url.pathname);
    return true;
  } catch {
    return false;
  }
}

/** A client-supplied value for a log line: bounded, so a hostile request cannot flood the log. */
function sample(value: string | undefined): string | undefined {
  return value !== undefined && value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

/** A port that is taken or not allowed is a setting to change, not something a restart cures. */
function listenError(err: NodeJS.ErrnoException, port: number): Error {
  if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') return err;
  const problem = err.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
  return new CollectorError('CONFIG_INVALID', `HTTP port ${port} ${problem}: set HTTP_PORT (or PORT) to a free port`, {
    cause: err,
    details: { problems: [`HTTP_PORT: port ${port} ${problem}`] },
  });
}
