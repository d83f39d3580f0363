/**
 * A webhook receiver on loopback HTTP for alert tests: records every request and answers each one as the
 * test says (accept, fail with a status, or hang until closed).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (throws for the ntfy format's plain text). */
  json(): Record<string, unknown>;
}

/** How to answer the n-th request (1-based): a status to send, or 'hang' to never answer. */
export type Answer = (n: number) => number | 'hang';

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook/<secret>`: the path carries a secret, like real webhook URLs. */
  url: string;
  secret: string;
  received: ReceivedRequest[];
  /** Sent as Retry-After with every 429 and 503 answer, when set. */
  retryAfterSeconds: number | null;
  /** Requests answered with a 2xx. */
  accepted(): ReceivedRequest[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(answer: Answer = () => 204): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const statuses: number[] = [];
  const hanging: ServerResponse[] = [];
  const secret = 'T0KEN-s3cret-abc123';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: () => JSON.parse(body) as Record<string, unknown> });
      const decision = answer(received.length);
      statuses.push(decision === 'hang' ? 0 : decision);
      if (decision === 'hang') {
        hanging.push(res);
        return;
      }
      const retryAfter = receiver.retryAfterSeconds !== null && (decision === 429 || decision === 503) ? { 'retry-after': String(receiver.retryAfterSeconds) } : {};
      res.writeHead(decision, { 'content-type': 'text/plain', ...retryAfter }).end(decision < 300 ? '' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hook/${secret}`,
    secret,
    received,
    retryAfterSeconds: null,
    accepted: () => received.filter((_, i) => (statuses[i] ?? 0) >= 200 && (statuses[i] ?? 0) < 300),
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`the receiver got ${received.length} requests, expected ${count}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => receiver.close());
  return receiver;
}
