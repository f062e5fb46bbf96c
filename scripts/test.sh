#!/usr/bin/env bash
# Every test: unit, database (SQLite, and PostgreSQL in a throwaway cluster),
# HTTP against the router, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --e2e

# `cargo test` builds target/debug/clavis (the server crate has integration
# tests), and all test binaries are built before any runs, so the SDK tests
# find the binary they start.
echo "==> cargo test (unit, database, HTTP, SDK against a live server)"
# frontend is the wasm entry point (no tests); including it would unify the
# app's hydrate and ssr features into one build.
scripts/with-postgres.sh cargo test --workspace --exclude frontend --locked

echo "==> building the dashboard (wasm, CSS, server)"
cargo leptos build

echo "==> browser tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test)
