/**
 * A fake Amber Electric API on loopback HTTP, behaving like the live API as `test/fixtures/amber/API-NOTES.md`
 * describes it: bearer auth, whole-NEM-day price and usage queries with the live limits and error bodies,
 * a sliding-window rate limit with `RateLimit-*` headers, usage that lands late and is revised, and
 * injectable faults. All data is computed on demand from the seed, so the same seed and data clock give
 * byte-identical responses, and `expectedPrices`/`expectedUsage` are the ground truth tests compare with.
 *
 * Two clocks: the data clock (`now`, settable) decides what Amber "knows" (actuals, forecasts, usage
 * stages); monotonic time (`clock`, real performance.now() unless a test shares a virtual one with the client)
 * drives the rate limiter, lockouts and the request log.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiConfig, type Route, handleApiRequest, pricesForDays, routeOf, usageForDays } from './api.ts';
import {
  type Endpoint,
  type FaultSpec,
  FaultQueue,
  TOO_MANY_REQUESTS_BODY,
  applyBodyFault,
  defaultStatusBody,
} from './faults.ts';
import { forceSpike } from './market.ts';
import { MINUTE_MS, parseNemDate } from './nem-time.ts';
import type { withRandomElements } from './random-elements.ts';
import type { PriceJson } from './prices.ts';
import { type RateLimitPolicy, SlidingWindowRateLimiter } from './rate-limiter.ts';
import { type FakeSiteSpec, type SiteModel, createSiteModel, defaultSites } from './sites.ts';
import type { UsageJson } from './usage.ts';

export type { Endpoint, FaultSpec } from './faults.ts';
export type { PriceJson } from './prices.ts';
export type { RateLimitPolicy } from './rate-limiter.ts';
export type { FakeSiteSpec } from './sites.ts';
export type { UsageJson } from './usage.ts';
export { defaultSites };

const DEFAULT_API_KEY = 'psk_fake0000000000000000000000000000';
const DEFAULT_RATE_LIMIT: RateLimitPolicy = { limit: 50, windowSeconds: 300 };

export interface FakeAmberOptions {
  /** Default 1; the same seed gives byte-identical data. */
  seed?: number;
  apiKey?: string;
  /** Default: `defaultSites(now())`. */
  sites?: FakeSiteSpec[];
  /** The data clock ("what time is it at Amber"); default real time. Settable later via `setNow`. */
  now?: () => Date;
  /**
   * Monotonic milliseconds for the rate limiter, lockouts and the request log; default performance.now(). A
   * test that gives the client's limiter and the fake one virtual clock sees the budget counted without the
   * scheduling delays a loaded machine adds between sending a request and its arrival.
   */
  clock?: { now(): number };
  /** Default `50;w=300`; null = no limiting (headers are still sent, for a budget of 1,000,000). */
  rateLimit?: RateLimitPolicy | null;
  /** Usage for NEM day D appears this many hours after D ends (D+1 00:00+10:00). Default 4 (API-NOTES §8). */
  usageLagHours?: number;
  /** After this many hours past D's end all of D's usage is billable and final. Default 30. */
  usageFinalHours?: number;
  /** How far back the API keeps data, in days before today (null = unlimited, the default). */
  historyDays?: number | null;
  /**
   * `/prices/current?resolution=5` returns 30-minute forecasts beyond the first hour, as observed live
   * (API-NOTES §2.3). Default true; false gives uniform 5-minute forecasts.
   */
  mixedDurations?: boolean;
  /**
   * Fraction (0..1) of price and usage elements replaced by random elements the spec allows
   * (spec-arbitrary.ts), chosen by seed and interval, so the collector meets arbitrary API values inside
   * otherwise real responses. Default 0.
   */
  randomElements?: number;
  /** Called once per request after its response has been decided (the CLI logs with it). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Default 127.0.0.1 and an ephemeral port. */
  port?: number;
  host?: string;
}

export interface RequestLogEntry {
  /** The monotonic clock (`clock`, default performance.now()) when the request arrived. */
  at: number;
  /** Real wall-clock time when the request arrived (not the data clock). */
  wallTime: Date;
  method: string;
  /** Path without the query string, e.g. `/v1/sites/01H…/prices`. */
  path: string;
  endpoint: Endpoint;
  siteId: string | null;
  query: Record<string, string>;
  status: number;
  /** The kind of fault that shaped this response (including an ongoing `lockout`), or null. */
  fault: string | null;
}

