# The two commands of the README, plus the load benchmark.
.PHONY: run test bench

run:
	scripts/run.sh

test:
	scripts/test.sh

bench:
	bench/run
