#!/usr/bin/env bash
# Builds and runs Clavis on 127.0.0.1:3000 with SQLite in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo leptos serve "$@"
