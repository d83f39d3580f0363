/**
 * A real HTTP server on 127.0.0.1, port 0, scripted per test: the precise statuses, headers, stalls and
 * socket resets the client must survive. Every request is recorded with its arrival time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as sent, e.g. `/v1/sites/abc/prices?startDate=…`. */
  url: string;
  headers: IncomingMessage['headers'];
  /** `performance.now()` when the request arrived. */
  at: number;
}

export interface Loopback {
  /** `http://127.0.0.1:<port>/v1`: what the client takes as its base URL. */
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** `handler` gets the request's 0-based index; leaving the response unfinished simulates a stall. */
export type LoopbackHandler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export async function startLoopback(handler: LoopbackHandler): Promise<Loopback> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const index = requests.length;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: performance.now() });
    handler(req, res, index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
