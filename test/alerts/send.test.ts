/**
 * One delivery against hostile loopback receivers: one that answers 200 and then streams its body forever
 * (only a few KB may be read, in bounded time and memory), one that trickles its body, and targets with
 * credentials in the URL, which must arrive as HTTP Basic auth and never appear in what is logged, even
 * when the receiver echoes the request back.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { sendAlert } from '../../src/alerts/send.ts';
import { minimalAlert } from '../helpers/alerts.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

const ALERT = minimalAlert('event-1', 'forecast');

/** A loopback server answering every request with `handle`; closed when the test finishes. */
async function startServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/s3cret`;
}

describe('sending one alert', () => {
  it('reads only the start of a 200 answer whose body never ends, and closes the connection', async () => {
    const stream = { bytes: 0, closed: false };
    const url = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) stream.bytes += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => (stream.closed = true));
      pump();
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const outcome = await sendAlert(ALERT, { url, format: 'json' }, { timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(outcome.detail).toMatch(/^HTTP 200: x{200}$/);
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect.poll(() => stream.closed, { timeout: 2_000 }).toBe(true);
    // What the receiver managed to push is bounded by the socket buffers, not by its patience.
    expect(stream.bytes).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
  });

  it('gives up on a body that trickles at the attempt deadline', async () => {
    const url = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const started = performance.now();
    const outcome = await sendAlert(ALERT, { url, format: 'json' }, { timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, retryable: true, detail: 'no answer within 300 ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('sends credentials in the URL as HTTP Basic auth, for json and ntfy, and keeps them out of its account', async () => {
    const receiver = await startWebhookReceiver();
    const withCredentials = receiver.url.replace('http://', 'http://alice:p%40ss-W0rd@');
    for (const format of ['json', 'ntfy'] as const) {
      const outcome = await sendAlert(ALERT, { url: withCredentials, format }, { timeoutMs: 2_000 });
      expect(outcome.ok).toBe(true);
    }
    expect(receiver.received).toHaveLength(2);
    for (const request of receiver.received) {
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from('alice:p@ss-W0rd').toString('base64')}`);
      expect(request.path).toBe(new URL(receiver.url).pathname);
    }
    // Without credentials, no Authorization header at all.
    await sendAlert(ALERT, { url: receiver.url, format: 'json' }, { timeoutMs: 2_000 });
    expect(receiver.received[2]!.headers.authorization).toBeUndefined();

    // A receiver that refuses and echoes the request's headers back: the account shows neither form of the password.
    const echo = await startServer((req, res) => res.writeHead(401).end(`denied: ${req.headers.authorization ?? ''} ${req.url ?? ''}`));
    const refused = await sendAlert(ALERT, { url: echo.replace('http://', 'http://alice:p%40ss-W0rd@'), format: 'ntfy' }, { timeoutMs: 2_000 });
    expect(refused).toMatchObject({ ok: false, status: 401, retryable: false });
    expect(refused.detail).toMatch(/^HTTP 401: denied: Basic …/);
    for (const secret of ['p@ss-W0rd', 'p%40ss-W0rd', Buffer.from('alice:p@ss-W0rd').toString('base64'), 's3cret']) expect(refused.detail).not.toContain(secret);
  });
});
