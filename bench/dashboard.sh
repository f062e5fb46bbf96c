#!/usr/bin/env bash
# Dashboard benchmark: how long the server takes to render the Applications
# page of a tenant holding 10,000 applications.
#
#   bench/dashboard.sh
#
# It starts Clavis on a fresh SQLite data directory, creates a tenant with
# the CLI, bulk-inserts the applications (and one current secret each) with
# sqlite3, signs in as the bootstrap operator, and times with curl:
#
#   page        GET /t/{tenant}/applications — the whole server-rendered page
#               (session, membership check, first page of 50, count, HTML)
#   list        POST /api/list_applications — the first page alone, as the
#               browser's "filter" and "load more" ask for it
#   deep page   the same, with a cursor 9,950 rows down (keyset pagination)
#   filter      the same, filtered by a name fragment (a scan of the tenant)
#
# and prints min / median / p95 / max in milliseconds, plus SQLite's query
# plan for the first page, which must use idx_applications_tenant_created.
#
# Settings (environment):
#   DASHBOARD_APPS=10000      applications to seed
#   DASHBOARD_RUNS=50         timed requests per case (after 5 warm-up ones)
#   DASHBOARD_PROFILE=release cargo profile of the clavis binary (or debug)
#   DASHBOARD_SKIP_BUILD=1    use the existing binary
#   DASHBOARD_TARGET_MS=100   the target for the page's median; exits 1 when
#                             DASHBOARD_ENFORCE=1 and it is missed
#   DASHBOARD_KEEP=1          keep the temporary data directory
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
APPS=${DASHBOARD_APPS:-10000}
RUNS=${DASHBOARD_RUNS:-50}
PROFILE=${DASHBOARD_PROFILE:-release}
TARGET_MS=${DASHBOARD_TARGET_MS:-100}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/clavis

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/dashboard.sh: %s\n' "$*" >&2; exit 1; }

for tool in curl sqlite3 python3 awk; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install $tool)"
done

if [[ ${DASHBOARD_SKIP_BUILD:-0} != 1 ]]; then
  say "building Clavis ($PROFILE)"
  if [[ $PROFILE == release ]]; then
    (cd "$ROOT" && cargo build --release -p server)
  else
    (cd "$ROOT" && cargo build -p server)
  fi
fi
[[ -x $BIN ]] || die "no clavis binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clavis-dashboard-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${DASHBOARD_KEEP:-0} == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE=http://127.0.0.1:$PORT
DATA=$WORK/data
DB=$DATA/clavis.db
mkdir -p "$DATA"
CLAVIS=(env -u CLAVIS_DATABASE_URL -u CLAVIS_MASTER_KEY CLAVIS_DATA_DIR="$DATA" CLAVIS_ADDR="127.0.0.1:$PORT"
  CLAVIS_PUBLIC_URL="$BASE" LEPTOS_SITE_ROOT="$ROOT/target/site" RUST_LOG=warn)

say "starting Clavis on $BASE"
"${CLAVIS[@]}" "$BIN" serve >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 150); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && grep -q 'password:' "$WORK/server.out" && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "clavis exited: $(cat "$WORK/server.err")"
  sleep 0.2
done
EMAIL=$(awk '/email:/ { print $2; exit }' "$WORK/server.out")
PASSWORD=$(awk '/password:/ { print $2; exit }' "$WORK/server.out")
[[ -n $EMAIL && -n $PASSWORD ]] || die "no bootstrap credentials in the server's output"

TENANT=$("${CLAVIS[@]}" "$BIN" tenant create --name "Bench $APPS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tenantId"])')

say "seeding $APPS applications into tenant $TENANT"
# One statement per table over a recursive counter: seconds, not minutes.
# Creation times are one second apart, newest first, like a busy tenant's.
# The sealed secrets are placeholders: this benchmark never reveals one.
seed_start=$(date +%s.%N)
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
CREATE TEMP TABLE seed AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $APPS)
  SELECT i,
         lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
               || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) AS client_id,
         lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
               || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) AS secret_id,
         CAST(strftime('%s', 'now') AS INTEGER) - $APPS + i AS created_at
  FROM n;
INSERT INTO applications (client_id, tenant_id, name, management_access, created_at, updated_at, last_used_at, tokens_issued)
  SELECT client_id, '$TENANT', printf('service-%05d', i), 'none', created_at, created_at,
         CASE WHEN i % 3 = 0 THEN created_at + 60 END, i % 1000
  FROM seed;
