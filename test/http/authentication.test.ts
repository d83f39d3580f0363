/**
 * Who may read protected routes: with HTTP_API_TOKEN, whoever sends the token (compared in constant time
 * whatever its length); without one, only requests addressed to an IP address, localhost or a host name in
 * HTTP_ALLOWED_HOSTS, so a web page that rebinds its DNS name to this machine cannot read the data.
 * Open routes (health, metrics) answer any Host: platform health checks use their own names.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendJson, startHttpServer, type HttpServer, type Route } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';

const comparisons = vi.hoisted(() => [] as Array<[number, number]>);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      comparisons.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const TOKEN = 'correct-horse-battery-staple';
const routes: Route[] = [
  { method: 'GET', path: '/data', protected: true, handle: (_req, res) => sendJson(res, 200, { secret: 42 }) },
  { method: 'GET', path: '/healthz', handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
];
let open: HttpServer;
let listed: HttpServer;
let guarded: HttpServer;

beforeAll(async () => {
  open = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: null, logger: silentLogger() });
  listed = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: null, allowedHosts: ['Collector.Example.com'], logger: silentLogger() });
  guarded = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: TOKEN, logger: silentLogger() });
});
afterAll(async () => {
  await Promise.all([open.close(), listed.close(), guarded.close()]);
});

/** A GET with any Host header (fetch refuses to set one) or none at all; the target may be absolute-form. */
function get(on: HttpServer, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: on.port, path, headers, setHost: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('without HTTP_API_TOKEN', () => {
  it.each([
    ['127.0.0.1', 200],
    ['127.0.0.1:8080', 200],
    ['[::1]:8080', 200],
    ['192.168.1.20', 200],
    ['localhost:8080', 200],
    ['LOCALHOST', 200],
    ['evil.example', 403],
    ['evil.example:8080', 403],
    ['127.0.0.1.evil.example', 403],
    ['localhost.evil.example', 403],
    ['', 403],
  ])('Host %j → %i on a protected route', async (host, status) => {
    expect(await get(open, '/data', { host })).toBe(status);
  });

  it('answers host names listed in HTTP_ALLOWED_HOSTS, whatever their case or port', async () => {
    expect(await get(listed, '/data', { host: 'collector.example.com:8080' })).toBe(200);
    expect(await get(listed, '/data', { host: 'COLLECTOR.example.com.' })).toBe(200);
    expect(await get(listed, '/data', { host: 'other.example.com' })).toBe(403);
    expect(await get(open, '/data', { host: 'collector.example.com' })).toBe(403);
  });

  it('checks the host of an absolute-form target, not only the Host header', async () => {
    expect(await get(open, 'http://evil.example/data', { host: '127.0.0.1' })).toBe(403);
    expect(await get(open, 'http://127.0.0.1/data', { host: 'evil.example' })).toBe(200);
  });

  it('leaves open routes open to any host name (platform health checks use their own)', async () => {
    expect(await get(open, '/healthz', { host: 'healthcheck.railway.app' })).toBe(200);
  });
});

describe('with HTTP_API_TOKEN', () => {
  it('needs the token, and then any host name will do', async () => {
    expect(await get(guarded, '/data', { host: 'collector.example.com' })).toBe(401);
    expect(await get(guarded, '/data', { host: 'collector.example.com', authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('compares digests of equal length, so a wrong token of any length takes the same path', async () => {
    comparisons.length = 0;
    for (const given of ['', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, 'y'.repeat(10_000)]) {
      expect(await get(guarded, '/data', { host: '127.0.0.1', authorization: `Bearer ${given}` })).toBe(401);
    }
    expect(comparisons).toEqual(Array.from({ length: 5 }, () => [32, 32]));
  });
});
