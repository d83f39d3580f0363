/**
 * The backup file format, version 1: a gzip stream (node:zlib) of UTF-8 lines, each one JSON value.
 *
 *   {"format":"amber-collector-backup","formatVersion":1,"createdAt":…,"schemaVersion":6,"migrations":[…],"serverVersion":…,"tables":[…]}
 *   {"table":"sites","columns":[{"name":"id","type":"text"},…]}      then one line per row:
 *   ["01HQ…","4103827719",…,null]                                   each column's PostgreSQL text form, or null
 *   {"tableEnd":"sites","rows":2}                                    … the same for every table, parents first
 *   {"sequences":[{"name":"alert_events_id_seq","lastValue":"7","isCalled":true}]}
 *   {"end":true,"rows":{"sites":2,…},"sha256":"…"}                   sha256 of every byte (uncompressed) before this line
 *
 * The last line is what makes a file whole: a truncated file lacks it, and a damaged one fails gzip's own CRC
 * or the sha256. Readers refuse an unknown `format` or a newer `formatVersion`.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { SequenceState, TableColumn } from '../db/backup-catalog.ts';
import type { Snapshot, TextRow } from '../db/backup-snapshot.ts';
import type { LoadEvent } from '../db/restore-load.ts';
import { CollectorError } from '../errors.ts';

const FORMAT = 'amber-collector-backup';
const FORMAT_VERSION = 1;
/** Bytes of lines gathered before they are handed on: few enough writes, bounded memory. */
const CHUNK_BYTES = 256 * 1024;
/** Rows per batch a reader hands out, and the text size at which a batch is handed out early. */
const BATCH_ROWS = 2000;
const BATCH_CHARS = 4 * 1024 * 1024;

export interface BackupHeader {
  format: typeof FORMAT;
  formatVersion: number;
  createdAt: string;
  schemaVersion: number;
  migrations: string[];
  serverVersion: string;
  tables: string[];
}

/** What a finished backup held. */
export interface BackupSummary {
  rows: Record<string, number>;
  sha256: string;
}

/** The file's content, uncompressed, as chunks of whole lines; `summary` is filled in once the last is out. */
export async function* encodeBackup(snapshot: Snapshot, createdAt: Date, summary: Partial<BackupSummary>): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const add = (value: unknown): Buffer | null => {
    const line = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
    hash.update(line);
    pending.push(line);
    pendingBytes += line.length;
    return pendingBytes >= CHUNK_BYTES ? flush() : null;
  };
  const flush = (): Buffer => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };
  const header: BackupHeader = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    createdAt: createdAt.toISOString(),
    schemaVersion: snapshot.schemaVersion,
    migrations: snapshot.migrations,
    serverVersion: snapshot.serverVersion,
    tables: snapshot.tables.map((table) => table.name),
  };
  add(header);
  const rows: Record<string, number> = {};
  for (const table of snapshot.tables) {
    add({ table: table.name, columns: table.columns });
    let count = 0;
    for await (const batch of snapshot.rows(table)) {
      for (const row of batch) {
        const chunk = add(row);
        if (chunk) yield chunk;
      }
      count += batch.length;
    }
    rows[table.name] = count;
    add({ tableEnd: table.name, rows: count });
  }
  add({ sequences: await snapshot.sequences() });
  const sha256 = hash.digest('hex');
  const trailer = Buffer.from(`${JSON.stringify({ end: true, rows, sha256 })}\n`, 'utf8');
  yield Buffer.concat([flush(), trailer]);
  summary.rows = rows;
  summary.sha256 = sha256;
}

/** What reading a backup yields, in file order; `end` comes only once the checksum and counts are verified. */
type BackupEvent = Exclude<LoadEvent, { kind: 'end' }> | { kind: 'end'; summary: BackupSummary };

export interface BackupReader {
  header: BackupHeader;
  events: AsyncGenerator<BackupEvent>;
}

/**
 * Reads the header of the gzip stream `input`, then hands out its content as events. Anything wrong (not
 * gzip, not this format, damaged, truncated, counts or checksum that disagree) throws BACKUP_INVALID naming
 * `file`, never later than the `end` event.
 */
