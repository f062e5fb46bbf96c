# shellcheck shell=bash
# The pinned per-core case of bench/run, sourced by it (it uses its process
# tracking, measure(), run_clavis, run_peer, CLAVIS_BIN and FLOOR_BIN).
#
# With BENCH_PINNED=1 (`make bench` sets it): for each algorithm, Clavis, then
# the floor (bench/floor: one signature and a fixed JSON answer over the same
# HTTP stack, with Clavis's signer), then the peer, each alone on one core
# (taskset -c, the first of BENCH_PINNED_CPUS) while wrk runs on the other;
# BENCH_PINNED_ROUNDS times over (3 by default), alternating, and each
# comparison made between the medians. On a shared virtual machine one run
# can be a third slower than the next, and alternating rounds give each
# server the same share of the slow moments.
# Every run is measured as the others (warm-up, BENCH_DURATION seconds, every
# response a 2xx, sampled tokens verified against the server's JWKS), and
# beside it the server's CPU time over the measured window from
# /proc/PID/stat (user + system, every thread), divided by the tokens
# answered: CPU microseconds per token, the figure that does not depend on
# how fast the peer's core happens to be. Printed: tokens/s, µs per token and
# how busy the server's core was; Clavis/peer per core (the peer's µs per
# token over Clavis's); how far Clavis is above its floor; and, from one
# signature alone on the same core (clavis-floor --signing-seconds), the
# peer's µs over that signature's: the most any server signing with it
# could reach against this peer in this run. Targets: RS256 at
# least 2x the peer per core, ES256 and EdDSA at least 8x, each within 15 %
# of its floor.

PINNED_ROWS=$WORK/pinned-rows.tsv
PINNED_REPORT=$WORK/pinned-report.md
: >"$PINNED_ROWS"
: >"$PINNED_REPORT"
read -r PIN_SERVER PIN_WRK <<<"${BENCH_PINNED_CPUS:-0 1}"
ROUNDS=${BENCH_PINNED_ROUNDS:-3}
# The floor's tenant, fixed in bench/floor/src/main.rs.
FLOOR_TENANT=00000000-0000-4000-8000-00000000f100

# run_floor ALG LABEL: start the floor, measure it, stop it.
run_floor() {
  local alg=$1 label=$2 port log pid base auth
  log=$WORK/$label-$alg.log
  port=$(free_port)
  base=http://127.0.0.1:$port/oauth/v4/$FLOOR_TENANT
  start_bg "${SERVER_PREFIX[@]+"${SERVER_PREFIX[@]}"}" "$FLOOR_BIN" --alg "$alg" --addr "127.0.0.1:$port" >"$log" 2>&1
  pid=$BG_PID
  wait_http "$base/.well-known/openid-configuration" "$pid" 30 "$log"
  # The floor reads no credentials; the same header keeps the request the
  # same size as Clavis's.
  auth=${APP_AUTH[$alg]:-"Basic Zmxvb3I6Zmxvb3I="}
  measure "$label" "$alg" "$pid" "$base/token" "$base/.well-known/openid-configuration" "$auth"
  stop_server "$pid"
}

# pinned_row ALG LABEL SERVER ROUND: appends "ALG SERVER tokens/s µs/token
# busy% p50 p99 ROUND" to PINNED_ROWS from the run's result row and its
# cpu.tsv.
pinned_row() {
  local alg=$1 label=$2 server=$3 round=$4 dir=$WORK/$1-$2
  local before after requests duration_us row
  IFS=$'\t' read -r before after requests duration_us <"$dir/cpu.tsv"
  row=$(awk -F'\t' -v a="$alg" -v l="$label" '$1 == a && $2 == l' "$RESULT_ROWS" | tail -n 1)
  [[ -n $row ]] || return 0
  awk -F'\t' -v alg="$alg" -v srv="$server" -v b="$before" -v e="$after" -v n="$requests" \
    -v d="$duration_us" -v hz="$CLK_TCK" -v round="$round" '
    BEGIN { OFS = "\t" }
    {
      cpu = (e - b) / hz
      us = n > 0 ? 1e6 * cpu / n : 0
      busy = d > 0 ? 100 * cpu / (d / 1e6) : 0
      print alg, srv, $3, sprintf("%.1f", us), sprintf("%.0f", busy), $4, $5, round
    }' <<<"$row" >>"$PINNED_ROWS"
}

