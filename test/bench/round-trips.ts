/**
 * Counts round trips to the database by watching each pooled connection's socket: a round trip starts
 * whenever the client writes after it has heard from the server (or for the first time). Statements sent
 * together (pipelined) share one round trip, exactly what a distant database charges for.
 */
import type { Duplex } from 'node:stream';
import type pg from 'pg';

interface SocketState {
  roundTrips: number;
  awaitingReply: boolean;
}

export class RoundTripCounter {
  private readonly sockets = new WeakMap<Duplex, SocketState>();

  /** Watches every connection `pool` opens from now on (open ones are not watched: attach before use). */
  attach(pool: pg.Pool): void {
    pool.on('connect', (client) => this.watch(client.connection.stream));
  }

  /** Round trips so far on the connection `client` uses. */
  of(client: pg.PoolClient): number {
    return this.sockets.get(client.connection.stream)?.roundTrips ?? 0;
  }

  private watch(socket: Duplex): void {
    const state: SocketState = { roundTrips: 0, awaitingReply: false };
    this.sockets.set(socket, state);
    socket.on('data', () => {
      state.awaitingReply = false;
    });
    // Wrapping this one socket's write is the least intrusive way to see what the client sends and when.
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      if (!state.awaitingReply) {
        state.roundTrips += 1;
        state.awaitingReply = true;
      }
      return write(...args);
    }) as Duplex['write'];
  }
}

export interface Session {
  roundTrips: number;
  ms: number;
}

/**
 * Measures every checkout of `pool` (a transaction, or a single `pool.query`): round trips and time from
 * checkout to release. `lastReleased()` is the session that ended most recently.
 */
export class SessionRecorder {
  private readonly open = new Map<pg.PoolClient, { roundTrips: number; startedAt: number }>();
  private last: Session | null = null;

  constructor(pool: pg.Pool, counter: RoundTripCounter) {
    pool.on('acquire', (client) => this.open.set(client, { roundTrips: counter.of(client), startedAt: performance.now() }));
    pool.on('release', (_err, client) => {
      const started = this.open.get(client);
      if (started === undefined) return;
      this.open.delete(client);
      this.last = { roundTrips: counter.of(client) - started.roundTrips, ms: performance.now() - started.startedAt };
    });
  }

  lastReleased(): Session | null {
    return this.last;
  }
}
