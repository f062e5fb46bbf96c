#!/usr/bin/env bash
# Instruction profile of a token request: the release server (and the floor,
# bench/floor) under valgrind's callgrind, a fixed number of requests, the
# instructions per request and the functions they go to.
#
#   bench/profile.sh                       # ES256 and EdDSA, Clavis and the floor
#   PROFILE_ALGS=ES256 PROFILE_SERVERS=clavis bench/profile.sh
#
# Instruction counts do not depend on what else runs on the machine, so this
# is the before/after measure of a change to the token path when the cores
# are busy (bench/run's timings are not). Each server starts on a fresh
# SQLite data directory with one tenant and one application (the CLI makes
# them, natively), answers PROFILE_WARMUP requests, then its counters are
# zeroed (callgrind_control -z), it answers PROFILE_REQUESTS more over one
# keep-alive connection (bench/drive.py: every answer a 200 with a token),
# and the counters are dumped (callgrind_control -d).
#
# Settings (environment):
#   PROFILE_ALGS="ES256 EdDSA"    algorithms
#   PROFILE_SERVERS="clavis floor"
#   PROFILE_REQUESTS=2000         requests counted
#   PROFILE_WARMUP=200            requests before the counters are zeroed
#   PROFILE_TOP=30                functions listed, inclusive and exclusive
#   PROFILE_SKIP_BUILD=1          use the existing release binaries
#   PROFILE_BIN_DIR=DIR           take clavis and clavis-floor from DIR (implies
#                                 no build; to compare two builds)
#   PROFILE_OUT=DIR               where the callgrind files and listings go
#                                 (default: a new directory under /tmp, kept)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"

ALGS=${PROFILE_ALGS:-"ES256 EdDSA"}
SERVERS=${PROFILE_SERVERS:-"clavis floor"}
REQUESTS=${PROFILE_REQUESTS:-2000}
WARMUP=${PROFILE_WARMUP:-200}
TOP=${PROFILE_TOP:-30}
OUT=${PROFILE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/clavis-profile.XXXXXX")}
TARGET=${PROFILE_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
FLOOR_TENANT=00000000-0000-4000-8000-00000000f100

say() { printf 'profile: %s\n' "$*" >&2; }
die() { printf 'profile: error: %s\n' "$*" >&2; exit 1; }

for v in REQUESTS WARMUP TOP; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number"; done
for tool in valgrind callgrind_control callgrind_annotate python3 curl setsid; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y valgrind python3 curl util-linux)"
done
mkdir -p "$OUT"

SERVER_PID=""
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${PROFILE_SKIP_BUILD:-0} != 1 && -z ${PROFILE_BIN_DIR:-} ]]; then
  say "building (cargo build --release -p server -p clavis-bench-floor)"
  cargo build --release -p server -p clavis-bench-floor >&2 || die "the release build failed"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# json_field FILE KEY: a field of the JSON object in FILE (the CLI prints it indented).
json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
basic_auth() {
  python3 -c 'import base64, sys, urllib.parse as u; q = lambda s: u.quote_plus(s, safe=""); print("Basic " + base64.b64encode((q(sys.argv[1]) + ":" + q(sys.argv[2])).encode()).decode())' "$1" "$2"
}

wait_ready() {
  local url=$1 log=$2 deadline=$((SECONDS + 600))
  until curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "the server exited (log above)"; }
    ((SECONDS < deadline)) || die "no answer from $url within 600 s"
    sleep 1
  done
}

# profile_one SERVER ALG: one callgrind run; prints its summary line.
profile_one() {
  local server=$1 alg=$2 dir=$OUT/$1-$2 port base auth log
  mkdir -p "$dir"
  port=$(free_port)
  log=$dir/server.log
  local grind=(valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" --dump-instr=no)
  if [[ $server == clavis ]]; then
    local envs=(env -u CLAVIS_DATABASE_URL CLAVIS_DATA_DIR="$dir/data" CLAVIS_ADDR="127.0.0.1:$port"
      CLAVIS_PUBLIC_URL="http://127.0.0.1:$port" RUST_LOG=warn)
    mkdir -p "$dir/data"
    "${envs[@]}" "$TARGET/clavis" tenant create --name "profile-$alg" --signing-alg "$alg" >"$dir/tenant.json"
    base=$(json_field "$dir/tenant.json" oAuthServerUrl)
    "${envs[@]}" "$TARGET/clavis" app create --tenant "$(json_field "$dir/tenant.json" tenantId)" --name profile \
      >"$dir/app.json"
    auth=$(basic_auth "$(json_field "$dir/app.json" clientId)" "$(json_field "$dir/app.json" secret)")
    setsid "${envs[@]}" "${grind[@]}" "$TARGET/clavis" >"$log" 2>&1 &
  else
    base=http://127.0.0.1:$port/oauth/v4/$FLOOR_TENANT
    auth="Basic Zmxvb3I6Zmxvb3I="
    setsid "${grind[@]}" "$TARGET/clavis-floor" --alg "$alg" --addr "127.0.0.1:$port" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  wait_ready "$base/.well-known/openid-configuration" "$log"
  python3 "$BENCH_DIR/drive.py" "$base/token" "$auth" "$WARMUP" || die "warm-up requests failed ($server $alg)"
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  python3 "$BENCH_DIR/drive.py" "$base/token" "$auth" "$REQUESTS" || die "requests failed ($server $alg)"
  callgrind_control -d "$SERVER_PID" >/dev/null 2>&1
  stop_server
  # The dump callgrind_control asked for is the first numbered part.
  local dump
  dump=$(ls "$dir"/callgrind.out.* 2>/dev/null | sort -V | head -n 1)
  [[ -n $dump ]] || die "no callgrind dump in $dir"
  local total
  total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
  callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | sed -n "1,$((TOP + 25))p" >"$dir/inclusive.txt"
  callgrind_annotate "$dump" 2>/dev/null | sed -n "1,$((TOP + 25))p" >"$dir/exclusive.txt"
  printf '%s\t%s\t%s\t%s\n' "$alg" "$server" "$total" "$(awk -v t="$total" -v n="$REQUESTS" 'BEGIN { printf "%.0f", t / n }')" \
    >>"$OUT/summary.tsv"
  say "$server $alg: $(awk -v t="$total" -v n="$REQUESTS" 'BEGIN { printf "%.0f", t / n }') instructions per request ($dump)"
}

: >"$OUT/summary.tsv"
for alg in $ALGS; do
  for server in $SERVERS; do profile_one "$server" "$alg"; done
done

echo "| Algorithm | Server | Instructions per request |"
echo "|---|---|--:|"
awk -F'\t' '{ printf "| %s | %s | %d |\n", $1, $2, $4 }' "$OUT/summary.tsv"
echo
echo "Listings (callgrind_annotate, inclusive and exclusive) in $OUT/*/"
