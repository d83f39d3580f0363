-- The collector's own login for docker compose: amber_collector, not a superuser, owner of the schema it
-- writes. Run by the compose service db-roles as the database's superuser before every collector start, so
-- it is idempotent, and it upgrades an existing volume by itself: tables, views, sequences and functions the
-- superuser created before this role existed are handed over to it, with their data.
--
-- It also takes away from every other role what could block the collector: the advisory-lock functions (a
-- reader that took the writer lock's key through a pooled connection stopped collection for hours),
-- temporary tables, and creating objects in the schema. A superuser keeps all of it.
--
-- The password comes from the connection's setting amber.collector_password (compose passes it as
-- PGOPTIONS="-c amber.collector_password=..."), so this file is plain SQL that needs no psql variables.
DO $$
DECLARE
  secret text := current_setting('amber.collector_password', true);
  attributes text := 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
BEGIN
  IF coalesce(secret, '') = '' THEN
    RAISE EXCEPTION 'set COLLECTOR_DB_PASSWORD in .env (letters and digits only): the collector''s database role uses it';
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'amber_collector') THEN
    EXECUTE format('ALTER ROLE amber_collector WITH %s PASSWORD %L', attributes, secret);
  ELSE
    EXECUTE format('CREATE ROLE amber_collector WITH %s PASSWORD %L', attributes, secret);
  END IF;
END
$$;

-- The collector owns the schema and everything in it. Tables first: their indexes and the sequences of
-- their serial columns follow them.
ALTER SCHEMA public OWNER TO amber_collector;
DO $$
DECLARE
  object record;
BEGIN
  FOR object IN
    SELECT c.oid::regclass AS name,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace
       AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
       AND c.relowner <> 'amber_collector'::regrole
       -- A sequence owned by a column moves with its table.
       AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
     ORDER BY c.relkind = 'S', c.relkind IN ('v', 'm')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO amber_collector', object.kind, object.name);
  END LOOP;
  FOR object IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'amber_collector'::regrole
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO amber_collector', object.name);
  END LOOP;
END
$$;

-- Only the collector may take advisory locks (the single-writer lock, the migration lock) in this database.
DO $$
DECLARE
  function regprocedure;
BEGIN
  FOR function IN SELECT oid::regprocedure FROM pg_proc WHERE proname ~ '^pg_(try_)?advisory_' LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', function);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO amber_collector', function);
  END LOOP;
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO amber_collector', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
