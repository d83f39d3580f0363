/**
 * A stand-in for Home Assistant's long-term statistics, since Home Assistant cannot be installed where the tests
 * run. It reproduces the rules of its source that a statistics importer meets:
 * - `GET /api/` answers 200 to a valid bearer token and 401 otherwise (`homeassistant/components/api`);
 * - the websocket handshake (`websocket_api/auth.py`): `auth_required`, then `auth` within 10 s, then `auth_ok` or
 *   `auth_invalid` and a close; every later message needs an integer `id` greater than the last (`id_reuse`);
 *   `ping` gets `pong`;
 * - `recorder/import_statistics` (`recorder/websocket_api.py`, `statistics.py`): administrators only
 *   (`unauthorized`); the schema with extra keys refused (`invalid_format`); an external id matching
 *   `source:object` with `source` equal to its prefix (`Invalid statistic_id`, `Invalid source`); every `start`
 *   with an offset (`Naive timestamp`) and at minute 0 (`Invalid timestamp`); rows replaced by (statistic, hour);
 *   the answer comes before the write, which lands `writeDelayMs` later (the recorder's queue);
 * - `recorder/statistics_during_period`: rows of the hours in [start_time, end_time), `start`/`end` in epoch ms.
 * `restart()` drops every connection and every write still queued, as a restart of Home Assistant does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const EXTERNAL_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_):(?!_)[\da-z_]+(?<!_)$/;
const METADATA_KEYS = new Set(['has_mean', 'has_sum', 'mean_type', 'name', 'source', 'statistic_id', 'unit_class', 'unit_of_measurement']);
const REQUIRED_METADATA = ['has_sum', 'name', 'source', 'statistic_id', 'unit_of_measurement', 'mean_type', 'unit_class'];
const STAT_KEYS = new Set(['start', 'mean', 'min', 'max', 'last_reset', 'state', 'sum']);

export interface StoredRow {
  startMs: number;
  state?: number;
  sum?: number;
  mean?: number;
  min?: number;
  max?: number;
}

export interface StandIn {
  url: string;
  /** statistic id → metadata, and its rows by hour (epoch ms). */
  metadata: Map<string, Record<string, unknown>>;
  rows: Map<string, Map<number, StoredRow>>;
  /** Every import command received, as sent. */
  imports: Array<Record<string, unknown>>;
  /** Drops connections and queued writes, and refuses connections for `downMs`. */
  restart(downMs?: number): Promise<void>;
  /** Called before each import is answered: a test may restart Home Assistant mid-import. */
  onImport: ((count: number) => Promise<void> | void) | null;
  close(): Promise<void>;
}

