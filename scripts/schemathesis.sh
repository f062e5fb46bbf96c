#!/usr/bin/env bash
# Schema-driven testing of the management API: schemathesis (pinned, in a
# virtualenv) reads /management/v4/openapi.json from a throwaway server and
# sends what the document allows and what it forbids, with a management
# token of a tenant of that server. Any 5xx, any answer the document does not
# describe, or any accepted invalid input fails the run.
#
# Needs target/debug/clavis (`make test` builds it first). Run alone with
# `scripts/schemathesis.sh`; SCHEMATHESIS_EXAMPLES sets the examples per
# operation (default 100), which bounds the run time, and SCHEMATHESIS_SEED
# reruns with the seed a run printed (a stateful finding also depends on the
# IDs the server hands out, so it may not repeat).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=.venv-schemathesis
binary=${CLAVIS_BIN:-target/debug/clavis}
examples=${SCHEMATHESIS_EXAMPLES:-100}
seed_args=()
if [[ -n ${SCHEMATHESIS_SEED:-} ]]; then
  seed_args=(--seed "$SCHEMATHESIS_SEED")
fi

if [[ ! -x $binary ]]; then
  echo "$binary is missing: build it with cargo build -p server" >&2
  exit 1
fi
if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d /tmp/clavis-schemathesis.XXXXXX)
server_pid=
stop() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export CLAVIS_DATA_DIR="$work/data" CLAVIS_ADDR="127.0.0.1:$port" CLAVIS_PUBLIC_URL="$base" RUST_LOG=warn
unset CLAVIS_DATABASE_URL CLAVIS_MASTER_KEY
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# The operator's CLI makes the tenant and its first automation application,
# as docs/management-api.md describes.
tenant_id=$("$binary" tenant create --name schemathesis | json_field tenantId)
app=$("$binary" app create --tenant "$tenant_id" --name schemathesis --management write)
client_id=$(json_field clientId <<<"$app")
client_secret=$(json_field secret <<<"$app")

"$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  # The first start prints the bootstrap operator's password: keep it out.
  kill -0 "$server_pid" 2>/dev/null || { grep -v 'password:' "$work/server.log" >&2; exit 1; }
  sleep 0.2
done

# Tokens come from the tenant's token endpoint, fetched again on a 401 (a
# generated key revocation may retire the key that signed the last one).
# The token and the secret stay out of every command line (and so out of `ps`).
export ST_BASE=$base ST_TENANT=$tenant_id ST_CLIENT_ID=$client_id ST_CLIENT_SECRET=$client_secret
cat >"$work/hooks.py" <<'PY'
import json
import os
import urllib.parse
import urllib.request

import schemathesis

BASE = os.environ["ST_BASE"]
TENANT = os.environ["ST_TENANT"]
CLIENT_ID = os.environ["ST_CLIENT_ID"]


@schemathesis.auth(refresh_interval=60)
class ManagementToken:
    def get(self, case, context):
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": os.environ["ST_CLIENT_SECRET"],
            "audience": f"{BASE}/management/v4/{TENANT}",
        }).encode()
        with urllib.request.urlopen(f"{BASE}/oauth/v4/{TENANT}/token", data=form, timeout=10) as answer:
            return json.load(answer)["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# The application that drives the run keeps its access, its secret and its
# tokens: a generated call that deletes it, lowers its access, rotates its
# secret or revokes its tokens would turn every later call into a 401 or 403
# and make the outcome depend on the order the calls ran in.
@schemathesis.hook
def filter_case(context, case):
    return (case.path_parameters or {}).get("clientId") != CLIENT_ID
PY

# Every call names the tenant the token belongs to: with a generated tenant
# ID each call would stop at the 401 and never reach the handler behind it.
# Every check runs (schemathesis's default; `--checks` on the command line
# would override the exclusions below).
cat >"$work/schemathesis.toml" <<'TOML'
[parameters]
"path.tenantId" = "${ST_TENANT}"

# positive_data_acceptance assumes the document is the whole validator. For
# these bodies the rules go beyond what JSON Schema says: names count
# characters after trimming and refuse control, bidi and zero-width
# characters; an identifier is an https URI (http only on a loopback host);
# roles name applications and scopes that must exist; user emails must be
# valid and unique, passwords follow the tenant's policy, and a password
# change names a user that must exist; an application's keys must be real public
# keys, or a jwks_uri that answers with some; a trusted issuer is an https URL
# (http only on loopback) with real public keys or an https jwks_uri, not both,
# and a federated credential's subject and audience carry no control characters. A schema-valid body can break them, and the
# documented 400 (409 for a duplicate, 404 for a missing application) is the
# right answer. Every other check still runs on these operations.
[[operations]]
include-operation-id = ["createApplication", "renameApplication", "createRole", "updateRole", "signUpUser", "replaceUser", "changeUserPassword", "setApplicationKeys", "createTrustedIssuer", "createFederatedCredential"]
checks.positive_data_acceptance.enabled = false

# ensure_resource_availability reads any 404 after a create as the created
# resource gone missing. Here the 404 names something else, as documented: a
# new application has no previous secret until its first rotation and no
# public keys until they are set; a role body or a role list names
# applications and roles that must exist, a federated credential names a
# trusted issuer that must exist, and a password change names a user by the
# ID in its body.
[[operations]]
include-operation-id = ["revokePreviousSecret", "getApplicationKeys", "deleteApplicationKeys", "updateRole", "setApplicationRoles", "createFederatedCredential", "setUserRoles", "changeUserPassword"]
checks.ensure_resource_availability.enabled = false
TOML

echo "==> schemathesis $SCHEMATHESIS_VERSION against $base/management/v4/openapi.json ($examples examples per operation)"
SCHEMATHESIS_HOOKS="$work/hooks.py" "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/management/v4/openapi.json" \
  --max-examples "$examples" \
  --generation-database none \
  --workers 1 \
  --request-timeout 10 \
  "${seed_args[@]}"
echo "schemathesis found nothing"
