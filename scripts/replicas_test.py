#!/usr/bin/env python3
"""Two Clavis replicas on one PostgreSQL database behind HAProxy, tried as an
operator would: a delete through one replica is refused through the balancer
within a second; `kill -9` of a replica under load fails no request once the
balancer has marked it down; a PostgreSQL restart under load answers only 200
or 503 and full service follows without restarting Clavis; no replica panics.

Run by scripts/replicas-test.sh (which provides REPLICAS_WORK, CLAVIS_BIN and,
through scripts/with-postgres.sh, the throwaway cluster). Standard library only.
"""

import base64
import csv
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

WORK = os.environ["REPLICAS_WORK"]
BIN = os.path.abspath(os.environ["CLAVIS_BIN"])
PG_URL = os.environ["CLAVIS_TEST_POSTGRES_URL"]
PGBIN = os.environ["CLAVIS_TEST_PGBIN"]
PGDATA = os.environ["CLAVIS_TEST_PGDATA"]
PGOPTS = os.environ["CLAVIS_TEST_PGOPTS"]

DELETE_TRIALS = 10
LOAD_THREADS = 4
# How long after PostgreSQL is back every answer must be a 200 again.
RECOVERY_BUDGET = 5.0

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAILED: {what}", flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, headers=None, body=None, timeout=10):
    """One request on its own connection: (status, body); status 0 when no
    HTTP answer came (refused, reset, timed out)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        answer = conn.getresponse()
        return answer.status, answer.read()
    except (OSError, http.client.HTTPException) as err:
        return 0, repr(err).encode()
    finally:
        conn.close()


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(port, tenant, client_id, secret, audience=None):
    form = {"grant_type": "client_credentials"}
    if audience:
        form["audience"] = audience
    headers = {"Authorization": basic(client_id, secret), "Content-Type": "application/x-www-form-urlencoded"}
    return call(port, "POST", f"/oauth/v4/{tenant}/token", headers, urllib.parse.urlencode(form))


def pid_file(name):
    return os.path.join(WORK, "pids", f"{name}.pid")


class Process:
    """A child whose pid is recorded for the shell's trap, and whose output
    goes to a log file kept across restarts (appended)."""

    def __init__(self, name, argv, env, log):
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        with open(pid_file(name), "w") as f:
            f.write(str(self.proc.pid))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(pid_file(self.name)):
            os.remove(pid_file(self.name))


def clavis_env(data_dir, public_url, master_key, database_url):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CLAVIS_DATA_DIR": data_dir,
        "CLAVIS_PUBLIC_URL": public_url,
        "CLAVIS_DATABASE_URL": database_url,
        "CLAVIS_MASTER_KEY": master_key,
        # HAProxy's address: it sends X-Forwarded-For (option forwardfor).
        "CLAVIS_TRUSTED_PROXIES": "127.0.0.1/32",
        "RUST_LOG": "info",
        "NO_COLOR": "1",
    }


def start_replica(name, port, env):
    env = {**env, "CLAVIS_ADDR": f"127.0.0.1:{port}"}
    replica = Process(name, [BIN, "serve"], env, os.path.join(WORK, f"{name}.log"))
    replica.port = port
    deadline = time.monotonic() + 60
    while call(port, "GET", "/readyz", timeout=2)[0] != 200:
        if not replica.alive() or time.monotonic() > deadline:
            raise SystemExit(f"replica {name} did not become ready; see its log")
        time.sleep(0.05)
    return replica


# Why these HAProxy settings:
# - `option httpchk GET /readyz` every 200 ms, down after 2 failures and up
#   after 2 successes: a dead replica or one without its database leaves the
#   rotation within about half a second, and a flapping one does not return
#   on a single lucky check.
# - `retries 3` + `option redispatch 1`: a connection refused by a replica
#   that died before the health check noticed is retried on the other one
#   (conn-failure retries are always safe: the request never reached Clavis).
# - `retry-on conn-failure empty-response`: a request in flight on a replica
#   killed mid-answer is replayed on the other, but only for GET/HEAD and the
#   token endpoint (`disable-l7-retry` for everything else). A token request
#   is safe to replay: client credentials and password grants mint another
#   token; a refresh token whose rotation the dead replica had committed is
#   seen as reused, exactly as when the client itself retries after a 502.
#   Management writes are never replayed (a create would happen twice).
#   HAProxy 2.6 still answers 502 (SH--, no retry) for the odd request the
#   replica was answering at the moment of the kill; docs/replicas.md.
# - No `retry-on 503`: a 503 means the database is away for every replica.
HAPROXY_CFG = """\
global
    stats socket {sock} mode 600 level admin
    maxconn 2000