pinned_report() {
  echo
  echo "## Per core (pinned)"
  echo
  echo "Each server alone on core $PIN_SERVER (taskset), wrk on core $PIN_WRK; CPU per token: the server's user + system time over the measured ${DURATION}s (/proc/PID/stat, every thread) divided by the tokens it answered. Floor: one signature with Clavis's signer and a fixed JSON answer over the same HTTP stack (bench/floor), in the same run. $ROUNDS rounds, each measuring Clavis, the floor and the peer in turn; the comparisons below are between each server's median CPU per token."
  echo
  echo "| Algorithm | Round | Server | Tokens/s | CPU per token (µs) | Server core busy | p50 (ms) | p99 (ms) |"
  echo "|---|--:|---|--:|--:|--:|--:|--:|"
  awk -F'\t' -v peer_name="oidc-provider $PEER_VERSION" '
    {
      name = $2 == "clavis" ? "Clavis" : $2 == "floor" ? "floor" : peer_name
      printf "| %s | %s | %s | %.0f | %s | %s %% | %s | %s |\n", $1, $8, name, $3, $4, $5, $6, $7
    }' "$PINNED_ROWS"
  echo
  echo "| Algorithm | Clavis µs (median) | floor µs | one signature µs | peer µs | Clavis/peer per core | Target | peer ÷ one signature | Clavis above its floor | Target |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  pinned_summary | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | ≥ %s× | %s | %s | ≤ 15 %% |\n", $1, $5, $6, $8, $7, $2, $3, $9, $4 }'
  echo
  echo "One signature: the floor's signer alone on core $PIN_SERVER, the fastest of ten batches (clavis-floor --signing-seconds). Peer ÷ one signature is the most any server signing with it could reach against this peer: a token costs at least one signature."
}

# The awk function median(LIST): the median of the space-separated numbers
# in LIST (an insertion sort: mawk has no asort).
MEDIAN_AWK='
function median(list,   n, v, i, j, t) {
  n = split(list, v, " ")
  for (i = 2; i <= n; i++) {
    t = v[i] + 0
    for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
    v[j + 1] = t
  }
  return n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}
# collect: each (algorithm, server) µs per token of every round, in us[].
{ us[$1, $2] = (($1, $2) in us ? us[$1, $2] " " : "") $4 }
'


# signing_rows: "ALG signature µs" per algorithm, from clavis-floor
# --signing-seconds (none when Clavis, and so the floor, did not run).
SIGNING_ROWS=$WORK/pinned-signing.tsv
signing_rows() {
  [[ -f $SIGNING_ROWS ]] && cat "$SIGNING_ROWS"
  return 0
}

# pinned_medians: "ALG SERVER median-µs" per algorithm and server.
pinned_medians() {
  awk -F'\t' "$MEDIAN_AWK"'
    END { for (key in us) { split(key, k, SUBSEP); printf "%s\t%s\t%.1f\n", k[1], k[2], median(us[key]) } }
  ' "$PINNED_ROWS"
}

# pinned_summary: "ALG ratio want over clavis-µs floor-µs peer-µs
# signature-µs ceiling" per algorithm, in the order measured, from the
# medians and the signing rows (ceiling: peer ÷ one signature).
pinned_summary() {
  { pinned_medians; signing_rows; } | awk -F'\t' -v order="$ALGS" '
    { us[$1, $2] = $3 }
    END {
      n = split(order, algs, " ")
      for (i = 1; i <= n; i++) {
        a = algs[i]
        if (!((a, "clavis") in us) && !((a, "peer") in us)) continue
        want = a == "RS256" ? 2 : 8
        ratio = ((a, "peer") in us && us[a, "clavis"] > 0) ? sprintf("%.2f×", us[a, "peer"] / us[a, "clavis"]) : "—"
        over = ((a, "floor") in us && us[a, "floor"] > 0) ? sprintf("%+.0f %%", 100 * (us[a, "clavis"] / us[a, "floor"] - 1)) : "—"
        ceiling = ((a, "peer") in us && us[a, "signature"] > 0) ? sprintf("%.2f×", us[a, "peer"] / us[a, "signature"]) : "—"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a, ratio, want, over, \
          ((a, "clavis") in us ? us[a, "clavis"] : "—"), ((a, "floor") in us ? us[a, "floor"] : "—"), ((a, "peer") in us ? us[a, "peer"] : "—"), \
          ((a, "signature") in us ? us[a, "signature"] : "—"), ceiling
      }
    }'
}