export async function openBackup(input: Readable, file: string): Promise<BackupReader> {
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  const lines = createInterface({ input: input.pipe(gunzip), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const invalid = (message: string, cause?: unknown): CollectorError => {
    const text = `${file} is not a usable amber-collector backup: ${message}`;
    return new CollectorError('BACKUP_INVALID', text, { details: { file }, ...(cause === undefined ? {} : { cause }) });
  };
  const hash = createHash('sha256');
  const next = async (): Promise<string | null> => {
    let result: IteratorResult<string>;
    try {
      result = await lines.next();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('Z_')) throw invalid(`it is damaged or truncated (${(err as Error).message})`, err);
      throw err;
    }
    return result.done ? null : result.value;
  };
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line) as unknown;
    } catch (err) {
      throw invalid('it is damaged: a line is not JSON', err);
    }
  };
  const first = await next();
  if (first === null) throw invalid('it is empty or truncated before its header');
  const header = parse(first) as Partial<BackupHeader> | null;
  if (header?.format !== FORMAT) throw invalid('it does not start with an amber-collector backup header');
  if (typeof header.formatVersion !== 'number' || header.formatVersion > FORMAT_VERSION) {
    throw invalid(`it is format version ${String(header.formatVersion)}, newer than this amber-collector reads (${FORMAT_VERSION}): upgrade amber-collector`);
  }
  hash.update(`${first}\n`);
  return { header: header as BackupHeader, events: readEvents({ next, parse, invalid, hash, header: header as BackupHeader }) };
}

interface ReadState {
  next(): Promise<string | null>;
  parse(line: string): unknown;
  invalid(message: string, cause?: unknown): CollectorError;
  hash: ReturnType<typeof createHash>;
  header: BackupHeader;
}

async function* readEvents(state: ReadState): AsyncGenerator<BackupEvent> {
  const { invalid, hash } = state;
  const counted: Record<string, number> = {};
  let current: { name: string; columns: number; rows: TextRow[]; chars: number; count: number } | null = null;
  for (;;) {
    const line = await state.next();
    if (line === null) throw invalid('it is truncated: its last line (the checksum) is missing');
    const value = state.parse(line);
    if (Array.isArray(value)) {
      if (current === null) throw invalid('it is damaged: a row outside any table');
      if (value.length !== current.columns || !value.every((cell) => cell === null || typeof cell === 'string')) {
        throw invalid(`it is damaged: a row of ${current.name} does not match its columns`);
      }
      hash.update(`${line}\n`);
      current.rows.push(value as TextRow);
      current.chars += line.length;
      current.count += 1;
      if (current.rows.length >= BATCH_ROWS || current.chars >= BATCH_CHARS) {
        yield { kind: 'rows', table: current.name, rows: current.rows };
        current.rows = [];
        current.chars = 0;
      }
      continue;
    }
    const record = (value ?? {}) as Record<string, unknown>;
    if (record['end'] === true) {
      if (current !== null) throw invalid(`it is damaged: table ${current.name} has no end`);
      const sha256 = hash.digest('hex');
      if (record['sha256'] !== sha256) throw invalid(`it is damaged: its checksum does not match its content (sha256 ${sha256}, recorded ${String(record['sha256'])})`);
      const rows = record['rows'] as Record<string, number>;
      const expectedTables = state.header.tables;
      if (JSON.stringify(Object.keys(counted)) !== JSON.stringify(expectedTables) || expectedTables.some((name) => rows[name] !== counted[name])) {
        throw invalid('it is damaged: its tables or row counts disagree with its header and trailer');
      }
      if ((await state.next()) !== null) throw invalid('it is damaged: something follows its last line');
      yield { kind: 'end', summary: { rows: counted, sha256 } };
      return;
    }
    hash.update(`${line}\n`);
    if (typeof record['table'] === 'string' && Array.isArray(record['columns'])) {
      if (current !== null) throw invalid(`it is damaged: table ${current.name} has no end`);
      const columns = record['columns'] as TableColumn[];
      current = { name: record['table'], columns: columns.length, rows: [], chars: 0, count: 0 };
      yield { kind: 'table', name: record['table'], columns };
    } else if (typeof record['tableEnd'] === 'string') {
      if (current === null || current.name !== record['tableEnd']) throw invalid('it is damaged: a table ends that never began');
      if (record['rows'] !== current.count) throw invalid(`it is damaged: table ${current.name} records ${String(record['rows'])} rows but holds ${current.count}`);
      if (current.rows.length > 0) yield { kind: 'rows', table: current.name, rows: current.rows };
      counted[current.name] = current.count;
      yield { kind: 'tableEnd', table: current.name, rows: current.count };
      current = null;
    } else if (Array.isArray(record['sequences'])) {
      yield { kind: 'sequences', sequences: record['sequences'] as SequenceState[] };
    } else {
      throw invalid('it is damaged: a line of unknown kind');
    }
  }
}
