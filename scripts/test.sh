#!/usr/bin/env bash
# Every test: unit, database (SQLite, and PostgreSQL in a throwaway cluster),
# HTTP against the router, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --e2e

echo "==> cargo test (unit, database, HTTP)"
scripts/with-postgres.sh cargo test --workspace --locked

echo "==> building the dashboard (wasm, CSS, server)"
cargo leptos build

echo "==> browser tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test)
