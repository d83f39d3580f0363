# Sourced by the postgres image's entrypoint when it initialises an empty volume (never again afterwards).
# The collector logs in as `amber`, a role that owns the database `amber` (and so its public schema) but is
# not a superuser: it can create and change its own tables, and cannot read server files or run programs.
# The superuser `postgres` keeps its own password (POSTGRES_PASSWORD), which the collector never sees.
if [ -z "${COLLECTOR_PASSWORD:-}" ]; then
  echo 'init-collector-role.sh: the Secret amber-postgres has no COLLECTOR_PASSWORD' >&2
  return 1
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set collector_password="$COLLECTOR_PASSWORD" <<'SQL'
CREATE ROLE amber LOGIN PASSWORD :'collector_password';
CREATE DATABASE amber OWNER amber;
REVOKE ALL ON DATABASE amber FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE amber TO amber;
SQL
