/**
 * The fake Amber server in a process of its own (started by `fake-amber-process.ts`), so the time it
 * stamps on each request arrival is not held back by the collector's own work, as a remote API's would not
 * be. Options arrive as JSON in BENCH_FAKE_AMBER; the parent asks for the request log over IPC.
 */
import { startFakeAmber } from '../fake-amber/server.ts';
import type { FakeAmberProcessOptions, FakeAmberProcessMessage } from './fake-amber-process.ts';

const options = JSON.parse(process.env['BENCH_FAKE_AMBER'] ?? '{}') as FakeAmberProcessOptions;
const now = new Date(options.now);
const fake = await startFakeAmber({ sites: options.sites, rateLimit: options.rateLimit, now: () => now });

function send(message: FakeAmberProcessMessage): void {
  process.send?.(message);
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'requests') send({ type: 'requests', statuses: fake.requests.map((r) => r.status) });
});
// The parent going away (or closing the channel) is the signal to stop.
process.on('disconnect', () => {
  void fake.close().then(() => process.exit(0));
});
send({ type: 'ready', url: fake.url, apiKey: fake.apiKey });
