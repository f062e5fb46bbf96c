# The two commands of the README, plus the load benchmark.
.PHONY: run test bench bench-dashboard

run:
	scripts/run.sh

test:
	scripts/test.sh

bench:
	bench/run

bench-dashboard:
	bench/dashboard.sh
