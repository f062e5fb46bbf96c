# The two commands of the README, the lint gate CI runs first, and the benchmarks.
.PHONY: run test check screenshots bench bench-dashboard

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

bench:
	bench/run

bench-dashboard:
	bench/dashboard.sh
