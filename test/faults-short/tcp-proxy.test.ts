/**
 * The loopback TCP proxy the fault suite and the benchmarks put between a process and PostgreSQL: it must
 * pass a session through untouched, refuse and accept again on the same port, cut every connection, and
 * delay traffic.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { databaseForTest, type TestDatabase } from '../helpers/database.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

async function setup(): Promise<{ db: TestDatabase; proxy: TcpProxy; connect: () => Promise<pg.Client> }> {
  const db = await databaseForTest();
  const target = new URL(db.url);
  const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
  onTestFinished(() => proxy.close());
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: viaProxy.toString() });
    client.on('error', () => {});
    await client.connect();
    onTestFinished(() => client.end().catch(() => {}));
    return client;
  };
  return { db, proxy, connect };
}

describe('tcp-proxy', () => {
  it('passes a session through, refuses while told to, and accepts again on the same port', async () => {
    const { proxy, connect } = await setup();
    const client = await connect();
    expect((await client.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]!.n).toBe(42);
    expect(proxy.openConnections).toBe(1);

    const port = proxy.port;
    proxy.refuse();
    await expect(connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // An open session is not touched by a refusal.
    expect((await client.query('SELECT 1')).rowCount).toBe(1);
    await proxy.accept();
    expect(proxy.port).toBe(port);
    await connect();
  });

  it('cuts every open connection at once', async () => {
    const { proxy, connect } = await setup();
    const [a, b] = [await connect(), await connect()];
    proxy.cutAll();
    await expect(a.query('SELECT 1')).rejects.toThrow();
    await expect(b.query('SELECT 1')).rejects.toThrow();
    expect(proxy.openConnections).toBe(0);
    const c = await connect();
    expect((await c.query('SELECT 1')).rowCount).toBe(1);
  });

  it('delays traffic in both directions', async () => {
    const { proxy, connect } = await setup();
    const client = await connect();
    proxy.setLatencyMs(60);
    const started = performance.now();
    await client.query('SELECT 1');
    // One round trip crosses the proxy twice; it cannot be faster than that (no upper bound is asserted).
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 60 - 5);
    proxy.setLatencyMs(0);
    expect((await client.query('SELECT 2 AS n')).rows[0]!.n).toBe(2);
  });
});
