# shellcheck shell=bash
# The "N applications in random order" case of bench/run, sourced by it
# (it uses its process tracking, measure() and CLAVIS_BIN).
#
# For each N in BENCH_APPS (default "1 100000"): a fresh SQLite data
# directory, one tenant (BENCH_APPS_ALG, default ES256) made with the CLI, N
# applications with one secret each seeded by bench/seed_apps.py, then the
# server; a warm-up that walks every application once in order (so each is
# loaded before the measurement), then BENCH_APPS_DURATION seconds in which every
# request takes a random one of the N applications. Printed side by side:
# tokens/s, latency, the server's resident memory at the end of the run and
# its peak, and tokens/s against N = 1. Targets: the largest N at least 70 %
# of N = 1, RSS under 200 MB.

APPS_LIST=${BENCH_APPS-"1 100000"}
APPS_ALG=${BENCH_APPS_ALG:-ES256}
APPS_WARMUP=${BENCH_APPS_WARMUP:-180}
# A minute: long enough to hold a usage flush, which at 100,000 active
# applications runs every 20 to 60 s.
APPS_DURATION=${BENCH_APPS_DURATION:-60}
[[ $APPS_DURATION =~ ^[0-9]+$ ]] && ((APPS_DURATION > 0)) || die "BENCH_APPS_DURATION must be a positive whole number"
APPS_ROWS=$WORK/apps-rows.tsv
APPS_REPORT=$WORK/apps-report.md
: >"$APPS_ROWS"

current_rss_mb() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) print "?" }' "/proc/$1/status" 2>/dev/null || echo "?"
}

# apps_wrk_sequential DIR BASE SECONDS NAME: wrk walking the credentials in
# order for SECONDS; output in DIR/NAME.txt, result line in DIR/NAME.tsv.
apps_wrk_sequential() {
  local dir=$1 base=$2 seconds=$3 name=$4
  run_bounded $((seconds + REQ_TIMEOUT + 20)) "wrk $name" \
    env BENCH_CREDENTIALS_FILE="$dir/credentials.txt" BENCH_ORDER=sequential BENCH_THREADS="$THREADS" \
    BENCH_RESULT_FILE="$dir/$name.tsv" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout "${REQ_TIMEOUT}s" \
    -s "$BENCH_DIR/token.lua" "$base/token" >"$dir/$name.txt" 2>&1 ||
    { cat "$dir/$name.txt" >&3; die "wrk $name failed"; }
  [[ -s $dir/$name.tsv ]] || { cat "$dir/$name.txt" >&3; die "wrk $name wrote no result"; }
}

