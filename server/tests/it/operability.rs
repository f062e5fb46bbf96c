//! What an operator relies on: `/metrics` (token counts by grant and
//! outcome, no tenant or client IDs, build info), `X-Request-Id` (fresh,
//! echoed, kept only from a trusted proxy), JSON log lines carrying the
//! request ID, start-up refusing bad settings, and graceful shutdown on
//! SIGTERM (the request in flight finishes, new connections are refused,
//! usage is flushed, the process exits 0), on SQLite and PostgreSQL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use clavis_types::ManagementAccess;

use super::support::{Reply, TestServer, basic_header, postgres_url, servers};

const TOKEN_COUNTER: &str = "clavis_token_requests_total";

/// The value of the sample of `name` whose labels include every pair, if any.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        let wanted = labels.iter().all(|(key, val)| rest.contains(&format!("{key}=\"{val}\"")));
        let exact_name = rest.is_empty() || rest.starts_with('{');
        (exact_name && wanted).then(|| value.parse().ok()).flatten()
    })
}

async fn metrics_text(s: &TestServer) -> String {
    let reply = s.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"), "{:?}", reply.headers);
    reply.text()
}

fn token_request(tenant_id: &str, id: &str, secret: &str, peer: [u8; 4]) -> Request<Body> {
    let mut request = Request::post(format!("/oauth/v4/{tenant_id}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic_header(id, secret))
        .body(Body::from("grant_type=client_credentials"))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from((peer, 40000))));
    request
}

#[tokio::test]
async fn metrics_count_tokens_by_grant_and_outcome_and_name_no_tenant_or_client() {
    let ok = [("grant_type", "client_credentials"), ("outcome", "ok")];
    let refused = [("grant_type", "client_credentials"), ("outcome", "invalid_client")];
    let unsupported = [("grant_type", "other"), ("outcome", "unsupported_grant_type")];
    let throttled = [("kind", "client_authentication")];
    let token_route = [("route", "/oauth/v4/{tenant_id}/token"), ("status", "2xx")];
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        // Other tests share the process's recorder: compare before and after.
        let before = metrics_text(&s).await;
        let count = |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels).unwrap_or(0.0);

        s.token_for(&app).await;
        let wrong = s.send(token_request(&tenant.tenant_id, &app.client_id, "wrong", [10, 9, 9, 1])).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text());
        let other = s
            .post_form(
                &format!("/oauth/v4/{}/token", tenant.tenant_id),
                Some((&app.client_id, &secret)),
                "grant_type=urn:made-up-grant",
            )
            .await;
        assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text());
        // Ten failures are free; the next wrong secret from that address is throttled.
        for _ in 0..10 {
            s.send(token_request(&tenant.tenant_id, &app.client_id, "wrong", [10, 9, 9, 2])).await;
        }
        let slowed = s.send(token_request(&tenant.tenant_id, &app.client_id, "wrong", [10, 9, 9, 2])).await;
        assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS, "{}", slowed.text());

        let after = metrics_text(&s).await;
        assert!(
            count(&after, TOKEN_COUNTER, &ok) >= count(&before, TOKEN_COUNTER, &ok) + 1.0,
            "{}: {after}",
            s.backend
        );
        assert!(count(&after, TOKEN_COUNTER, &refused) >= count(&before, TOKEN_COUNTER, &refused) + 11.0, "{after}");
        assert!(count(&after, TOKEN_COUNTER, &unsupported) >= count(&before, TOKEN_COUNTER, &unsupported) + 1.0);
        let made_up = "urn:made-up-grant";
        assert!(!after.contains(made_up), "a caller's grant_type became a label");
        let throttled_name = "clavis_throttled_requests_total";
        assert!(count(&after, throttled_name, &throttled) >= count(&before, throttled_name, &throttled) + 1.0);
        let requests = "clavis_http_requests_total";
        assert!(count(&after, requests, &token_route) >= count(&before, requests, &token_route) + 1.0, "{after}");
        assert!(
            after.contains(
                "clavis_http_request_duration_seconds_bucket{route=\"/oauth/v4/{tenant_id}/token\",le=\"0.0005\"}"
            ),
            "latency histogram with sub-millisecond buckets: {after}"
        );
        // The wrong secrets found the application in the cache.
        let hits = "clavis_client_cache_hits_total";
        assert!(count(&after, hits, &[]) >= count(&before, hits, &[]) + 10.0, "{after}");
        assert!(sample(&after, "clavis_client_cache_misses_total", &[]).unwrap() >= 1.0);
        assert!(sample(&after, "clavis_keyring_cache_misses_total", &[]).unwrap() >= 1.0);
        assert!(sample(&after, "clavis_cache_invalidations_total", &[]).is_some(), "{after}");
        assert_eq!(sample(&after, "clavis_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), Some(1.0));
        assert!(sample(&after, "clavis_db_pool_max_connections", &[]).unwrap() >= 1.0, "{after}");
        assert!(sample(&after, "clavis_db_pool_connections", &[("state", "idle")]).is_some(), "{after}");
        assert!(!after.contains(&app.client_id), "a client ID is a label: {after}");
        assert!(!after.contains(&tenant.tenant_id), "a tenant ID is a label: {after}");
        assert!(!after.contains(&secret));
    }
}

