/**
 * Starts the fake Amber server as a child process (see `fake-amber-child.ts`) and talks to it over IPC.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FakeSiteSpec, RateLimitPolicy } from '../fake-amber/server.ts';

export interface FakeAmberProcessOptions {
  sites: FakeSiteSpec[];
  rateLimit: RateLimitPolicy | null;
  /** The data clock, pinned: an ISO instant. */
  now: string;
}

export type FakeAmberProcessMessage =
  | { type: 'ready'; url: string; apiKey: string }
  | { type: 'requests'; statuses: number[] };

export interface FakeAmberProcess {
  url: string;
  apiKey: string;
  /** The status of every request so far, in arrival order. */
  statuses(): Promise<number[]>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./fake-amber-child.ts', import.meta.url));

export async function startFakeAmberProcess(options: FakeAmberProcessOptions): Promise<FakeAmberProcess> {
  const child = fork(CHILD, [], { env: { ...process.env, BENCH_FAKE_AMBER: JSON.stringify(options) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const next = async <T extends FakeAmberProcessMessage['type']>(type: T) => {
    for (;;) {
      const [message] = (await Promise.race([once(child, 'message'), exited.then(() => { throw new Error('the fake Amber process exited'); })])) as [FakeAmberProcessMessage];
      if (message.type === type) return message as Extract<FakeAmberProcessMessage, { type: T }>;
    }
  };
  const ready = await next('ready');
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    async statuses() {
      const reply = next('requests');
      child.send({ type: 'requests' });
      return (await reply).statuses;
    },
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}
