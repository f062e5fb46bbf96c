#!/usr/bin/env bash
# The password grant at saturation beside client-credentials traffic: a
# release build of Clavis (SQLite), one wrk flooding password grants (each an
# argon2id verification, run in the bounded password pool), and a second wrk
# taking client-credentials tokens at the same time. Prints both rates and the
# client-credentials latency, next to a run of client credentials alone.
#
#   bench/password_flood.sh        (PASSWORD_FLOOD_SECONDS=15 by default)
#
# Target (issue 12): client-credentials p99 under 15 ms while the flood runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_LOAD=${PASSWORD_FLOOD_SECONDS:-15}
PORT=${PASSWORD_FLOOD_PORT:-3919}
BIN=target/release/clavis
command -v wrk >/dev/null || { echo "password flood: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[[ -x $BIN && ${BENCH_SKIP_BUILD:-0} == 1 ]] || cargo build --release -p server --bin clavis
WORK=$(mktemp -d /tmp/clavis-password-flood.XXXXXX)
export CLAVIS_DATA_DIR=$WORK CLAVIS_ADDR=127.0.0.1:$PORT CLAVIS_PUBLIC_URL=http://127.0.0.1:$PORT RUST_LOG=warn
cleanup() { [[ -n ${PID:-} ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
tenant_id=$("$BIN" tenant create --name PasswordFlood --signing-alg ES256 | field tenantId)
app=$("$BIN" app create --tenant "$tenant_id" --name web)
client_id=$(echo "$app" | field clientId)
secret=$(echo "$app" | field secret)
password=violet-harbour-lantern-42
echo "$password" | "$BIN" user add --tenant "$tenant_id" --email flood@example.com --password-stdin >/dev/null
"$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$PORT/oauth/v4/$tenant_id/token"
auth="Basic $(printf '%s:%s' "$client_id" "$secret" | base64 -w0)"
export BENCH_AUTH_HEADER=$auth BENCH_USERNAME=flood%40example.com BENCH_PASSWORD=$password
curl -sf -u "$client_id:$secret" -d grant_type=password -d username=flood@example.com -d "password=$password" "$url" >/dev/null \
  || { echo "password flood: the password grant does not work" >&2; exit 1; }

client_credentials() { # $1: output file
  BENCH_RESULT_FILE=$WORK/cc-result.tsv wrk -t1 -c4 -d"${SECONDS_LOAD}s" --latency -s bench/token.lua "$url" >"$1" 2>&1
}
client_credentials "$WORK/alone.txt"
BENCH_RESULT_FILE=$WORK/password.tsv wrk -t1 -c64 -d"$((SECONDS_LOAD + 2))s" -s bench/password.lua "$url" >"$WORK/password.txt" 2>&1 &
FLOOD=$!
sleep 1
client_credentials "$WORK/beside.txt"
wait "$FLOOD" || true
python3 - "$WORK" "$SECONDS_LOAD" <<'PY'
import re, sys
work, seconds = sys.argv[1], int(sys.argv[2]) + 2
def wrk(path):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rate, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0
ok, busy, other = (int(x) for x in open(f"{work}/password.tsv").read().split())
alone, beside = wrk(f"{work}/alone.txt"), wrk(f"{work}/beside.txt")
print("| load | client credentials tokens/s | client credentials p99 | password grants/s (200) | password 429/s |")
print("|---|---:|---:|---:|---:|")
print(f"| client credentials alone | {alone[0]:,.0f} | {alone[1]:.2f} ms | - | - |")
print(f"| beside a password flood (64 connections) | {beside[0]:,.0f} | {beside[1]:.2f} ms | {ok / seconds:,.1f} | {busy / seconds:,.1f} |")
print(f"\nclient-credentials failures during the flood: {beside[2]}; password answers other than 200/429: {other}")
print(f"target: client-credentials p99 under 15 ms while the flood runs: {'met' if beside[1] < 15 else 'MISSED'}")
PY
