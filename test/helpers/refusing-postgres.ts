/**
 * A loopback server that speaks just enough of the PostgreSQL protocol to refuse every login with a chosen
 * SQLSTATE, as a server with password authentication does when DATABASE_URL has the wrong password (the
 * shared test server trusts every local login, so it cannot produce 28P01 itself).
 */
import { createServer } from 'node:net';

export interface RefusingPostgres {
  url: string;
  close(): Promise<void>;
}

/** The SSLRequest code: the client asks for TLS before the startup message. */
const SSL_REQUEST = 80877103;

export async function startRefusingPostgres(code = '28P01', message = 'password authentication failed for user "collector"'): Promise<RefusingPostgres> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (chunk.length === 8 && chunk.readInt32BE(4) === SSL_REQUEST) {
        socket.write('N');
        return;
      }
      const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
      const length = Buffer.alloc(4);
      length.writeInt32BE(fields.length + 4);
      socket.end(Buffer.concat([Buffer.from('E'), length, fields]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `postgres://collector:hunter2@127.0.0.1:${port}/collector`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
