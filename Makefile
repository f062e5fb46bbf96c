# The two commands of the README, the lint gate CI runs first, the benchmarks
# and the fuzzer.
.PHONY: run test check screenshots bench bench-dashboard bench-password fuzz

run:
	scripts/run.sh

test:
	scripts/test.sh

# fmt, clippy with warnings as errors (native and the wasm dashboard), docs.
check:
	scripts/check.sh

# Regenerates docs/screenshots/ (the only target that writes tracked files).
screenshots:
	scripts/screenshots.sh

# With the pinned per-core case (BENCH_PINNED=0 make bench leaves it out).
bench:
	BENCH_PINNED="$${BENCH_PINNED:-1}" bench/run

bench-dashboard:
	bench/dashboard.sh

# Password grants at saturation beside client-credentials traffic.
bench-password:
	bench/password_flood.sh

# Fuzzes the token-request parsers, FUZZ_SECONDS per target (default 60); not in CI.
fuzz:
	scripts/fuzz.sh