export async function startStandIn(options: { tokens: Record<string, { admin: boolean }>; writeDelayMs?: number }): Promise<StandIn> {
  const metadata = new Map<string, Record<string, unknown>>();
  const rows = new Map<string, Map<number, StoredRow>>();
  const imports: Array<Record<string, unknown>> = [];
  const queued = new Set<NodeJS.Timeout>();
  let down = false;
  const http: Server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (down) return void res.destroy();
    if (req.url === '/api/' && req.method === 'GET') {
      const ok = token !== undefined && token in options.tokens;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(ok ? { message: 'API running.' } : { message: 'Unauthorized' }));
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    if (down || req.url !== '/api/websocket') return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => session(ws));
  });

  const standIn: StandIn = {
    url: '',
    metadata,
    rows,
    imports,
    onImport: null,
    async restart(downMs = 300) {
      down = true;
      for (const timer of queued) clearTimeout(timer);
      queued.clear();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      down = false;
    },
    async close() {
      for (const timer of queued) clearTimeout(timer);
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(() => resolve(undefined)));
      await new Promise((resolve) => http.close(() => resolve(undefined)));
    },
  };

  function session(ws: WebSocket): void {
    let admin: boolean | null = null;
    let lastId = 0;
    const send = (message: unknown) => ws.send(JSON.stringify(message));
    const authTimer = setTimeout(() => ws.close(), 10_000);
    send({ type: 'auth_required', ha_version: '2026.12.0' });
    ws.on('message', async (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return void ws.close();
      }
      if (admin === null) {
        clearTimeout(authTimer);
        const user = message['type'] === 'auth' ? options.tokens[String(message['access_token'])] : undefined;
        if (!user) {
          send({ type: 'auth_invalid', message: 'Invalid access token or password' });
          return void ws.close();
        }
        admin = user.admin;
        return send({ type: 'auth_ok', ha_version: '2026.12.0' });
      }
      const id = message['id'];
      const error = (code: string, text: string) => send({ id, type: 'result', success: false, error: { code, message: text } });
      if (typeof id !== 'number' || !Number.isInteger(id)) return error('invalid_format', 'Message incorrectly formatted.');
      if (id <= lastId) return error('id_reuse', 'Identifier values have to increase.');
      lastId = id;
      if (message['type'] === 'ping') return send({ id, type: 'pong' });
      if (message['type'] === 'recorder/import_statistics') {
        if (!admin) return error('unauthorized', 'Unauthorized');
        const problem = importProblem(message);
        if (problem) return error(problem.code, problem.message);
        imports.push(message);
        await standIn.onImport?.(imports.length);
        if (ws.readyState !== ws.OPEN) return;
        const meta = message['metadata'] as Record<string, unknown>;
        const stats = message['stats'] as Array<Record<string, unknown>>;
        const timer = setTimeout(() => {
          queued.delete(timer);
          const statisticId = String(meta['statistic_id']);
          metadata.set(statisticId, meta);
          const held = rows.get(statisticId) ?? new Map<number, StoredRow>();
          for (const stat of stats) {
            const startMs = Date.parse(String(stat['start']));
            const row: StoredRow = { startMs };
            for (const key of ['state', 'sum', 'mean', 'min', 'max'] as const) if (typeof stat[key] === 'number') row[key] = stat[key];
            held.set(startMs, row);
          }
          rows.set(statisticId, held);
        }, options.writeDelayMs ?? 150);
        queued.add(timer);
        return send({ id, type: 'result', success: true, result: null });
      }
      if (message['type'] === 'recorder/statistics_during_period') {
        const from = Date.parse(String(message['start_time']));
        const to = message['end_time'] === undefined ? Infinity : Date.parse(String(message['end_time']));
        const types = (message['types'] as string[] | undefined) ?? ['state', 'sum', 'mean', 'min', 'max'];
        const result: Record<string, unknown[]> = {};
        for (const statisticId of message['statistic_ids'] as string[]) {
          const found = [...(rows.get(statisticId)?.values() ?? [])].filter((r) => r.startMs >= from && r.startMs < to).sort((a, b) => a.startMs - b.startMs);
          if (found.length === 0) continue;
          result[statisticId] = found.map((r) => ({ start: r.startMs, end: r.startMs + 3_600_000, ...Object.fromEntries(types.filter((t) => t in r).map((t) => [t, r[t as keyof StoredRow]])) }));
        }
        return send({ id, type: 'result', success: true, result });
      }
      return error('unknown_command', 'Unknown command.');
    });
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return standIn;
}

function importProblem(message: Record<string, unknown>): { code: string; message: string } | null {
  const invalid = (text: string) => ({ code: 'invalid_format', message: text });
  const extra = Object.keys(message).filter((key) => !['id', 'type', 'metadata', 'stats'].includes(key));
  if (extra.length > 0) return invalid(`extra keys not allowed @ data['${extra[0]}']`);
  const meta = message['metadata'];
  if (typeof meta !== 'object' || meta === null) return invalid("required key not provided @ data['metadata']");
  const metaKeys = Object.keys(meta);
  const unknown = metaKeys.find((key) => !METADATA_KEYS.has(key));
  if (unknown) return invalid(`extra keys not allowed @ data['metadata']['${unknown}']`);
  const missing = REQUIRED_METADATA.find((key) => !(key in meta));
  if (missing) return invalid(`required key not provided @ data['metadata']['${missing}']`);
  const m = meta as Record<string, unknown>;
  if (typeof m['has_sum'] !== 'boolean' || ![0, 1, 2].includes(m['mean_type'] as number)) return invalid('invalid has_sum or mean_type');
  const statisticId = String(m['statistic_id']);
  if (!EXTERNAL_ID.test(statisticId)) return { code: 'home_assistant_error', message: 'Invalid statistic_id' };
  if (statisticId.split(':')[0] !== m['source']) return { code: 'home_assistant_error', message: 'Invalid source' };
  const stats = message['stats'];
  if (!Array.isArray(stats)) return invalid("required key not provided @ data['stats']");
  for (const stat of stats as Array<Record<string, unknown>>) {
    const extraStat = Object.keys(stat).find((key) => !STAT_KEYS.has(key));
    if (extraStat) return invalid(`extra keys not allowed @ data['stats'][0]['${extraStat}']`);
    const start = String(stat['start']);
    if (!/(Z|[+-]\d\d:\d\d)$/.test(start) || Number.isNaN(Date.parse(start))) return { code: 'home_assistant_error', message: 'Naive timestamp' };
    if (!/T\d\d:00:00(\.0+)?(Z|[+-]\d\d:\d\d)$/.test(start)) return { code: 'home_assistant_error', message: 'Invalid timestamp' };
    for (const key of ['mean', 'min', 'max', 'state', 'sum'] as const) if (key in stat && typeof stat[key] !== 'number') return invalid(`expected float @ data['stats'][0]['${key}']`);
  }
  return null;
}
