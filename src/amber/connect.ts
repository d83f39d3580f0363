/**
 * The one place a rate limiter and an Amber client are put together from the configured `amber` settings:
 * the daemon, the `backfill` command, the test harness and the bench all connect through here, so every
 * caller paces and retries the same way.
 */
import type { Config } from '../config/config.ts';
import { createAmberClient, type AmberClient, type AmberClientOptions } from './client.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** The client and the limiter that paces it; the collector asks the limiter for ETAs. */
export interface AmberConnection {
  client: AmberClient;
  limiter: RateLimiter;
}

/** What AMBER_* configures. */
export type AmberSettings = Pick<Config['amber'], 'baseUrl' | 'apiKey' | 'rateLimit' | 'requestTimeoutMs'>;

/** Everything about the client that is not configuration: its logger, observers and, in tests, injected time and transport. */
export type ConnectOptions = Omit<AmberClientOptions, 'baseUrl' | 'apiKey' | 'limiter' | 'requestTimeoutMs'>;

export function connectAmber(settings: AmberSettings, options: ConnectOptions): AmberConnection {
  const limiter = createRateLimiter({ policy: settings.rateLimit });
  const client = createAmberClient({ ...options, baseUrl: settings.baseUrl, apiKey: settings.apiKey, requestTimeoutMs: settings.requestTimeoutMs, limiter });
  return { client, limiter };
}