INSERT INTO client_secrets (id, client_id, tenant_id, status, digest, sealed_secret, last_four, created_at, expires_at, last_used_at)
  SELECT secret_id, client_id, '$TENANT', 'current', lower(hex(randomblob(32))), 'bench-placeholder',
         substr(hex(randomblob(2)), 1, 4), created_at, NULL, NULL
  FROM seed;
COMMIT;
SQL
seed_end=$(date +%s.%N)
count=$(sqlite3 "$DB" "SELECT count(*) FROM applications WHERE tenant_id = '$TENANT'")
[[ $count == "$APPS" ]] || die "seeded $count applications, expected $APPS"
say "seeded in $(awk -v a="$seed_start" -v b="$seed_end" 'BEGIN { printf "%.2f", b - a }') s"

JAR=$WORK/cookies
# The form goes through a pipe and a file, keeping the password out of the
# process list.
printf '%s' "$PASSWORD" | python3 -c '
import sys, urllib.parse
print(urllib.parse.urlencode({"email": sys.argv[1], "password": sys.stdin.read()}), end="")' "$EMAIL" >"$WORK/login.form"
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" -H "Origin: $BASE" \
  -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$WORK/login.form" "$BASE/api/login")
[[ $status == 200 || $status == 302 ]] || die "sign-in failed with HTTP $status"

# A cursor 9,950 rows down: created_at:client_id of the row before it.
DEEP=$(sqlite3 "$DB" "SELECT created_at || ':' || client_id FROM applications WHERE tenant_id = '$TENANT'
  ORDER BY created_at DESC, client_id DESC LIMIT 1 OFFSET $((APPS > 50 ? APPS - 51 : 0))")

# time_case LABEL CURL-ARGS... : RUNS timed requests, prints a table row.
time_case() {
  local label=$1
  shift
  local times=$WORK/times-${label// /-}
  : >"$times"
  for i in $(seq 1 $((RUNS + 5))); do
    local out
    out=$(curl -sS -o "$WORK/body" -w '%{http_code} %{time_total}' -b "$JAR" -H "Origin: $BASE" "$@")
    [[ ${out%% *} == 200 ]] || die "$label: HTTP ${out%% *}: $(head -c 300 "$WORK/body")"
    ((i > 5)) && awk -v t="${out#* }" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$times"
  done
  sort -n "$times" | awk -v label="$label" '
    { v[NR] = $1 }
    END {
      p50 = v[int((NR + 1) / 2)]; p95 = v[int(NR * 0.95 + 0.5)]
      printf "| %-10s | %8.1f | %8.1f | %8.1f | %8.1f |\n", label, v[1], p50, p95, v[NR]
    }'
}

# Proof that the page shows what it should before timing it.
curl -sS -b "$JAR" "$BASE/t/$TENANT/applications" >"$WORK/page.html"
expected="Showing 50 of $(python3 -c "print(f'{$APPS:,}')") applications"
grep -qF "$expected" "$WORK/page.html" || die "the page does not say \"$expected\""

say "timing $RUNS requests per case ($PROFILE build)"
{
  echo
  echo "Applications page with $APPS applications in one tenant (SQLite, $PROFILE build, ms):"
  echo
  echo "| case       |      min |   median |      p95 |      max |"
  echo "|------------|---------:|---------:|---------:|---------:|"
  time_case "page" "$BASE/t/$TENANT/applications"
  time_case "list" --data-urlencode "tenant_id=$TENANT" --data-urlencode "filter=" "$BASE/api/list_applications"
  time_case "deep page" --data-urlencode "tenant_id=$TENANT" --data-urlencode "filter=" \
    --data-urlencode "after=$DEEP" "$BASE/api/list_applications"
  time_case "filter" --data-urlencode "tenant_id=$TENANT" --data-urlencode "filter=service-0042" \
    "$BASE/api/list_applications"
} | tee "$WORK/table.md"

median=$(awk -F'|' '$2 ~ /page/ { gsub(/ /, "", $4); print $4; exit }' "$WORK/table.md")
echo
echo "First-page query plan (SQLite):"
sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT * FROM applications WHERE tenant_id = '$TENANT'
  ORDER BY created_at DESC, client_id DESC LIMIT 51" | sed 's/^/  /'
echo
if awk -v m="$median" -v t="$TARGET_MS" 'BEGIN { exit !(m < t) }'; then
  echo "page median ${median} ms: under the ${TARGET_MS} ms target"
else
  echo "page median ${median} ms: OVER the ${TARGET_MS} ms target"
  [[ ${DASHBOARD_ENFORCE:-0} == 1 ]] && exit 1
fi
