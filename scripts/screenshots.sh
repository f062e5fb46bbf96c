#!/usr/bin/env bash
# Regenerates the README's screenshots in docs/screenshots/ with the
# browser test that drives the Applications tab.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --e2e
cargo leptos build
export CLAVIS_SCREENSHOT_DIR="$PWD/docs/screenshots"
(cd end2end && npx playwright test -g "screenshots")
echo "==> docs/screenshots/ regenerated; review with git diff --stat docs/screenshots"
