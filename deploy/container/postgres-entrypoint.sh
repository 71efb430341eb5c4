#!/bin/sh
# PostgreSQL 15 for the compose example: initializes an empty data directory
# (role and database `linebridge`, password from /run/secrets/pg-password,
# scram-sha-256 for network clients), then runs the server in the foreground.
set -eu
BIN=/usr/lib/postgresql/15/bin
DATA=/var/lib/postgresql/data
if [ ! -s "$DATA/PG_VERSION" ]; then
  "$BIN/initdb" -D "$DATA" -U postgres -A peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$DATA/pg_hba.conf"
  "$BIN/pg_ctl" -D "$DATA" -w -o "-c listen_addresses=''" start >/dev/null
  password=$(head -n 1 /run/secrets/pg-password)
  "$BIN/psql" -q -v ON_ERROR_STOP=1 -v pw="$password" -U postgres -d postgres <<'SQL'
CREATE ROLE linebridge LOGIN PASSWORD :'pw';
CREATE DATABASE linebridge OWNER linebridge;
SQL
  "$BIN/pg_ctl" -D "$DATA" -w stop >/dev/null
fi
exec "$BIN/postgres" -D "$DATA" -c listen_addresses='*'
