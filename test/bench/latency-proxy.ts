/**
 * A loopback TCP proxy that delays every byte by a fixed time in each direction, as a database across the
 * internet would. Each direction is one FIFO drained by a single timer, so the delay never reorders bytes,
 * whatever the timer granularity (one setTimeout per chunk can: two chunks a millisecond apart may get
 * delays of 25 and 24 ms and fire in the wrong order, corrupting the stream).
 */
import { createServer, Socket, type Server } from 'node:net';

export interface LatencyProxy {
  /** The loopback port to connect to instead of the target's. */
  readonly port: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(options: { targetHost: string; targetPort: number; oneWayMs: number }): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    for (const socket of [client, upstream]) {
      // Like pg's own socket: a small write goes at once instead of waiting for the last one's ACK.
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.connect(options.targetPort, options.targetHost);
    delayedPipe(client, upstream, options.oneWayMs);
    delayedPipe(upstream, client, options.oneWayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('latency proxy: no TCP address');
  return {
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Forwards `from` to `to`, every chunk `delayMs` after it arrived, in arrival order; ends `to` likewise. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: Array<{ dueAt: number; chunk: Buffer }> = [];
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const drain = (): void => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.dueAt <= now) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.dueAt - now);
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ dueAt: performance.now() + delayMs, chunk });
    timer ??= setTimeout(drain, delayMs);
  });
  from.on('end', () => {
    ended = true;
    timer ??= setTimeout(drain, 0);
  });
}
