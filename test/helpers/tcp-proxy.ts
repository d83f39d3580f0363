/**
 * A loopback TCP proxy to put between a process and PostgreSQL, so tests can break the database link
 * without touching the shared server: refuse new connections (a server that is down), cut every open
 * one (a restart, or a network drop), and delay every byte (a slow or distant database).
 */
import { createServer, Socket, type Server } from 'node:net';

export interface TcpProxy {
  /** The loopback port to connect to instead of the target's. */
  readonly port: number;
  /** Delays every chunk, in both directions, by `ms` (order is kept). 0 turns the delay off. */
  setLatencyMs(ms: number): void;
  /** Stops listening: new connections get ECONNREFUSED, as from a server that is down. Open ones stay. */
  refuse(): void;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  /** Resets every open connection at once (both sides), as a server restart or a network cut does. */
  cutAll(): void;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  targetPort: number;
  /** Default 127.0.0.1. */
  targetHost?: string;
  /** Default 0: an ephemeral port, kept across refuse() / accept(). */
  port?: number;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let latencyMs = 0;
  let server: Server | null = null;
  let port = options.port ?? 0;

  /** Forwards `from` to `to`, each chunk `latencyMs` late but never before the chunk ahead of it. */
  function pipeWithLatency(from: Socket, to: Socket): void {
    let lastDueAt = 0;
    from.on('data', (chunk: Buffer) => {
      if (latencyMs === 0 && lastDueAt <= Date.now()) {
        to.write(chunk);
        return;
      }
      lastDueAt = Math.max(Date.now() + latencyMs, lastDueAt);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, lastDueAt - Date.now());
    });
    from.on('end', () => {
      setTimeout(() => to.end(), Math.max(0, lastDueAt - Date.now()));
    });
  }

  function onConnection(client: Socket): void {
    const upstream = new Socket();
    const pair = { client, upstream };
    pairs.add(pair);
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    upstream.connect(options.targetPort, targetHost);
    pipeWithLatency(client, upstream);
    pipeWithLatency(upstream, client);
  }

  async function listen(): Promise<void> {
    const next = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    const address = next.address();
    if (address === null || typeof address === 'string') throw new Error('tcp-proxy: no TCP address');
    port = address.port;
    server = next;
  }

  function stopListening(): void {
    server?.close();
    server = null;
  }

  function cutAll(): void {
    for (const { client, upstream } of pairs) {
      // RST rather than FIN on both sides: what a killed server or a dropped link looks like.
      for (const socket of [client, upstream]) if (!socket.destroyed) socket.resetAndDestroy();
    }
    pairs.clear();
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get openConnections() {
      return pairs.size;
    },
    setLatencyMs(ms) {
      latencyMs = Math.max(0, ms);
    },
    refuse: stopListening,
    async accept() {
      if (server === null) await listen();
    },
    cutAll,
    async close() {
      stopListening();
      cutAll();
    },
  };
}
