-- The read-only login Grafana uses (docker compose --profile grafana). Run by the compose service
-- grafana-db-role as the superuser before every Grafana start, so it is idempotent: it creates the role or
-- resets its password, and grants SELECT on every table and view, including those that later migrations
-- add (default privileges of the role that runs the migrations). It can read and nothing else: advisory
-- locks and temporary tables were taken away from every role but the collector's (sql/collector-role.sql).
--
-- The password comes from the connection's setting amber.grafana_password (compose passes it as
-- PGOPTIONS="-c amber.grafana_password=..."), so this file is plain SQL that needs no psql variables.
DO $$
DECLARE
  secret text := current_setting('amber.grafana_password', true);
BEGIN
  IF coalesce(secret, '') = '' THEN
    RAISE EXCEPTION 'set GRAFANA_DB_PASSWORD in .env (letters and digits only): Grafana''s database role uses it';
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'amber_grafana') THEN
    EXECUTE format('ALTER ROLE amber_grafana WITH LOGIN PASSWORD %L', secret);
  ELSE
    EXECUTE format('CREATE ROLE amber_grafana WITH LOGIN PASSWORD %L', secret);
  END IF;
END
$$;

-- Every session of the role is read-only, a runaway panel query is cut off, and so is a transaction left
-- open (its locks would hold up a migration).
ALTER ROLE amber_grafana SET default_transaction_read_only = on;
ALTER ROLE amber_grafana SET statement_timeout = '30s';
ALTER ROLE amber_grafana SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE amber_grafana NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 10;

GRANT USAGE ON SCHEMA public TO amber_grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO amber_grafana;
-- Tables later migrations add belong to the role that runs the migrations: the owner of schema_migrations,
-- or before the first migration the schema's owner (the collector's role under compose).
DO $$
BEGIN
  EXECUTE format(
    'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT ON TABLES TO amber_grafana',
    coalesce(
      (SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'schema_migrations'),
      (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public')
    )
  );
END
$$;