# Prints "target missed: ..." lines of the pinned case, from the medians.
pinned_misses() {
  { pinned_medians; signing_rows; } | awk -F'\t' '
    { us[$1, $2] = $3; if ($2 != "signature") algs[$1] = 1 }
    END {
      for (a in algs) {
        if (!((a, "clavis") in us) || us[a, "clavis"] <= 0) continue
        want = a == "RS256" ? 2 : 8
        bound = ""
        if (us[a, "signature"] > 0 && us[a, "peer"] / us[a, "signature"] < want)
          bound = sprintf(" (out of reach in this run: the peer took %.2fx one signature alone, %s µs)", us[a, "peer"] / us[a, "signature"], us[a, "signature"])
        else if (us[a, "floor"] > 0 && us[a, "peer"] / us[a, "floor"] < want)
          bound = sprintf(" (out of reach over this HTTP stack in this run: the floor itself reached %.2fx)", us[a, "peer"] / us[a, "floor"])
        if ((a, "peer") in us && us[a, "peer"] / us[a, "clavis"] < want)
          printf "%s pinned: %.2fx the peer per core (%s against %s µs per token), target %dx%s\n", a, us[a, "peer"] / us[a, "clavis"], us[a, "clavis"], us[a, "peer"], want, bound
        if ((a, "floor") in us && us[a, "floor"] > 0 && us[a, "clavis"] / us[a, "floor"] > 1.15)
          printf "%s pinned: %.0f %% above its floor (%s against %s µs per token), target at most 15 %%\n", a, 100 * (us[a, "clavis"] / us[a, "floor"] - 1), us[a, "clavis"], us[a, "floor"]
      }
    }'
}

pinned_case() {
  # measure() appends to RESULT_ROWS: this case's own file.
  local RESULT_ROWS=$WORK/pinned-measured.tsv
  local -a SERVER_PREFIX=(taskset -c "$PIN_SERVER") WRK_PREFIX=(taskset -c "$PIN_WRK")
  : >"$RESULT_ROWS"
  : >"$SIGNING_ROWS"
  local round us
  for alg in $ALGS; do
    if [[ $RUN_CLAVIS == 1 ]]; then
      us=$("${SERVER_PREFIX[@]}" "$FLOOR_BIN" --alg "$alg" --signing-seconds 2) ||
        die "clavis-floor could not measure $alg signing"
      printf '%s\tsignature\t%s\n' "$alg" "$us" >>"$SIGNING_ROWS"
      say "$alg one signature alone on core $PIN_SERVER: $us µs"
    fi
    for round in $(seq 1 "$ROUNDS"); do
      if [[ $RUN_CLAVIS == 1 ]]; then
        run_clavis "$alg" "pinned-clavis-$round"
        pinned_row "$alg" "pinned-clavis-$round" clavis "$round"
        run_floor "$alg" "pinned-floor-$round"
        pinned_row "$alg" "pinned-floor-$round" floor "$round"
      fi
      if [[ $RUN_PEER == 1 ]]; then
        run_peer "$alg" "pinned-peer-$round"
        pinned_row "$alg" "pinned-peer-$round" peer "$round"
      fi
    done
  done
  pinned_report >"$PINNED_REPORT"
}

if [[ $PINNED == 1 && -n $ALGS ]]; then
  command -v taskset >/dev/null || die "taskset is missing (util-linux): it pins the servers and wrk in the pinned case"
  [[ $PIN_SERVER =~ ^[0-9]+$ && $PIN_WRK =~ ^[0-9]+$ && $PIN_SERVER != "$PIN_WRK" ]] ||
    die "BENCH_PINNED_CPUS must name two different cores, got '${BENCH_PINNED_CPUS:-}'"
  if ! taskset -c "$PIN_SERVER" true 2>/dev/null || ! taskset -c "$PIN_WRK" true 2>/dev/null; then
    die "cannot pin to cores $PIN_SERVER and $PIN_WRK (the pinned case needs two cores; BENCH_PINNED=0 skips it)"
  fi
  [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PINNED_ROUNDS must be a whole number of at least 1, got '$ROUNDS'"
  CLK_TCK=$(getconf CLK_TCK)
  [[ $CLK_TCK =~ ^[0-9]+$ ]] && ((CLK_TCK > 0)) || die "getconf CLK_TCK gave '$CLK_TCK'"
  say "pinned case: servers on core $PIN_SERVER, wrk on core $PIN_WRK"
  pinned_case
fi
