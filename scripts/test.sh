#!/usr/bin/env bash
# Every test: unit, database (SQLite, and PostgreSQL in a throwaway cluster),
# HTTP against the router, two replicas behind HAProxy on PostgreSQL,
# schemathesis against the management API, and the browser tests in headless
# Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --e2e --replicas

# A cold build of every crate and the tests needs about 5 GB; say so up
# front instead of failing later with "No space left on device".
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ -n "$free_kb" ] && [ "$free_kb" -lt 8000000 ]; then
  echo "warning: only $((free_kb / 1024 / 1024)) GB free here; a cold test build needs about 5 GB." >&2
fi

echo "==> cargo test (unit, database, HTTP, SDK against a live server)"
# `cargo test` builds target/debug/clavis (the server crate has integration
# tests), and all test binaries are built before any runs, so the SDK tests
# find the binary they start.
# frontend is the wasm entry point (no tests); including it would unify the
# app's hydrate and ssr features into one build.
scripts/with-postgres.sh cargo test --workspace --exclude frontend --locked

echo "==> two replicas behind HAProxy (delete honoured, kill -9, PostgreSQL restart)"
# On a throwaway cluster of its own: it stops and starts PostgreSQL under load.
scripts/with-postgres.sh scripts/replicas-test.sh

echo "==> schemathesis against the management API's OpenAPI document"
scripts/schemathesis.sh

echo "==> building the dashboard (wasm, CSS, server)"
cargo leptos build

echo "==> browser tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test)
