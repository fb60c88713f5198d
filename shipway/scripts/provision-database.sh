#!/usr/bin/env bash
# Provision one app's own database and login role in its environment's PostgreSQL, as the master user.
#
# Run by the app's "provision" one-off task (shipway/constructs/app_database.py) before each release, in the
# pinned postgres client image. Idempotent: it creates the role and the database only when they are missing,
# never drops anything, and sets the role's password from the app's secret each time (so a secret that was
# recreated or restored is applied again). After it, only the app's role (and the master, which administers
# every database) may connect to the app's database, and no app role may connect to the shared first database.
#
# Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD (the master's; libpq reads them), PGSSLMODE;
# APP_DATABASE, APP_ROLE, APP_PASSWORD (the app's, from its secret); SHARED_DATABASE (the instance's first
# database). Values reach SQL through psql variables (\getenv), quoted by psql: never through the command line.
set -euo pipefail

# Each named variable must be set and not empty: one line naming the first that is not.
require() {
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "provision: $name is not set" >&2
      return 2
    fi
  done
}

provision_sql() {
  cat <<'SQL'
\set ON_ERROR_STOP on
\getenv role APP_ROLE
\getenv database APP_DATABASE
\getenv password APP_PASSWORD
\getenv shared SHARED_DATABASE
\getenv master PGUSER

-- The role: it logs in and owns its database, nothing more (CREATE ROLE's defaults: no superuser, no
-- CREATEDB, no CREATEROLE, no replication).
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'password';

-- The master (not a superuser on RDS) may only give a database to a role it can act as: before PostgreSQL 16
-- a member, from 16 on a member WITH SET (its automatic ADMIN grant on a role it created has SET false).
SELECT format('GRANT %I TO %I', :'role', :'master')
 WHERE current_setting('server_version_num')::int < 160000 AND NOT pg_has_role(:'master', :'role', 'MEMBER')
\gexec
SELECT format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', :'role', :'master')
 WHERE current_setting('server_version_num')::int >= 160000
\gexec

-- The database, owned by the role (Heroku's model: the app creates its schemas, tables and extensions).
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'role')
\gexec

-- Nobody else connects: not other apps' roles, not PUBLIC. PUBLIC's CONNECT is the owner's grant, and a REVOKE
-- removes only the grants of the role it runs as: the owner's when the master inherits the owner's rights (a
-- member before 16), the master's own from 16 on (INHERIT FALSE), which leaves PUBLIC connected. So the app's
-- database is closed as its owner.
SET ROLE :"role";
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', :'database')
\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'database', :'role')
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'database', :'master')
\gexec
RESET ROLE;
-- The shared first database (the master's) goes the same way, so an app role never reaches what apps not yet
-- split keep there.
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
  FROM pg_database WHERE datname = :'shared' AND datname <> :'database'
\gexec
SQL
}

main() {
  require PGHOST PGUSER PGPASSWORD APP_DATABASE APP_ROLE APP_PASSWORD SHARED_DATABASE
  echo "provision: role ${APP_ROLE} and database ${APP_DATABASE} on ${PGHOST}, as ${PGUSER}"
  provision_sql | psql --no-psqlrc --quiet --dbname "${PGDATABASE:-postgres}" --file -
  echo "provision: done"
}

# Sourced, it only defines the functions; run as a file or by `bash -c` (the task's command), it provisions.
if [ "${BASH_SOURCE[0]:-$0}" = "$0" ]; then
  main "$@"
fi
