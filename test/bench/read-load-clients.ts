/**
 * The read-load clients, in a process of their own so their work (parsing megabytes of JSON) does not
 * share the daemon's event loop: `node read-load-clients.ts <base URL> <path> <clients> <duration ms>`.
 * Each client asks for `path` again and again, waiting as long as a 503's Retry-After asks; one more
 * asks /readyz every 250 ms. Prints one JSON object: status counts of both.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ClientTally {
  /** Read responses by status ("error" for a request that failed without one). */
  reads: Record<string, number>;
  readyz: Record<string, number>;
  /** Read responses whose 503 came without a Retry-After header. */
  unavailableWithoutRetryAfter: number;
}

const READYZ_EVERY_MS = 250;

async function main(): Promise<void> {
  const [base, path, clients, durationMs] = process.argv.slice(2);
  if (base === undefined || path === undefined) throw new Error('usage: read-load-clients.ts <base URL> <path> <clients> <duration ms>');
  const until = Date.now() + Number(durationMs);
  const tally: ClientTally = { reads: {}, readyz: {}, unavailableWithoutRetryAfter: 0 };
  const count = (into: Record<string, number>, key: string): void => {
    into[key] = (into[key] ?? 0) + 1;
  };

  const reader = async (): Promise<void> => {
    while (Date.now() < until) {
      try {
        const response = await fetch(`${base}${path}`);
        await response.arrayBuffer();
        count(tally.reads, String(response.status));
        if (response.status === 503 || response.status === 429) {
          const retryAfter = Number(response.headers.get('retry-after'));
          if (!(retryAfter > 0)) tally.unavailableWithoutRetryAfter += 1;
          await sleep(Math.min(Math.max(retryAfter, 0) * 1000, Math.max(0, until - Date.now())));
        }
      } catch {
        count(tally.reads, 'error');
      }
    }
  };
  const prober = async (): Promise<void> => {
    while (Date.now() < until) {
      const started = Date.now();
      try {
        const response = await fetch(`${base}/readyz`);
        await response.arrayBuffer();
        count(tally.readyz, String(response.status));
      } catch {
        count(tally.readyz, 'error');
      }
      await sleep(Math.max(0, READYZ_EVERY_MS - (Date.now() - started)));
    }
  };
  await Promise.all([prober(), ...Array.from({ length: Number(clients) }, reader)]);
  process.stdout.write(`${JSON.stringify(tally)}\n`);
}

await main();