defaults
    mode http
    # Only abnormal sessions (errors, retries, redispatches) and state changes.
    log stderr format raw local0 info
    option httplog
    option dontlog-normal
    option dontlognull
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend clavis_in
    bind 127.0.0.1:{port}
    option forwardfor
    acl replay_safe method GET HEAD
    acl token_endpoint path_reg ^/oauth/v4/[^/]+/token$
    http-request disable-l7-retry unless replay_safe or token_endpoint
    default_backend clavis

backend clavis
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 200ms fall 2 rise 2
    server a 127.0.0.1:{a}
    server b 127.0.0.1:{b}
"""


class Balancer:
    def __init__(self, port, a_port, b_port):
        self.port = port
        self.sock = os.path.join(WORK, "haproxy.sock")
        cfg = os.path.join(WORK, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(sock=self.sock, port=port, a=a_port, b=b_port))
        subprocess.run(["haproxy", "-c", "-q", "-f", cfg], check=True)
        self.process = Process("haproxy", ["haproxy", "-db", "-f", cfg], dict(os.environ), os.path.join(WORK, "haproxy.log"))
        self.wait_for({"a": "UP", "b": "UP"}, 30)

    def states(self):
        """Each server's status as HAProxy's stats socket reports it."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(self.sock)
                s.sendall(b"show stat\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except OSError:
            return {}
        rows = csv.reader(data.decode().lstrip("# ").splitlines())
        header = next(rows, [])
        if "status" not in header:
            return {}
        px, sv, st = header.index("pxname"), header.index("svname"), header.index("status")
        return {row[sv]: row[st] for row in rows if len(row) > st and row[px] == "clavis"}

    def wait_for(self, wanted, timeout):
        """Polls until every named server's status starts with the wanted
        word; the moment it happened (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states()
            if all(states.get(name, "").startswith(status) for name, status in wanted.items()):
                return time.monotonic()
            time.sleep(0.01)
        raise SystemExit(f"HAProxy never reported {wanted}: {self.states()}")


class Load:
    """Threads that each repeat `request` (returning a status) until stopped;
    every answer is kept as (kind, start, end, status)."""

    def __init__(self, requests):
        self.records, self.stopping = [], threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(kind, fn), daemon=True) for kind, fn in requests]
        for thread in self.threads:
            thread.start()

    def loop(self, kind, request):
        while not self.stopping.is_set():
            start = time.monotonic()
            status = request()
            self.records.append((kind, start, time.monotonic(), status))

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        return self.records


def percentile(sorted_values, p):
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return sorted_values[int(rank) - 1]


def delete_honoured(lb, a, b, tenant, bearer, summary):
    apps = f"/management/v4/{tenant}/applications"
    auth = {"Authorization": bearer}
    delays = []
    for trial in range(DELETE_TRIALS):
        status, body = call(lb.port, "POST", apps, {**auth, "Content-Type": "application/json"}, json.dumps({"name": f"svc-{trial}"}))
        if not check(status == 201, f"create through the balancer answered {status}: {body[:200]!r}"):
            return
        app = json.loads(body)
        cid, secret = app["clientId"], app["secret"]
        # Each replica has the client cached, and the balancer serves it.
        for port in (a.port, b.port, lb.port, lb.port):
            status, _ = token(port, tenant, cid, secret)
            check(status == 200, f"trial {trial}: a token before the delete answered {status} on port {port}")
        status, body = call(a.port, "DELETE", f"{apps}/{cid}", auth)
        if not check(status == 204, f"delete through A answered {status}: {body[:200]!r}"):
            return
        since = time.monotonic()
        while True:
            # B directly, then the balancer twice (round robin: A and B).
            statuses = [token(port, tenant, cid, secret)[0] for port in (b.port, lb.port, lb.port)]
            elapsed = time.monotonic() - since
            if not check(all(s in (200, 401) for s in statuses), f"trial {trial}: refusals answered {statuses}"):
                return
            if all(s == 401 for s in statuses):
                break
            if not check(elapsed < 5, f"trial {trial}: still issues tokens {elapsed:.1f} s after the delete"):
                return
            time.sleep(0.002)
        delays.append(elapsed)
        later = [token(lb.port, tenant, cid, secret)[0] for _ in range(4)]
        check(later == [401] * 4, f"trial {trial}: after the refusal the balancer answered {later}")
    delays.sort()
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    summary.append(f"delete through A refused through the balancer and by B, {len(delays)} trials: "
                   f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")
    check(p99 < 1.0, f"delete honoured p99 {p99:.3f} s is not under 1 s ({delays})")


def kill_under_load(lb, b, tenant, cid, secret, summary):
    load = Load([("token", lambda: token(lb.port, tenant, cid, secret)[0])] * LOAD_THREADS)
    time.sleep(1.5)
    killed = time.monotonic()
    b.stop(signal.SIGKILL)
    marked = lb.wait_for({"b": "DOWN"}, 10)
    time.sleep(2)
    records = load.stop()
    failed = [r for r in records if r[3] != 200]
    failed_after = [r for r in failed if r[1] >= marked]
    during = sum(1 for r in records if killed <= r[1] < marked)
    summary.append(f"kill -9 of B under load ({LOAD_THREADS} threads, {len(records)} requests): HAProxy marked it "
                   f"down after {(marked - killed) * 1000:.0f} ms; {len(failed)} failed requests in all "
                   f"({len(failed) - len(failed_after)} before it was marked down, of {during} sent in that time; "
                   f"{len(failed_after)} after)")
    if failed:
        summary.append(f"  statuses of the failed requests: {sorted(r[3] for r in failed)}")
    check(not failed_after, f"requests failed after B was marked down: {sorted({r[3] for r in failed_after})}")
    check(len(records) > 50, f"only {len(records)} requests under load")


def pg_ctl(*args, check=True):
    """pg_ctl on the throwaway cluster, as its owner (it refuses to run as root)."""
    argv = [os.path.join(PGBIN, "pg_ctl"), "-D", PGDATA, *args]
    if os.getuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=check, stdout=subprocess.DEVNULL).returncode


def pg_start():
    log = os.path.join(os.path.dirname(PGDATA), "server.log")
    pg_ctl("-l", log, "-w", "-t", "30", "-o", PGOPTS, "start")


def postgres_restart(lb, a, b, tenant, cid, secret, bearer, summary):
    apps = f"/management/v4/{tenant}/applications"
    auth = {"Authorization": bearer}
    direct = iter(range(1 << 62))

    def replica_direct():
        # Clavis's own answers, which HAProxy hides once it marks both down.
        n = next(direct)
        port = (a.port, b.port)[n % 2]
        if n % 4 < 2:
            return token(port, tenant, cid, secret)[0]
        return call(port, "GET", apps, auth)[0]

    load = Load([("token", lambda: token(lb.port, tenant, cid, secret)[0])] * 3
                + [("management", lambda: call(lb.port, "GET", apps, auth)[0]), ("direct", replica_direct)])
    time.sleep(1)
    stopped = time.monotonic()
    pg_ctl("-m", "fast", "-w", "stop")
    # Away for longer than the health check needs to mark both replicas down,
    # so the outage is seen both from Clavis (its 503s) and from HAProxy.
    time.sleep(2)
    pg_start()
    back = time.monotonic()
    time.sleep(RECOVERY_BUDGET + 2)
    records = load.stop()
    statuses = sorted({r[3] for r in records})
    check(set(statuses) <= {200, 503}, f"answers during the PostgreSQL restart: {statuses} (only 200 and 503 allowed)")
    not_ok = [r for r in records if r[3] != 200 and r[1] >= stopped]
    recovered = max((r[2] for r in not_ok), default=back)
    counts = {}
    for kind, start, _, status in records:
        if stopped <= start < back:
            counts.setdefault(kind, {}).setdefault(status, 0)
            counts[kind][status] += 1
    summary.append(f"PostgreSQL stopped for {back - stopped:.1f} s under load: answers while away {counts}; "
                   f"full service {max(0.0, recovered - back):.2f} s after it was back")
    check(recovered - back < RECOVERY_BUDGET, f"not full service {RECOVERY_BUDGET} s after PostgreSQL was back")
    for kind in ("token", "management", "direct"):
        check(any(r[0] == kind and r[1] > recovered and r[3] == 200 for r in records), f"no 200 for {kind} after recovery")
    for replica in (a, b):
        check(replica.alive(), f"replica {replica.name} exited during the PostgreSQL restart")
        check(call(replica.port, "GET", apps, auth)[0] == 200, f"management GET on {replica.name} after the restart")
        check(token(replica.port, tenant, cid, secret)[0] == 200, f"token on {replica.name} after the restart")


def psql(sql):
    subprocess.run([os.path.join(PGBIN, "psql"), PG_URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


def cli(env, *args):
    out = subprocess.run([BIN, *args], env=env, check=True, capture_output=True)
    return json.loads(out.stdout)


def main():
    os.makedirs(os.path.join(WORK, "pids"), exist_ok=True)
    database = f"clavis_replicas_{os.getpid()}"
    psql(f"CREATE DATABASE {database}")
    database_url = PG_URL.rsplit("/", 1)[0] + "/" + database
    lb_port, a_port, b_port = free_port(), free_port(), free_port()
    public_url = f"http://127.0.0.1:{lb_port}"
    master_key = base64.b64encode(os.urandom(32)).decode()
    env = lambda name: clavis_env(os.path.join(WORK, name), public_url, master_key, database_url)
    started, summary = [], []
    try:
        # One after the other: concurrent first starts are another test's subject.
        a = start_replica("a", a_port, env("a"))
        started.append(a)
        b = start_replica("b", b_port, env("b"))
        started.append(b)
        lb = Balancer(lb_port, a_port, b_port)
        started.append(lb.process)

        tenant = cli(env("cli"), "tenant", "create", "--name", "Replicas")["tenantId"]
        admin = cli(env("cli"), "app", "create", "--tenant", tenant, "--name", "admin", "--management", "write")
        status, body = token(lb.port, tenant, admin["clientId"], admin["secret"], f"{public_url}/management/v4/{tenant}")
        if status != 200:
            raise SystemExit(f"management token through the balancer: {status} {body[:200]!r}")
        bearer = "Bearer " + json.loads(body)["access_token"]
        svc = cli(env("cli"), "app", "create", "--tenant", tenant, "--name", "load")

        delete_honoured(lb, a, b, tenant, bearer, summary)
        kill_under_load(lb, b, tenant, svc["clientId"], svc["secret"], summary)
        b = start_replica("b", b_port, env("b"))
        started.append(b)
        lb.wait_for({"a": "UP", "b": "UP"}, 30)
        postgres_restart(lb, a, b, tenant, svc["clientId"], svc["secret"], bearer, summary)
        check(a.alive(), "replica A is not the process started at the beginning")
    finally:
        for process in reversed(started):
            process.stop()
        if pg_ctl("status", check=False) != 0:
            pg_start()
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    for name in ("a", "b"):
        with open(os.path.join(WORK, f"{name}.log"), errors="replace") as f:
            panics = [line for line in f if "panicked" in line]
        check(not panics, f"replica {name} panicked: {panics[:3]}")
    with open(os.path.join(WORK, "haproxy.log"), errors="replace") as f:
        lines = [line.strip() for line in f if not line.startswith("[")]
    # Requests answered after a retry, and HAProxy's own 503s while no
    # replica was up, are only counted.
    retried = [line for line in lines if " 200 " in line and "/+" in line]
    no_server = [line for line in lines if "<NOSRV>" in line]
    shown = [line for line in lines if line not in retried and line not in no_server]
    print(f"\n==> HAProxy's log: {len(retried)} requests answered after a retry on the other replica, "
          f"{len(no_server)} answered 503 by HAProxy while no replica was up; the rest:\n  " + "\n  ".join(shown))
    print("\n==> replicas behind HAProxy\n  " + "\n  ".join(summary))
    if failures:
        print(f"\n{len(failures)} failed: " + "; ".join(failures))
        for name in ("a", "b"):
            with open(os.path.join(WORK, f"{name}.log"), errors="replace") as f:
                # The first start prints the bootstrap operator's password: keep it out.
                tail = [line for line in f if "password" not in line][-30:]
            print(f"\n--- last lines of replica {name}'s log\n" + "".join(tail))
        return 1
    print("\nall replica scenarios passed")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
