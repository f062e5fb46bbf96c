#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb into a temporary
# directory, listen on 127.0.0.1 at a free port, export
# CLAVIS_TEST_POSTGRES_URL, and stop and delete the cluster afterwards, even
# when the command fails. Without a PostgreSQL server installed, runs the
# command alone and says the PostgreSQL variants were skipped.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)}
if [[ -z "$PGBIN" || ! -x "$PGBIN/initdb" ]]; then
  echo "PostgreSQL server not installed: the PostgreSQL variants of the database tests were skipped."
  exec "$@"
fi

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PGROOT=$(mktemp -d /tmp/clavis-pg.XXXXXX)
chmod 755 "$PGROOT"
[[ $(id -u) -eq 0 ]] && chown postgres "$PGROOT"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap stop EXIT INT TERM

as_pg "$PGBIN/initdb" -D "$PGROOT/data" -A trust -U postgres --no-sync >/dev/null
PGOPTS="-c listen_addresses=127.0.0.1 -p $PORT -k $PGROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 30 -o "$PGOPTS" start >/dev/null
export CLAVIS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
# What a test needs to stop and start this cluster itself (the replica test
# takes PostgreSQL away under load): `pg_ctl -D "$CLAVIS_TEST_PGDATA" -o
# "$CLAVIS_TEST_PGOPTS" start`, run as the cluster's owner (postgres under root).
export CLAVIS_TEST_PGBIN="$PGBIN" CLAVIS_TEST_PGDATA="$PGROOT/data" CLAVIS_TEST_PGOPTS="$PGOPTS"
echo "==> throwaway PostgreSQL on 127.0.0.1:$PORT"
"$@"
