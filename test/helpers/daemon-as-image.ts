/**
 * The daemon started as the image starts it (the Dockerfile's node flags: a 128 MB heap) on a database of the
 * test's, its HTTP server listening: for what must hold under the production heap (the battery what-if's
 * memory test and bench). Nothing listens at its Amber address: the collector's calls fail and are retried;
 * the HTTP server is what is exercised.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startDaemon, type DaemonChild } from '../bench/daemon-child.ts';
import { daemonNodeFlags } from '../deploy/dockerfile.ts';

/** The image's CMD flags for node, as NODE_OPTIONS. */
export const IMAGE_NODE_OPTIONS = daemonNodeFlags(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).join(' ');

export async function startDaemonAsImage(entry: string, databaseUrl: string, historicalStartDate: string): Promise<{ daemon: DaemonChild; base: string }> {
  const port = await freePort();
  const daemon = await startDaemon(entry, {
    NODE_OPTIONS: IMAGE_NODE_OPTIONS,
    DATABASE_URL: databaseUrl,
    AMBER_API_KEY: 'psk_unused',
    AMBER_API_BASE_URL: 'http://127.0.0.1:9/v1',
    HISTORICAL_START_DATE: historicalStartDate,
    HTTP_PORT: String(port),
  });
  await daemon.waitForLog('HTTP server listening', 30_000).catch(async (err: unknown) => {
    await daemon.stop();
    throw err;
  });
  return { daemon, base: `http://127.0.0.1:${port}` };
}
