#!/usr/bin/env python3
"""Seeds N applications, one current secret each, into a Clavis SQLite
database, and writes one HTTP Basic header per application to a file.

    bench/seed_apps.py DB TENANT_ID N CREDENTIALS_OUT

Used by the "N applications in random order" case of bench/run. Creating
100,000 applications one `clavis app create` at a time (a process, a
transaction, a sealed secret and an audit row each) takes far longer than
the measurement; this writes the rows the token endpoint reads (the
application, and its secret's SHA-256 digest) in one transaction, in
seconds. The sealed copy kept for reveal is a placeholder: the benchmark
never reveals a secret.
"""

import base64
import hashlib
import secrets
import sqlite3
import sys
import time
import uuid


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    db_path, tenant_id, count, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if count < 1:
        print("N must be at least 1", file=sys.stderr)
        return 2
    now = int(time.time())
    apps, secrets_rows, headers = [], [], []
    for i in range(count):
        client_id = str(uuid.uuid4())
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        created = now - count + i
        apps.append((client_id, tenant_id, f"bench-{i:06d}", "none", created, created, 0))
        secrets_rows.append((str(uuid.uuid4()), client_id, tenant_id, "current", digest, "bench-placeholder",
                             secret[-4:], created))
        # Client IDs and secrets are URL-safe, so the RFC 6749 section 2.3.1
        # form-encoding leaves them unchanged.
        headers.append("Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    db = sqlite3.connect(db_path, timeout=30)
    with db:
        db.executemany(
            "INSERT INTO applications (client_id, tenant_id, name, management_access, created_at, updated_at,"
            " tokens_issued) VALUES (?, ?, ?, ?, ?, ?, ?)",
            apps,
        )
        db.executemany(
            "INSERT INTO client_secrets (id, client_id, tenant_id, status, digest, sealed_secret, last_four,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            secrets_rows,
        )
    seeded = db.execute("SELECT count(*) FROM applications WHERE tenant_id = ?", (tenant_id,)).fetchone()[0]
    db.close()
    if seeded != count:
        print(f"seeded {seeded} applications, expected {count}", file=sys.stderr)
        return 1
    with open(out_path, "w", encoding="ascii") as out:
        out.write("\n".join(headers) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