fn request_id_of(reply: &Reply) -> String {
    reply.header("x-request-id").expect("every response has X-Request-Id").to_owned()
}

fn with_id(peer: [u8; 4], id: &str) -> Request<Body> {
    let mut request = Request::get("/healthz").header("x-request-id", id).body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from((peer, 40000))));
    request
}

#[tokio::test]
async fn request_ids_are_fresh_echoed_and_kept_only_from_a_trusted_proxy() {
    for s in servers().await {
        let first = request_id_of(&s.get("/healthz").await);
        let second = request_id_of(&s.get("/healthz").await);
        assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
        assert_ne!(first, second, "each request gets its own ID");
        // Errors and the OAuth endpoints carry one too.
        let (tenant, _) = s.tenant("Acme").await;
        let refused = s.post_form(&format!("/oauth/v4/{}/token", tenant.tenant_id), None, "grant_type=x").await;
        assert!(uuid::Uuid::parse_str(&request_id_of(&refused)).is_ok());
        assert!(uuid::Uuid::parse_str(&request_id_of(&s.get("/no/such/page").await)).is_ok());

        // The test router trusts 10.0.0.0/8 as proxies.
        let kept = s.send(with_id([10, 1, 2, 3], "lb-7f3a.91_x")).await;
        assert_eq!(request_id_of(&kept), "lb-7f3a.91_x", "{}", s.backend);
        let longest = "a".repeat(128);
        assert_eq!(request_id_of(&s.send(with_id([10, 1, 2, 3], &longest)).await), longest);

        let from_stranger = request_id_of(&s.send(with_id([203, 0, 113, 5], "lb-7f3a.91_x")).await);
        assert_ne!(from_stranger, "lb-7f3a.91_x", "an untrusted peer chose its request ID");
        assert!(uuid::Uuid::parse_str(&from_stranger).is_ok());
        for malformed in ["has space", "semi;colon", "quote\"d", &"a".repeat(129), "caf%C3%A9", "{json}"] {
            let replaced = request_id_of(&s.send(with_id([10, 1, 2, 3], malformed)).await);
            assert_ne!(replaced, malformed);
            assert!(uuid::Uuid::parse_str(&replaced).is_ok(), "{malformed:?} → {replaced}");
        }
        // Two IDs at once: neither is believed.
        let mut doubled = with_id([10, 1, 2, 3], "one");
        doubled.headers_mut().append("x-request-id", "two".parse().unwrap());
        let chosen = request_id_of(&s.send(doubled).await);
        assert!(uuid::Uuid::parse_str(&chosen).is_ok(), "{chosen}");
    }
}

// ---- the `clavis` binary ----

fn clavis(data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clavis"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    if let Some(url) = database_url {
        command.env("CLAVIS_DATABASE_URL", url);
    }
    command
}

