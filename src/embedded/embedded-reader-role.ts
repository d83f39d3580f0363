/**
 * The embedded PostgreSQL's read-only login, `amber_query`, for the `query` commands: what compose's
 * amber_grafana is (grafana/reader-role.sql), so a statement typed into `query sql` cannot run a program
 * (`COPY … TO PROGRAM`), read the server's files (`pg_read_file`), stop the collector's connections
 * (`pg_terminate_backend`), take its advisory locks or write anything. Set up again at every start of the
 * server and every command that uses it, so a DATA_DIR from before this role existed gets it too.
 *
 * Its password is derived from the superuser's (an HMAC), so it needs no file of its own and every process
 * on the DATA_DIR computes the same one; knowing it tells nothing about the superuser's.
 */
import { createHmac } from 'node:crypto';
import pg from 'pg';

export const READER_ROLE = 'amber_query';

/** Any number the writer lock and migrations do not use: it serialises concurrent set-ups of the role. */
const SETUP_LOCK_KEY = 7_273_101;

export function readerPassword(superuserPassword: string): string {
  return createHmac('sha256', superuserPassword).update(READER_ROLE).digest('base64url');
}

/** Creates or updates the role in the database `superuserUrl` names, idempotently. */
export async function ensureReaderRole(superuserUrl: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    // Two commands starting at once would otherwise both ALTER the role ("tuple concurrently updated").
    await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK_KEY]);
    await client.query(`SELECT set_config('amber.query_password', $1, true)`, [password]);
    await client.query(ROLE_SQL);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

const ROLE_SQL = `
DO $$
DECLARE
  secret text := current_setting('amber.query_password');
  attributes text := 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 10';
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${READER_ROLE}') THEN
    EXECUTE format('ALTER ROLE ${READER_ROLE} WITH %s PASSWORD %L', attributes, secret);
  ELSE
    EXECUTE format('CREATE ROLE ${READER_ROLE} WITH %s PASSWORD %L', attributes, secret);
  END IF;
END
$$;
-- Read-only whatever the statement asks; a runaway query or a forgotten transaction is cut off.
ALTER ROLE ${READER_ROLE} SET default_transaction_read_only = on;
ALTER ROLE ${READER_ROLE} SET idle_in_transaction_session_timeout = '60s';
GRANT USAGE ON SCHEMA public TO ${READER_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READER_ROLE};
-- Tables later migrations add: they run as the superuser, postgres.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO ${READER_ROLE};
-- As under compose (sql/collector-role.sql): only the collector (here the superuser) takes advisory
-- locks or makes temporary tables in this database.
DO $$
DECLARE
  function regprocedure;
BEGIN
  FOR function IN SELECT oid::regprocedure FROM pg_proc WHERE proname ~ '^pg_(try_)?advisory_' LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', function);
  END LOOP;
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
`;