export interface FakeAmber {
  /** Base URL including /v1, e.g. http://127.0.0.1:43121/v1 */
  readonly url: string;
  readonly apiKey: string;
  /** Every request, in arrival order. */
  readonly requests: ReadonlyArray<RequestLogEntry>;
  setNow(now: Date | (() => Date)): void;
  /** Replaces the policy and starts from an empty window. */
  setRateLimit(policy: RateLimitPolicy | null): void;
  /** Queue a fault; faults fire on matching requests in queue order, `times` times each. */
  inject(fault: FaultSpec): void;
  clearFaults(): void;
  /**
   * Ground truth: the ActualInterval rows /prices would return for these NEM days as of now (all channels,
   * API order), at the site's billing resolution unless given. Not limited to 7 days.
   */
  expectedPrices(siteId: string, from: string, to: string, resolution?: 5 | 30): PriceJson[];
  /** Ground truth: the Usage rows /usage would return for these NEM days as of now (latest revision). */
  expectedUsage(siteId: string, from: string, to: string): UsageJson[];
  resetRequestLog(): void;
  /**
   * A price spike at a known moment: from `start` for `minutes` (whole 5-minute steps), in the market of
   * every site (or of `network`'s sites), replacing whatever spike the seed gave that NEM day. Prices rise by
   * 55–100 % of `magnitude` c/kWh spot (default 400); spikeStatus is `potential` from an hour before, then
   * `spike`. Actual, current and forecast prices all follow.
   */
  forceSpike(spike: { start: Date; minutes: number; magnitude?: number; network?: string }): void;
  close(): Promise<void>;
}

export async function startFakeAmber(options: FakeAmberOptions = {}): Promise<FakeAmber> {
  // Random elements need fast-check and the OpenAPI spec: loaded only when asked for, so that the demo and
  // `npm run fake-amber` run on the production dependencies alone.
  const randomize = (options.randomElements ?? 0) > 0 ? (await import('./random-elements.ts')).withRandomElements : null;
  const fake = new FakeAmberServer(options, randomize);
  await fake.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return fake;
}

/** What to send: status, headers, the body bytes, and an optional transport fault to send them with. */
interface PlannedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  transport: FaultSpec | null;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const TRANSPORT_FAULTS = new Set<FaultSpec['kind']>(['slowHeaders', 'slowBody', 'truncated', 'reset']);

class FakeAmberServer implements FakeAmber {
  readonly apiKey: string;
  #url = '';
  #server: Server;
  #config: ApiConfig;
  #now: () => Date;
  #monotonic: () => number;
  #limiter: SlidingWindowRateLimiter;
  #faults = new FaultQueue();
  #log: RequestLogEntry[] = [];
  #onRequest: ((entry: RequestLogEntry) => void) | undefined;
  #randomElements: number;
  #randomize: typeof withRandomElements | null;
  /** An active `lockout` fault: every request before `untilMs` (monotonic clock) is refused and extends it. */
  #lockout: { untilMs: number; seconds: number } | null = null;
  /** Aborts slow responses on close, so close() never waits for a paused body. */
  #closing = new AbortController();

