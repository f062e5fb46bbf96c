#!/usr/bin/env bash
# The lint gate: formatting, clippy with every warning an error (the native
# workspace with all targets, and the dashboard's wasm crate), and rustdoc
# with warnings as errors. CI runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "==> adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

echo "==> cargo fmt --check"
cargo fmt --all --check

echo "==> cargo clippy (native, all targets)"
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings

echo "==> cargo clippy (wasm: the dashboard's hydrate build and the shared crates)"
cargo clippy -p frontend -p clavis-oauth -p clavis-types --target wasm32-unknown-unknown --locked -- -D warnings

echo "==> cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude frontend --no-deps --locked

echo "==> the protocol crate stays pure"
if cargo tree -p clavis-oauth -e normal --prefix none | grep -Eiq '^(sea-orm|sqlx|tokio|axum|hyper|http|reqwest|tower) '; then
  echo "clavis-oauth depends on a database, runtime or HTTP crate:" >&2
  cargo tree -p clavis-oauth -e normal --prefix none | grep -Ei '^(sea-orm|sqlx|tokio|axum|hyper|http|reqwest|tower) ' >&2
  exit 1
fi
echo "lint gate clean"
