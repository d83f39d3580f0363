/**
 * The built-in dashboard: one page at `/` that draws the read API's data with uPlot, served from this
 * process (no CDN, so it works offline and behind a firewall).
 *
 * The page is protected like the API (it passes the `?token=` it was opened with to its API calls). Its
 * static assets are not: they are public code and hold no data, and a `<script src>` cannot send a bearer
 * header. The assets are read from `dashboard/` beside this module, so the build must copy
 * `src/http/dashboard/` to `dist/http/dashboard/`; uPlot comes from node_modules.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Route } from './server.ts';

interface Asset {
  path: string;
  file: string;
  contentType: string;
  protected: boolean;
}

const resolvePackageFile = createRequire(import.meta.url).resolve;
const own = (name: string) => fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));

const ASSETS: readonly Asset[] = [
  { path: '/', file: own('index.html'), contentType: 'text/html; charset=utf-8', protected: true },
  { path: '/dashboard/helpers.js', file: own('helpers.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/charts.js', file: own('charts.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/battery.js', file: own('battery.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/bill.js', file: own('bill.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/accuracy.js', file: own('accuracy.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/compare.js', file: own('compare.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/app.js', file: own('app.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/app.css', file: own('app.css'), contentType: 'text/css; charset=utf-8', protected: false },
  { path: '/dashboard/uPlot.iife.min.js', file: resolvePackageFile('uplot/dist/uPlot.iife.min.js'), contentType: 'text/javascript; charset=utf-8', protected: false },
  { path: '/dashboard/uPlot.min.css', file: resolvePackageFile('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8', protected: false },
];

/**
 * Scripts and styles only from this origin, data only from this origin, no framing. `no-referrer` keeps
 * the `?token=` in the page's address out of any Referer header.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function dashboardRoutes(): Route[] {
  return ASSETS.map((asset) => {
    let cached: Promise<{ body: Buffer; etag: string }> | null = null;
    const load = () => {
      cached ??= readFile(asset.file).then(
        (body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }),
        (err: unknown) => {
          cached = null; // a later request may find the file (e.g. a build finishing)
          throw new Error(`dashboard asset ${asset.file} is missing: the build must copy src/http/dashboard/ to dist/http/dashboard/`, { cause: err });
        },
      );
      return cached;
    };
    return {
      method: 'GET',
      path: asset.path,
      protected: asset.protected,
      async handle(req: IncomingMessage, res: ServerResponse) {
        const { body, etag } = await load();
        // Revalidated on every load, so an upgrade is seen at once; unchanged files cost a 304.
        const headers = { 'content-type': asset.contentType, 'cache-control': 'no-cache', etag, ...PAGE_HEADERS };
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
        res.writeHead(200, { ...headers, 'content-length': body.length });
        res.end(body);
      },
    };
  });
}