  constructor(options: FakeAmberOptions, randomize: typeof withRandomElements | null) {
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY;
    this.#now = options.now ?? (() => new Date());
    const clock = options.clock;
    this.#monotonic = clock ? () => clock.now() : () => performance.now();
    const seed = options.seed ?? 1;
    const specs = options.sites ?? defaultSites(this.#now());
    this.#config = {
      seed,
      sites: specs.map((spec) => createSiteModel(seed, spec)),
      historyDays: options.historyDays ?? null,
      usageTiming: { lagHours: options.usageLagHours ?? 4, finalHours: options.usageFinalHours ?? 30 },
      mixedDurations: options.mixedDurations ?? true,
    };
    this.#limiter = new SlidingWindowRateLimiter(options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit);
    this.#onRequest = options.onRequest;
    this.#randomElements = options.randomElements ?? 0;
    this.#randomize = randomize;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        // Only sending can fail here (the client went away mid-response); there is nobody left to tell.
        res.destroy();
      });
    });
  }

  get url(): string {
    return this.#url;
  }

  get requests(): ReadonlyArray<RequestLogEntry> {
    return this.#log;
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${hostPart}:${address.port}/v1`;
  }

  setNow(now: Date | (() => Date)): void {
    if (typeof now === 'function') {
      this.#now = now;
    } else {
      const fixed = new Date(now.getTime());
      this.#now = () => fixed;
    }
  }

  setRateLimit(policy: RateLimitPolicy | null): void {
    this.#limiter.setPolicy(policy);
  }

  inject(fault: FaultSpec): void {
    this.#faults.inject(fault);
  }

  clearFaults(): void {
    this.#faults.clear();
    this.#lockout = null;
  }

  expectedPrices(siteId: string, from: string, to: string, resolution?: 5 | 30): PriceJson[] {
    const { site, first, last } = this.#groundTruthArgs(siteId, from, to);
    const rows = pricesForDays(this.#config, site, first, last, resolution ?? site.spec.intervalLength, this.#now().getTime());
    return rows.filter((row) => row.type === 'ActualInterval');
  }

  expectedUsage(siteId: string, from: string, to: string): UsageJson[] {
    const { site, first, last } = this.#groundTruthArgs(siteId, from, to);
    return usageForDays(this.#config, site, first, last, this.#now().getTime());
  }

  resetRequestLog(): void {
    this.#log = [];
  }

  forceSpike(spike: { start: Date; minutes: number; magnitude?: number; network?: string }): void {
    const startMs = spike.start.getTime();
    for (const site of this.#config.sites) {
      if (spike.network === undefined || site.spec.network === spike.network) {
        forceSpike(site.market, startMs, startMs + spike.minutes * MINUTE_MS, spike.magnitude ?? 400);
      }
    }
  }

  async close(): Promise<void> {
    this.#closing.abort();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #groundTruthArgs(siteId: string, from: string, to: string): { site: SiteModel; first: number; last: number } {
    const site = this.#config.sites.find((candidate) => candidate.spec.id === siteId);
    if (!site) throw new Error(`fake-amber: unknown site ${siteId}`);
    const first = parseNemDate(from);
    const last = parseNemDate(to);
    if (first === null || last === null) throw new Error(`fake-amber: dates must be YYYY-MM-DD, got ${from}..${to}`);
    return { site, first, last };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-amber.invalid');
    const route = routeOf(url.pathname);
    const entry: RequestLogEntry = {
      at: this.#monotonic(),
      wallTime: new Date(),
      method: req.method ?? 'GET',
      path: url.pathname,
      endpoint: route.endpoint,
      siteId: route.siteId,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      fault: null,
    };
    this.#log.push(entry);
    let planned: PlannedResponse;
    try {
      planned = this.#plan(req, route, entry);
    } catch (err) {
      // A bug in the fake must surface in the test that hit it, not vanish: answer 500 and say why.
      const body = JSON.stringify({ message: 'fake-amber internal error', detail: String(err) });
      planned = { status: 500, headers: { ...JSON_HEADERS }, body, transport: null };
    }
    entry.status = planned.status;
    this.#onRequest?.(entry);
    await this.#send(res, planned);
  }

  /** Decides the response: auth, lockout, faults, rate limit, then the API itself. */
  #plan(req: IncomingMessage, route: Route, entry: RequestLogEntry): PlannedResponse {
    const respond = (status: number, body: string, headers: Record<string, string> = {}, transport: FaultSpec | null = null) =>
      ({ status, headers: { ...JSON_HEADERS, ...headers }, body, transport }) satisfies PlannedResponse;
    if (entry.method !== 'GET') return respond(405, JSON.stringify({ message: 'Method Not Allowed' }));

    // The renewables endpoint needs no auth (API-NOTES §2.5) and so carries no per-key budget either.
    const authenticated = route.endpoint !== 'renewables';
    if (authenticated) {
      const denied = this.#authFailure(req.headers.authorization);
      if (denied) return respond(denied.status, denied.body);
    }

    const nowPerf = entry.at;
    if (authenticated && this.#lockout && nowPerf < this.#lockout.untilMs) {
      entry.fault = 'lockout';
      return respond(429, TOO_MANY_REQUESTS_BODY, this.#extendLockout(nowPerf));
    }

    const fault = this.#faults.take(route.endpoint, route.siteId);
    if (fault) entry.fault = fault.kind;
    switch (fault?.kind) {
      case 'status': {
        if (fault.body === undefined) return respond(fault.status, defaultStatusBody(fault.status));
        return respond(fault.status, typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body));
      }
      case 'bare429':
        // AWS API Gateway throttling: no RateLimit-* headers at all (API-NOTES §6, payloads/issue280-*).
        return respond(429, TOO_MANY_REQUESTS_BODY, { 'x-amzn-ErrorType': 'TooManyRequestsException', 'X-Cache': 'Error from cloudfront' });
      case 'retryAfter429':
        return respond(429, TOO_MANY_REQUESTS_BODY, { 'Retry-After': String(fault.seconds) });
      case 'lockout':
        this.#lockout = { untilMs: nowPerf, seconds: fault.seconds };
        return respond(429, TOO_MANY_REQUESTS_BODY, this.#extendLockout(nowPerf));
      default:
        break;
    }

    let rateLimitHeaders: Record<string, string> = {};
    if (authenticated) {
      const decision = this.#limiter.admit(nowPerf);
      if (!decision.allowed) return respond(429, TOO_MANY_REQUESTS_BODY, decision.headers);
      rateLimitHeaders = decision.headers;
    }

    const result = handleApiRequest(this.#config, route, entry.query, this.#now().getTime());
    const transport = fault && TRANSPORT_FAULTS.has(fault.kind) ? fault : null;
    if (!('rows' in result)) return respond(result.status, result.body, rateLimitHeaders, transport);
    const faulted = fault ? applyBodyFault(fault, result.rows, this.#config.seed) : result.rows;
    const rows = this.#randomize ? this.#randomize(faulted, this.#randomElements, this.#config.seed) : faulted;
    return respond(200, JSON.stringify(rows), rateLimitHeaders, transport);
  }

  /** Missing or malformed credentials → 401; a wrong key → 403 `{"message":"Forbidden"}` (API-NOTES §7). */
  #authFailure(header: string | undefined): { status: number; body: string } | null {
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { status: 401, body: JSON.stringify({ message: 'Unauthorized' }) };
    if (match[1] !== this.apiKey) return { status: 403, body: JSON.stringify({ message: 'Forbidden' }) };
    return null;
  }

  /** Every request during a lockout pushes its end out again: the behaviour users reported (API-NOTES §6). */
  #extendLockout(nowPerf: number): Record<string, string> {
    const lockout = this.#lockout;
    if (!lockout) return {};
    lockout.untilMs = nowPerf + lockout.seconds * 1000;
    return this.#limiter.headers(nowPerf, { remaining: 0, resetSeconds: Math.ceil(lockout.seconds) });
  }

  async #send(res: ServerResponse, planned: PlannedResponse): Promise<void> {
    const body = Buffer.from(planned.body);
    const half = Math.floor(body.length / 2);
    const headers = (length: number) => ({ ...planned.headers, 'Content-Length': String(length) });
    const signal = this.#closing.signal;
    try {
      switch (planned.transport?.kind) {
        case 'slowHeaders':
          await sleep(planned.transport.ms, undefined, { signal });
          res.writeHead(planned.status, headers(body.length)).end(body);
          return;
        case 'slowBody':
          res.writeHead(planned.status, headers(body.length));
          res.write(body.subarray(0, half));
          await sleep(planned.transport.ms, undefined, { signal });
          res.end(body.subarray(half));
          return;
        case 'truncated':
          // A complete HTTP message whose JSON stops half-way: the body itself is invalid.
          res.writeHead(planned.status, headers(half)).end(body.subarray(0, half));
          return;
        case 'reset':
          res.writeHead(planned.status, headers(body.length));
          // RST rather than FIN, so the client sees the connection reset mid-body (ECONNRESET).
          res.write(body.subarray(0, half), () => (res.socket ? res.socket.resetAndDestroy() : res.destroy()));
          return;
        default:
          res.writeHead(planned.status, headers(body.length)).end(body);
      }
    } catch (err) {
      if (signal.aborted) {
        res.destroy();
        return;
      }
      throw err;
    }
  }
}
