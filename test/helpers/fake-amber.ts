/**
 * The fake Amber server for one test, closed when the test finishes. Kept apart from `fake-amber/server.ts`,
 * which the `npm run fake-amber` CLI also loads outside vitest.
 */
import { onTestFinished } from 'vitest';
import { startFakeAmber, type FakeAmber, type FakeAmberOptions } from '../fake-amber/server.ts';

/**
 * Starts a fake Amber server for the running test, without rate limiting unless `options.rateLimit` asks
 * for it, and closes it when the test finishes (an `onTestFinished` hook: last in, first out, so what the
 * test starts against it afterwards is stopped first). Call inside a test.
 */
export async function fakeAmberForTest(options: FakeAmberOptions = {}): Promise<FakeAmber> {
  const fake = await startFakeAmber({ rateLimit: null, ...options });
  onTestFinished(() => fake.close());
  return fake;
}
