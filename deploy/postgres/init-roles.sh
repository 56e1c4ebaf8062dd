#!/bin/sh
# Runs once, when the postgres service initialises an empty volume (/docker-entrypoint-initdb.d).
# POSTGRES_USER (hearth) is the superuser that owns the schema and runs the migrations (DATABASE_MIGRATION_URL).
# The API logs in as hearth_api, a member of app_api only: the migrations grant app_api what the API may do
# (migration LeastPrivilegeApiRole); the API refuses to start in production if its login is a superuser,
# has BYPASSRLS or owns the tables. Every connection over the network must use TLS (hostssl).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v api_password="$HEARTH_API_PASSWORD" <<'SQL'
CREATE ROLE app_api NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE ROLE hearth_api LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'api_password';
GRANT app_api TO hearth_api;
SQL
sed -i 's/^host\(\s\+all\s\+all\s\+all\)/hostssl\1/' "$PGDATA/pg_hba.conf"
