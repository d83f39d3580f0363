/**
 * `COPY … FROM STDIN` on node-postgres' own connection: how a restore loads its rows (db/restore-load.ts), and
 * the bench's write-path ceiling. node-postgres has no COPY API without pg-copy-streams, which this project
 * does not depend on, so `CopyIn` speaks the protocol itself: it is a pg "submittable" (what pg-copy-streams
 * is too) that answers the server's CopyInResponse by sending CopyData messages and CopyDone on the client's
 * connection, and resolves with the rows the server took.
 */
import type pg from 'pg';

/** COPY's text format: tab-separated columns, `\N` for null, backslash escapes for the separators. */
export function copyText(rows: ReadonlyArray<ReadonlyArray<string | null>>): string {
  const escape = (text: string) =>
    text.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch] ?? ch);
  let text = '';
  for (const row of rows) text += `${row.map((cell) => (cell === null ? '\\N' : escape(cell))).join('\t')}\n`;
  return text;
}

/** The protocol surface of pg's Connection that COPY FROM STDIN needs. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** Awaiting it resolves, with the rows copied, once the server has taken every row and is ready for the next query. */
export class CopyIn implements pg.Submittable, PromiseLike<number> {
  private readonly text: string;
  private readonly data: Buffer;
  private readonly done: Promise<number>;
  private rows = 0;
  private settle!: (err?: Error) => void;

  constructor(text: string, data: string) {
    this.text = text;
    this.data = Buffer.from(data, 'utf8');
    this.done = new Promise((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve(this.rows));
    });
  }

  submit(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    const chunkBytes = 1 << 20;
    for (let offset = 0; offset < this.data.length; offset += chunkBytes) {
      connection.sendCopyFromChunk(this.data.subarray(offset, offset + chunkBytes));
    }
    connection.endCopyFrom();
  }

  /** `COPY 2000`: the rows the server took. */
  handleCommandComplete(message: { text?: string }): void {
    this.rows = Number(/^COPY (\d+)/.exec(message.text ?? '')?.[1] ?? 0);
  }
  handleReadyForQuery(): void {
    this.settle();
  }
  handleError(err: Error): void {
    this.settle(err);
  }

  then<A = number, B = never>(
    onFulfilled?: ((value: number) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return this.done.then(onFulfilled, onRejected);
  }
}
