#!/usr/bin/env bash
# Installs what building and testing Clavis needs, skipping what is present.
# Usage: scripts/setup.sh [--e2e] [--replicas]
#   --e2e       adds Chromium, Playwright and the pinned Python client (the browser
#               and end-to-end tests)
#   --replicas  adds HAProxy (scripts/replicas-test.sh puts it before two replicas)
set -euo pipefail
cd "$(dirname "$0")/.."

e2e=false
replicas=false
for flag in "$@"; do
  case $flag in
    --e2e) e2e=true ;;
    --replicas) replicas=true ;;
    *) echo "unknown flag $flag (expected --e2e or --replicas)" >&2; exit 2 ;;
  esac
done

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in Cargo.toml

say() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 17 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 7 minutes, once)"
  # Without --locked: its lockfile names a crate version the index no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Install npm packages only when the lockfile changed since the last install.
npm_install() {
  local dir=$1
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.clavis-installed-lock" 2>/dev/null; then
    say "installing npm packages in $dir"
    # npm install, not npm ci: on this network npm writes lockfiles without the
    # optional platform packages of other systems, which npm ci then rejects.
    # install still honours the pinned versions in the lockfile.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.clavis-installed-lock"
  fi
}
npm_install .

# The Python client of the end-to-end tests (authlib), pinned in a virtualenv
# of its own; reinstalled only when its requirements file changed.
python_venv() {
  local venv=$1 requirements=$2
  if ! cmp -s "$requirements" "$venv/.clavis-installed-requirements" 2>/dev/null; then
    say "installing $requirements into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.clavis-installed-requirements"
  fi
}

if $e2e; then
  npm_install end2end
  python_venv .venv-e2e end2end/python/requirements.txt
  if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $(id -u) -eq 0 ]]; then
      say "installing Chromium from Debian's packages"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "Chromium is missing: run 'sudo apt-get install -y chromium' and try again." >&2
      exit 1
    fi
  fi
fi

if $replicas && ! command -v haproxy >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing HAProxy from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  else
    echo "HAProxy is missing: run 'sudo apt-get install -y haproxy' and try again." >&2
    exit 1
  fi
fi
