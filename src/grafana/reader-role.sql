-- The read-only login Grafana uses (docker compose --profile grafana). Run by the compose service
-- grafana-db-role as the database owner before every Grafana start, so it is idempotent: it creates the
-- role or resets its password, and grants SELECT on every table and view, including those that later
-- migrations add (default privileges of the role that runs it, the owner that runs the migrations too).
--
-- The password comes from the connection's setting amber.grafana_password (compose passes it as
-- PGOPTIONS="-c amber.grafana_password=..."), so this file is plain SQL that needs no psql variables.
DO $$
DECLARE
  secret text := current_setting('amber.grafana_password', true);
BEGIN
  IF coalesce(secret, '') = '' THEN
    RAISE EXCEPTION 'set GRAFANA_ADMIN_PASSWORD in .env (letters and digits only): Grafana''s login and its database role use it';
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'amber_grafana') THEN
    EXECUTE format('ALTER ROLE amber_grafana WITH LOGIN PASSWORD %L', secret);
  ELSE
    EXECUTE format('CREATE ROLE amber_grafana WITH LOGIN PASSWORD %L', secret);
  END IF;
END
$$;

-- Every session of the role is read-only, and a runaway panel query is cut off.
ALTER ROLE amber_grafana SET default_transaction_read_only = on;
ALTER ROLE amber_grafana SET statement_timeout = '30s';
ALTER ROLE amber_grafana CONNECTION LIMIT 10;

GRANT USAGE ON SCHEMA public TO amber_grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO amber_grafana;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO amber_grafana;