# apps_case N: appends "N rps p50 p99 rss_now rss_peak verified" to APPS_ROWS.
apps_case() {
  local n=$1 dir=$WORK/apps-$1 port pid log tenant_id base rss_now
  mkdir -p "$dir/data"
  port=$(free_port)
  local envs=(
    env -u CLAVIS_DATABASE_URL
    CLAVIS_DATA_DIR="$dir/data"
    CLAVIS_ADDR="127.0.0.1:$port"
    CLAVIS_PUBLIC_URL="http://127.0.0.1:$port"
    RUST_LOG="${BENCH_RUST_LOG:-warn}"
  )
  run_bounded 120 "clavis tenant create" "${envs[@]}" \
    "$CLAVIS_BIN" tenant create --name bench-apps --signing-alg "$APPS_ALG" \
    >"$dir/tenant.json" 2>"$dir/tenant.err" ||
    { cat "$dir/tenant.err" >&3; die "clavis tenant create failed (N = $n)"; }
  tenant_id=$(json_field "$dir/tenant.json" tenantId) || die "unexpected tenant create output"
  base=$(json_field "$dir/tenant.json" oAuthServerUrl) || die "unexpected tenant create output"
  say "N = $n: seeding $n applications (bench/seed_apps.py)"
  run_bounded 600 "seeding" python3 "$BENCH_DIR/seed_apps.py" "$dir/data/clavis.db" "$tenant_id" "$n" \
    "$dir/credentials.txt" >&3 || die "seeding $n applications failed"

  log=$dir/clavis.log
  # shellcheck disable=SC2086 # BENCH_CLAVIS_ARGS is a word list
  start_bg "${envs[@]}" "$CLAVIS_BIN" ${BENCH_CLAVIS_ARGS:-} >"$log" 2>&1
  pid=$BG_PID
  wait_http "$base/.well-known/openid-configuration" "$pid" 60 "$log"

  # wrk runs for a time, not a count: a short probe measures how fast
  # applications are loaded, then the warm-up walks all of them in order
  # for as long as that takes at the probe's rate, plus a quarter.
  say "N = $n: warm-up, every application once in order"
  apps_wrk_sequential "$dir" "$base" 3 probe
  local probed seconds
  probed=$(cut -f1 "$dir/probe.tsv")
  seconds=$(awk -v n="$n" -v done="$probed" -v cap="$APPS_WARMUP" \
    'BEGIN { s = int(1.25 * n * 3 / (done > 0 ? done : 1)) + 1; print (s > cap ? cap : s) }')
  apps_wrk_sequential "$dir" "$base" "$seconds" warmup
  sed -n 's/^token.lua: /  warm-up: /p' "$dir/warmup.txt" >&3

  # measure() with this case's credentials, rows file and no second warm-up.
  local WARMUP=0 DURATION=$APPS_DURATION RESULT_ROWS=$dir/rows.tsv
  : >"$RESULT_ROWS"
  export BENCH_CREDENTIALS_FILE="$dir/credentials.txt" BENCH_ORDER=random BENCH_THREADS="$THREADS"
  measure "apps-$n" "$APPS_ALG" "$pid" "$base/token" "$base/.well-known/openid-configuration" ""
  unset BENCH_CREDENTIALS_FILE BENCH_ORDER BENCH_THREADS
  rss_now=$(current_rss_mb "$pid")
  stop_server "$pid"
  # ALG label rps p50 p99 non2xx errors rss_peak verified
  awk -F'\t' -v n="$n" -v now="$rss_now" 'BEGIN { OFS = "\t" } { print n, $3, $4, $5, now, $8, $9 }' \
    "$RESULT_ROWS" >>"$APPS_ROWS"
}

apps_report() {
  awk -F'\t' -v alg="$APPS_ALG" '
    BEGIN {
      print "| Applications (" alg ", random order) | Tokens/s | p50 (ms) | p99 (ms) | RSS after (MB) | Peak RSS (MB) | vs N = 1 |"
      print "|--:|--:|--:|--:|--:|--:|--:|"
    }
    { n[NR] = $1; line[NR] = $0; if ($1 == 1) one = $2 }
    END {
      for (i = 1; i <= NR; i++) {
        split(line[i], f, "\t")
        ratio = (one > 0) ? sprintf("%.0f %%", 100 * f[2] / one) : "—"
        printf "| %d | %.0f | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], f[4], f[5], f[6], ratio
      }
    }' "$APPS_ROWS"
}

# Prints "target missed: ..." lines for the largest N.
apps_misses() {
  awk -F'\t' '
    { if ($1 == 1) one = $2; if ($1 + 0 > max) { max = $1 + 0; rps = $2; rss = $5 } }
    END {
      if (max > 1 && one > 0 && rps / one < 0.7)
        printf "N = %d: %.0f tokens/s is %.0f %% of N = 1, target at least 70 %%\n", max, rps, 100 * rps / one
      if (max > 1 && rss != "?" && rss + 0 >= 200) printf "N = %d: RSS %s MB, target under 200 MB\n", max, rss
    }' "$APPS_ROWS"
}

if [[ $RUN_CLAVIS == 1 && -n $APPS_LIST ]]; then
  command -v python3 >/dev/null || die "python3 is missing (it seeds the applications)"
  for n in $APPS_LIST; do
    [[ $n =~ ^[0-9]+$ ]] && ((n > 0)) || die "BENCH_APPS must list positive whole numbers, got '$n'"
  done
  for n in $APPS_LIST; do apps_case "$n"; done
  {
    echo
    echo "## N applications in random order"
    echo
    echo "One tenant ($APPS_ALG) with N applications, seeded into SQLite; a warm-up walks every application once, then each request of the measured ${APPS_DURATION}s takes a random one. RSS after: the server's resident memory at the end of the run."
    echo
    apps_report
    echo
    echo "Targets: the largest N at least 70 % of N = 1's tokens/s, RSS under 200 MB."
  } >"$APPS_REPORT"
fi
