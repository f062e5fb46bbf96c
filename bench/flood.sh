#!/usr/bin/env bash
# Hostile-traffic benchmark: a flood of token requests with made-up 2 KB
# client IDs (bench/flood.lua) against a release build of Clavis, while a
# real client keeps taking tokens. Prints the server's RSS before and after
# and the real client's latency meanwhile.
#
#   bench/flood.sh                 (FLOOD_REQUESTS=200000 by default)
#
# Targets (docs/security.md): RSS grows less than 20 MB; the real client's
# p99 stays under 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${FLOOD_REQUESTS:-200000}
PORT=${FLOOD_PORT:-3917}
BIN=target/release/clavis
command -v wrk >/dev/null || { echo "flood: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[[ -x $BIN ]] || cargo build --release -p server --bin clavis
WORK=$(mktemp -d /tmp/clavis-flood.XXXXXX)
export CLAVIS_DATA_DIR=$WORK CLAVIS_ADDR=127.0.0.1:$PORT CLAVIS_PUBLIC_URL=http://127.0.0.1:$PORT RUST_LOG=warn
cleanup() { [[ -n ${PID:-} ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
tenant=$("$BIN" tenant create --name Flood --signing-alg ES256)
tenant_id=$(echo "$tenant" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tenantId"])')
app=$("$BIN" app create --tenant "$tenant_id" --name real)
client_id=$(echo "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientId"])')
secret=$(echo "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
"$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
url="http://127.0.0.1:$PORT/oauth/v4/$tenant_id/token"
# Warm the real client and the caches first.
for _ in $(seq 20); do curl -sf -u "$client_id:$secret" -d grant_type=client_credentials "$url" >/dev/null; done
before=$(rss)
# The flood: wrk has no request count; the duration sends at least
# REQUESTS on any machine that answers 5,000 refusals a second.
seconds=$(( REQUESTS / 5000 + 5 ))
wrk -t1 -c16 -d"${seconds}s" -s bench/flood.lua "$url" >"$WORK/flood.txt" 2>&1 &
FLOOD=$!
# Meanwhile the real client, one request at a time, timed by curl.
: >"$WORK/real.txt"
while kill -0 "$FLOOD" 2>/dev/null; do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -u "$client_id:$secret" -d grant_type=client_credentials "$url" >>"$WORK/real.txt"
done
wait "$FLOOD" || true
after=$(rss)
sent=$(awk '/requests in/ { print $1 }' "$WORK/flood.txt")
python3 - "$WORK/real.txt" "$before" "$after" "${sent:-?}" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
ok = [float(t) * 1000 for code, t in rows if code == "200"]
bad = sum(1 for code, _ in rows if code != "200")
ok.sort()
p = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))] if ok else float("nan")
before, after = float(sys.argv[2]), float(sys.argv[3])
print(f"flood requests sent: {sys.argv[4]}")
print(f"server RSS: {before:.1f} MB before, {after:.1f} MB after ({after - before:+.1f} MB; target < +20 MB)")
print(f"real client during the flood: {len(ok)} tokens, {bad} failures, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms (target < 20 ms)")
PY
