#!/usr/bin/env bash
# Two `clavis serve` replicas on one database of the throwaway PostgreSQL,
# behind HAProxy with health checks on /readyz, driven by
# scripts/replicas_test.py: a delete through one replica is refused through
# the balancer within a second, `kill -9` of a replica under load fails no
# request once HAProxy has marked it down, a PostgreSQL restart under load
# answers only 200 or 503 and full service follows without restarting
# Clavis, and no replica panics. Exits non-zero on any failed assertion.
#
# Usage: scripts/with-postgres.sh scripts/replicas-test.sh
# Needs target/debug/clavis (cargo build -p server; `make test` builds it
# first) and haproxy (scripts/setup.sh --replicas).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${CLAVIS_BIN:-target/debug/clavis}
if [[ ! -x $binary ]]; then
  echo "$binary is missing: build it with cargo build -p server" >&2
  exit 1
fi
if [[ -z ${CLAVIS_TEST_POSTGRES_URL:-} || -z ${CLAVIS_TEST_PGDATA:-} ]]; then
  echo "no throwaway PostgreSQL (run under scripts/with-postgres.sh with a PostgreSQL server installed): the replica test was skipped."
  exit 0
fi
if ! command -v haproxy >/dev/null 2>&1; then
  echo "haproxy is missing: scripts/setup.sh --replicas installs it" >&2
  exit 1
fi

work=$(mktemp -d /tmp/clavis-replicas.XXXXXX)
stop() {
  # The driver stops what it started; should it die first (killed, crashed),
  # every process it recorded and has not reaped is ended here.
  local pidfile
  for pidfile in "$work"/pids/*.pid; do
    [[ -e $pidfile ]] && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "==> two replicas behind HAProxy on the throwaway PostgreSQL"
CLAVIS_BIN=$binary REPLICAS_WORK=$work python3 scripts/replicas_test.py