fn temp_dir() -> PathBuf {
    tempfile::Builder::new().prefix("clavis-ops-").tempdir().unwrap().keep()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Status, headers (lower-case names) and body of one answer.
type Exchange = (u16, Vec<(String, String)>, String);

/// One HTTP/1.1 exchange on a fresh connection.
fn exchange(port: u16, request: &str) -> std::io::Result<Exchange> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> std::io::Result<Exchange> {
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

fn get(port: u16, path: &str) -> std::io::Result<Exchange> {
    exchange(port, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A running `clavis serve` with its stderr in a file.
struct Served {
    child: Child,
    port: u16,
    stderr: PathBuf,
}

impl Served {
    fn start(mut command: Command, data_dir: &Path) -> Self {
        let port = free_port();
        let stderr = data_dir.join("stderr.log");
        let child = command
            .env("CLAVIS_ADDR", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut served = Self { child, port, stderr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(get(port, "/healthz"), Ok((200, _, _))) {
            assert!(Instant::now() < deadline, "clavis did not start: {}", served.log());
            assert!(served.child.try_wait().unwrap().is_none(), "clavis exited early: {}", served.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        served
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end by itself.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "clavis did not exit: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SQLite in the data directory, and a fresh PostgreSQL database when the
/// test command provides a cluster.
fn backends() -> Vec<(&'static str, Option<String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut backends = vec![("sqlite", None)];
    if let Some(url) = runtime.block_on(postgres_url()) {
        backends.push(("postgres", Some(url)));
    }
    backends
}

#[test]
fn json_logs_carry_the_request_id_and_metrics_can_leave_the_main_listener() {
    for (backend, url) in backends() {
        let dir = temp_dir();
        let metrics_port = free_port();
        let mut command = clavis(&dir, url.as_deref());
        command
            .env("CLAVIS_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,clavis::access=debug")
            .env("CLAVIS_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"));
        let mut served = Served::start(command, &dir);
        let (status, headers, _) = get(served.port, "/healthz?probe=secret-looking-query").unwrap();
        assert_eq!(status, 200);
        let id = header(&headers, "x-request-id").unwrap().to_owned();

        let (status, _, _) = get(served.port, "/metrics").unwrap();
        assert_eq!(status, 404, "{backend}: /metrics left the main listener for CLAVIS_METRICS_ADDR");
        let (status, headers, body) = get(metrics_port, "/metrics").unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(header(&headers, "content-type").unwrap().starts_with("text/plain"));
        assert!(body.contains(&format!("clavis_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{body}");
        assert!(body.contains("clavis_http_requests_total{route=\"/healthz\",status=\"2xx\"}"), "{body}");

        served.terminate();
        assert!(served.wait(Duration::from_secs(30)).success(), "{}", served.log());
        let log = served.log();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line:?}")))
            .collect();
        assert!(lines.iter().all(|line| line["level"].is_string() && line["fields"].is_object()), "{log}");
        let of_request: Vec<&serde_json::Value> =
            lines.iter().filter(|line| line["span"]["request_id"] == id.as_str()).collect();
        assert!(!of_request.is_empty(), "{backend}: no line carries request_id {id}: {log}");
        for line in &of_request {
            assert_eq!(line["span"]["route"], "/healthz", "{line}");
            assert_eq!(line["span"]["method"], "GET", "{line}");
        }
        assert!(
            of_request.iter().any(|line| line["fields"]["status"] == 200),
            "the access line names the status: {log}"
        );
        assert!(!log.contains("secret-looking-query"), "a query string reached the logs: {log}");
        assert!(lines.iter().any(|line| line["fields"]["message"] == "Clavis stopped"), "{log}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("clavis: "), "{stderr}");
    stderr
}

#[test]
fn bad_operability_settings_stop_start_up_with_one_clear_line() {
    let dir = temp_dir();
    let bad_format = clavis(&dir, None).env("CLAVIS_LOG_FORMAT", "xml").arg("serve").output().unwrap();
    let message = one_line_error(&bad_format);
    assert!(message.contains("CLAVIS_LOG_FORMAT") && message.contains("text or json"), "{message}");
    let bad_addr = clavis(&dir, None).env("CLAVIS_METRICS_ADDR", "metrics.local").arg("migrate").output().unwrap();
    assert!(one_line_error(&bad_addr).contains("CLAVIS_METRICS_ADDR"));
    for grace in ["soon", "-1", "86400"] {
        let bad_grace = clavis(&dir, None).env("CLAVIS_SHUTDOWN_GRACE_SECS", grace).arg("migrate").output().unwrap();
        assert!(one_line_error(&bad_grace).contains("CLAVIS_SHUTDOWN_GRACE_SECS"), "{grace}");
    }
    let json = clavis(&dir, None).env("CLAVIS_LOG_FORMAT", "json").arg("migrate").output().unwrap();
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

fn run_json(output: Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Tokens counted for the application in the database, read after the process is gone.
fn tokens_in_database(dir: &Path, url: Option<&str>, tenant_id: &str, client_id: &str) -> i64 {
    let url = url.map_or_else(|| domain::db::sqlite_url(&dir.join("clavis.db")), str::to_owned);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = domain::db::connect(&url).await.unwrap();
        let clock = Arc::new(domain::SystemClock);
        let (services, cli) =
            domain::Services::for_cli(db, clock, domain::crypto::MasterKey::generate(), "http://127.0.0.1");
        let scope = cli.tenant_scope(&services, tenant_id).await.unwrap();
        let usage = services.token_usage(&scope, client_id, 10, chrono::Utc::now()).await.unwrap();
        usage.total()
    })
}

#[test]
fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_flushes_usage() {
    for (backend, url) in backends() {
        let dir = temp_dir();
        let cli = |args: &[&str]| run_json(clavis(&dir, url.as_deref()).args(args).output().unwrap());
        let tenant = cli(&["tenant", "create", "--name", "Acme"]);
        let tenant_id = tenant["tenantId"].as_str().unwrap().to_owned();
        let app = cli(&["app", "create", "--tenant", &tenant_id, "--name", "svc"]);
        let (client_id, secret) = (app["clientId"].as_str().unwrap(), app["secret"].as_str().unwrap());

        let mut command = clavis(&dir, url.as_deref());
        command.env("RUST_LOG", "info").env("CLAVIS_SHUTDOWN_GRACE_SECS", "20");
        let mut served = Served::start(command, &dir);
        let port = served.port;

        // A token request whose body is still on its way when SIGTERM comes.
        let body = "grant_type=client_credentials";
        let (first, rest) = body.split_at(10);
        let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            slow,
            "POST /oauth/v4/{tenant_id}/token HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
            basic_header(client_id, secret),
            body.len()
        )
        .unwrap();
        slow.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        served.terminate();

        // The listener closes at once...
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Err(err) => {
                    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
                    break;
                }
                Ok(_) => {
                    assert!(Instant::now() < deadline, "{backend}: still accepting after SIGTERM: {}", served.log());
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        assert!(served.child.try_wait().unwrap().is_none(), "exited with a request in flight: {}", served.log());

        // ...and the request in flight still gets its token.
        slow.write_all(rest.as_bytes()).unwrap();
        let (status, _, answer) = read_response(&mut slow).unwrap();
        assert_eq!(status, 200, "{backend}: {answer}");
        assert!(answer.contains("access_token"), "{answer}");

        let exit = served.wait(Duration::from_secs(30));
        assert!(exit.success(), "{backend}: {exit:?}: {}", served.log());
        let log = served.log();
        assert!(log.contains("shutting down"), "{log}");
        assert!(log.contains("Clavis stopped"), "{log}");
        assert!(!log.contains("panicked"), "{log}");
        assert_eq!(tokens_in_database(&dir, url.as_deref(), &tenant_id, client_id), 1, "{backend}: usage not flushed");
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn requests_still_in_flight_after_the_grace_period_do_not_hold_the_process() {
    let dir = temp_dir();
    let mut command = clavis(&dir, None);
    command.env("RUST_LOG", "info").env("CLAVIS_SHUTDOWN_GRACE_SECS", "1");
    let mut served = Served::start(command, &dir);
    // A body that never comes.
    let mut stuck = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    write!(
        stuck,
        "POST /oauth/v4/00000000-0000-4000-8000-000000000000/token HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    served.terminate();
    let exit = served.wait(Duration::from_secs(15));
    assert!(exit.success(), "{exit:?}: {}", served.log());
    assert!(signalled.elapsed() >= Duration::from_millis(900), "it did not wait for the request at all");
    assert!(served.log().contains("grace period"), "{}", served.log());
    std::fs::remove_dir_all(&dir).ok();
}
