#!/usr/bin/env bash
# Coverage-guided fuzzing of the token-request parsers (fuzz/, cargo-fuzz
# with libFuzzer) for a bounded time per target: FUZZ_SECONDS (default 60).
# Not part of `make test` or CI: it is open-ended by nature. A crash leaves
# its input in fuzz/artifacts/<target>/; replay it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>` and keep it as an
# example test in oauth/tests/it/regressions.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=(token_request basic_header json_body)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# libFuzzer's instrumentation needs unstable rustc flags; RUSTC_BOOTSTRAP
# lets the stable toolchain accept them instead of requiring nightly.
export RUSTC_BOOTSTRAP=1

for target in "${targets[@]}"; do
  echo "==> fuzzing $target for ${seconds}s"
  corpus="$PWD/fuzz/corpus/$target"
  mkdir -p "$corpus"
  cargo fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -dict="$PWD/fuzz/token.dict" -max_len=4096 -print_final_stats=1
done
echo "fuzzing found no crash"
