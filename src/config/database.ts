/**
 * DATABASE_URL, DATABASE_SSL and DATA_DIR: which PostgreSQL to use and how to talk TLS to it. Never echoes a
 * connection string, which carries the database password.
 */
import { Problem, problem, quote } from './fields.ts';

/** A PostgreSQL server to connect to: DATABASE_URL's, or the embedded one once it runs. */
export interface DatabaseConnection {
  /** The connection string without TLS parameters: `ssl` below is what pg uses. */
  url: string;
  ssl: false | { rejectUnauthorized: boolean };
}

/**
 * Where the data lives: the PostgreSQL at DATABASE_URL, or, without one, the embedded PostgreSQL that keeps its
 * cluster in DATA_DIR (src/embedded/database-server.ts starts it).
 */
export type DatabaseConfig = DatabaseConnection | { url: null; dataDir: string };

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];
/** URL parameters that configure TLS. They are removed so pg cannot override the explicit `ssl` object. */
const TLS_URL_PARAMS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslpassword', 'uselibpqcompat'];

/** The parsed DATABASE_URL, DATABASE_SSL and DATA_DIR. */
interface DatabaseVariables {
  DATABASE_URL: DatabaseUrl | null;
  DATABASE_SSL: 'disable' | 'require' | 'verify' | null;
  DATA_DIR: string;
}

interface DatabaseUrl {
  url: string;
  sslMode: SslMode | null;
}

export function databaseConfig(env: DatabaseVariables): DatabaseConfig {
  if (env.DATABASE_URL === null) return { url: null, dataDir: env.DATA_DIR };
  return { url: env.DATABASE_URL.url, ssl: sslFor(env.DATABASE_SSL ?? env.DATABASE_URL.sslMode) };
}

/**
 * libpq semantics, which node-postgres 8 does not follow (it treats `require` as verify-full, so a
 * self-signed hosted Postgres such as Railway's fails). No sslmode at all means plain TCP: pg cannot
 * fall back from TLS the way libpq's default `prefer` does, and local and compose databases have no TLS.
 */
function sslFor(mode: SslMode | 'verify' | null): DatabaseConnection['ssl'] {
  switch (mode) {
    case null:
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify':
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

/** Never echoes the value: it carries the database password. */
export function parseDatabaseUrl(raw: string): DatabaseUrl | Problem {
  const url = URL.parse(raw);
  if (url === null || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    return problem('expected a postgres:// or postgresql:// URL (the value is not shown: it may contain a password)');
  }
  // pg decodes these parts itself and throws a bare URIError on a stray `%`.
  const undecodable = (['username', 'password', 'pathname'] as const).filter((part) => !decodes(url[part]));
  if (undecodable.length > 0) {
    const names = undecodable.map((part) => ({ username: 'user name', password: 'password', pathname: 'database name' })[part]);
    return problem(`the ${names.join(' and ')} contain${names.length === 1 ? 's' : ''} a % that does not start a valid escape such as %25 (the value is not shown: it may contain a password)`);
  }
  const sslMode = sslModeOf(url.searchParams);
  if (sslMode instanceof Problem) return sslMode;
  for (const param of TLS_URL_PARAMS) url.searchParams.delete(param);
  return { url: url.toString(), sslMode };
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function sslModeOf(params: URLSearchParams): SslMode | null | Problem {
  const mode = params.get('sslmode');
  if (mode !== null) {
    return (SSL_MODES as readonly string[]).includes(mode)
      ? (mode as SslMode)
      : problem(`sslmode must be one of ${SSL_MODES.join(', ')}, got ${quote(mode)}`);
  }
  // pg's own `ssl=true` spelling means "TLS with verification"; keep that meaning.
  const ssl = params.get('ssl');
  if (ssl === null) return null;
  return ['true', '1'].includes(ssl) ? 'verify-full' : 'disable';
}
