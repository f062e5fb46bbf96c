//! The `clavis` binary itself: first start, second start, configuration
//! errors, and the scriptable subcommands.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn clavis(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clavis"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    command
}

fn temp_dir() -> std::path::PathBuf {
    tempfile::Builder::new().prefix("clavis-cli-").tempdir().unwrap().keep()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Starts `clavis serve`, waits until it answers, returns it and the lines
/// it printed on stdout by then.
fn start(data_dir: &Path) -> (Child, Vec<String>) {
    let port = free_port();
    let mut child = clavis(data_dir)
        .env("CLAVIS_ADDR", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(port) {
        assert!(Instant::now() < deadline, "clavis did not start");
        assert!(child.try_wait().unwrap().is_none(), "clavis exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).collect();
    (child, lines)
}

#[test]
fn first_start_prints_the_admin_once_and_second_start_reuses_everything() {
    let dir = temp_dir();
    let (_, first) = start(&dir);
    let text = first.join("\n");
    assert!(text.contains("email:    admin@localhost"), "{text}");
    let password_lines = first.iter().filter(|line| line.trim_start().starts_with("password:")).count();
    assert_eq!(password_lines, 1, "{text}");
    let key = std::fs::read(dir.join("master.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dir.join("master.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let (_, second) = start(&dir);
    assert!(second.iter().all(|line| !line.contains("password")), "{second:?}");
    assert_eq!(std::fs::read(dir.join("master.key")).unwrap(), key, "the master key is reused");
    let tenants = run_json(clavis(&dir).args(["tenant", "list"]).output().unwrap());
    assert_eq!(tenants["tenants"].as_array().unwrap().len(), 1, "nothing new was created");
    std::fs::remove_dir_all(&dir).ok();
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("clavis: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_configuration_ends_with_one_clear_line() {
    let dir = temp_dir();
    let port = free_port();
    let stopped = clavis(&dir)
        .env("CLAVIS_DATABASE_URL", format!("postgres://clavis:hunter2@127.0.0.1:{port}/clavis"))
        .arg("serve")
        .output()
        .unwrap();
    let message = one_line_error(&stopped);
    assert!(message.contains("cannot connect to the database"), "{message}");
    assert!(!message.contains("hunter2"), "the database password leaked: {message}");

    let bad_key = clavis(&dir).env("CLAVIS_MASTER_KEY", "too-short").arg("migrate").output().unwrap();
    let message = one_line_error(&bad_key);
    assert!(message.contains("CLAVIS_MASTER_KEY"), "{message}");
    let bad_addr = clavis(&dir).env("CLAVIS_ADDR", "nowhere").arg("migrate").output().unwrap();
    let message = one_line_error(&bad_addr);
    assert!(message.contains("CLAVIS_ADDR"), "{message}");
    let bad_url = clavis(&dir).env("CLAVIS_DATABASE_URL", "mysql://x").arg("migrate").output().unwrap();
    let message = one_line_error(&bad_url);
    assert!(message.contains("CLAVIS_DATABASE_URL"), "{message}");
    std::fs::write(dir.join("master.key"), "garbage").unwrap();
    let unreadable = clavis(&dir).arg("migrate").output().unwrap();
    let message = one_line_error(&unreadable);
    assert!(message.contains("master key file"), "{message}");
    std::fs::remove_dir_all(&dir).ok();
}

fn run_json(output: Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn subcommands_print_json_and_fail_with_one_line() {
    let dir = temp_dir();
    let migrated = run_json(clavis(&dir).arg("migrate").output().unwrap());
    assert_eq!(migrated["migrated"], true);
    run_json(clavis(&dir).arg("migrate").output().unwrap());

    let tenant =
        run_json(clavis(&dir).args(["tenant", "create", "--name", "Acme", "--signing-alg", "ES256"]).output().unwrap());
    let tenant_id = tenant["tenantId"].as_str().unwrap().to_owned();
    assert_eq!(tenant["signingAlg"], "ES256");
    assert!(tenant["oAuthServerUrl"].as_str().unwrap().ends_with(&format!("/oauth/v4/{tenant_id}")));

    let app =
        run_json(clavis(&dir).args(["app", "create", "--tenant", &tenant_id, "--name", "billing"]).output().unwrap());
    for field in
        ["clientId", "tenantId", "secret", "name", "oAuthServerUrl", "profilesUrl", "discoveryEndpoint", "createdAt"]
    {
        assert!(app.get(field).is_some(), "Application lacks {field}: {app}");
    }
    let client_id = app["clientId"].as_str().unwrap().to_owned();
    let listed = run_json(clavis(&dir).args(["app", "list", "--tenant", &tenant_id]).output().unwrap());
    assert_eq!(listed["applications"][0]["clientId"], client_id.as_str());
    assert!(listed["applications"][0].get("secret").is_none(), "listing does not print secrets");

    let rotated = run_json(
        clavis(&dir)
            .args(["app", "rotate-secret", "--tenant", &tenant_id, "--client-id", &client_id, "--grace-seconds", "60"])
            .output()
            .unwrap(),
    );
    assert_ne!(rotated["secret"], app["secret"]);
    assert!(rotated["previousSecretExpiresAt"].is_string());
    let keys = run_json(clavis(&dir).args(["keys", "rotate", "--tenant", &tenant_id]).output().unwrap());
    assert!(keys["kid"].is_string());
    run_json(clavis(&dir).args(["app", "delete", "--tenant", &tenant_id, "--client-id", &client_id]).output().unwrap());

    let too_long =
        clavis(&dir).args(["app", "create", "--tenant", &tenant_id, "--name", &"x".repeat(51)]).output().unwrap();
    assert!(one_line_error(&too_long).contains("1 to 50 characters"));
    let unknown =
        clavis(&dir).args(["app", "list", "--tenant", "00000000-0000-4000-8000-000000000000"]).output().unwrap();
    assert!(one_line_error(&unknown).contains("tenant not found"));
    let gone =
        clavis(&dir).args(["app", "delete", "--tenant", &tenant_id, "--client-id", &client_id]).output().unwrap();
    assert!(one_line_error(&gone).contains("application not found"));
    let member = run_json(
        clavis(&dir)
            .args(["member", "add", "--tenant", &tenant_id, "--email", "Ops@Example.com", "--role", "viewer"])
            .env("CLAVIS_MEMBER_PASSWORD", "a-long-initial-password")
            .output()
            .unwrap(),
    );
    assert_eq!(member["email"], "ops@example.com");
    assert_eq!(member["role"], "viewer");
    let members = run_json(clavis(&dir).args(["member", "list", "--tenant", &tenant_id]).output().unwrap());
    assert!(members.to_string().contains("ops@example.com"), "{members}");
    assert!(!members.to_string().contains("a-long-initial-password"));
    let no_password =
        clavis(&dir).args(["member", "add", "--tenant", &tenant_id, "--email", "new@example.com"]).output().unwrap();
    assert!(one_line_error(&no_password).contains("initial password"));
    let bad_alg = clavis(&dir).args(["tenant", "create", "--name", "X", "--signing-alg", "HS256"]).output().unwrap();
    assert!(one_line_error(&bad_alg).contains("RS256, ES256 or EdDSA"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn access_control_commands_script_app_ids_flow() {
    let dir = temp_dir();
    let run = |args: &[&str]| run_json(clavis(&dir).args(args).output().unwrap());
    let tenant = run(&["tenant", "create", "--name", "Acme"]);
    let t = tenant["tenantId"].as_str().unwrap().to_owned();
    assert!(tenant["managementUrl"].as_str().unwrap().ends_with(&format!("/management/v4/{t}")));
    let inventory =
        run(&["app", "create", "--tenant", &t, "--name", "inventory", "--identifier", "https://inventory.example"]);
    let api = inventory["clientId"].as_str().unwrap().to_owned();
    assert_eq!(inventory["identifier"], "https://inventory.example");
    let scopes = run(&["app", "set-scopes", "--tenant", &t, "--client-id", &api, "--scopes", "read,write"]);
    assert_eq!(scopes, serde_json::json!({"scopes": ["read", "write"]}));
    let bad =
        clavis(&dir).args(["app", "set-scopes", "--tenant", &t, "--client-id", &api, "--scopes", "Read"]).output();
    assert!(one_line_error(&bad.unwrap()).contains("\"Read\""));

    let grant = format!("{api}:read");
    let role = run(&["role", "create", "--tenant", &t, "--name", "reader", "--grant", &grant]);
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(role["access"], serde_json::json!([{"application_id": api, "scopes": ["read"]}]));
    let caller = run(&["app", "create", "--tenant", &t, "--name", "storefront"]);
    let caller_id = caller["clientId"].as_str().unwrap().to_owned();
    let held = run(&["app", "set-roles", "--tenant", &t, "--client-id", &caller_id, "--roles", &role_id]);
    assert_eq!(held, serde_json::json!({"roles": [{"id": role_id, "name": "reader"}]}));
    let listed = run(&["role", "list", "--tenant", &t]);
    assert_eq!(listed["roles"][0]["name"], "reader");
    let updated = run(&[
        "role",
        "update",
        "--tenant",
        &t,
        "--role-id",
        &role_id,
        "--name",
        "writer",
        "--grant",
        &format!("{api}:write"),
    ]);
    assert_eq!(updated["access"][0]["scopes"], serde_json::json!(["write"]));
    let renamed = run(&["app", "set-identifier", "--tenant", &t, "--client-id", &api, "--remove"]);
    assert!(renamed.get("identifier").is_none(), "{renamed}");
    let bad_grant = clavis(&dir).args(["role", "create", "--tenant", &t, "--name", "x", "--grant", "nocolon"]).output();
    assert!(one_line_error(&bad_grant.unwrap()).contains("CLIENT_ID:scope"));
    let deleted = run(&["role", "delete", "--tenant", &t, "--role-id", &role_id]);
    assert_eq!(deleted["deleted"], true);
    let none = run(&["role", "list", "--tenant", &t]);
    assert_eq!(none["roles"], serde_json::json!([]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_data_directory_and_database_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = temp_dir();
    let dir = parent.join("data");
    run_json(clavis(&dir).arg("migrate").output().unwrap());
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&dir.join("clavis.db")), 0o600, "database file");
    assert_eq!(mode(&dir.join("master.key")), 0o600, "master key file");
    std::fs::remove_dir_all(&parent).ok();
}

#[test]
fn debug_output_of_configuration_and_commands_hides_secrets() {
    let args = server::config::ConfigArgs {
        addr: "127.0.0.1:3000".into(),
        public_url: None,
        data_dir: temp_dir(),
        database_url: Some("postgres://clavis:db-pass-123@db.internal/clavis".into()),
        master_key: Some("bWFzdGVyLWtleS1tYXN0ZXIta2V5LW1hc3Rlci1rZXk=".into()),
        bootstrap_admin_email: "admin@localhost".into(),
        site_root: "target/site".into(),
        trusted_proxies: None,
        log_format: "text".into(),
        metrics_addr: None,
        shutdown_grace_secs: "20".into(),
    };
    let shown = format!("{args:?}");
    assert!(shown.contains("db.internal") && shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains("db-pass-123") && !shown.contains("bWFzdGVy"), "{shown}");
    let config = args.resolve().unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("db-pass-123") && !shown.contains("bWFzdGVy"), "{shown}");
    let command = server::cli::MemberCommand::Add {
        tenant: "t".into(),
        email: "ops@example.com".into(),
        role: "admin".into(),
        password: Some("initial-password-123".into()),
    };
    let shown = format!("{command:?}");
    assert!(shown.contains("ops@example.com") && !shown.contains("initial-password-123"), "{shown}");
    std::fs::remove_dir_all(&config.data_dir).ok();
}

#[test]
fn kill_switches_from_the_command_line() {
    let dir = temp_dir();
    let run = |args: &[&str]| run_json(clavis(&dir).args(args).output().unwrap());
    let t = run(&["tenant", "create", "--name", "Acme"])["tenantId"].as_str().unwrap().to_owned();
    let app = run(&["app", "create", "--tenant", &t, "--name", "svc"]);
    let id = app["clientId"].as_str().unwrap().to_owned();
    let revoked = run(&["app", "revoke-tokens", "--tenant", &t, "--client-id", &id]);
    assert_eq!(revoked["clientId"], id.as_str());
    assert!(revoked["revokedBefore"].is_string());
    let rotated =
        run(&["app", "rotate-secret", "--tenant", &t, "--client-id", &id, "--grace-seconds", "0", "--revoke-tokens"]);
    assert!(rotated["secret"].is_string());
    let keys = run(&["keys", "rotate", "--tenant", &t]);
    let kid = keys["kid"].as_str().unwrap().to_owned();
    let revoked = run(&["keys", "revoke", "--tenant", &t, "--kid", &kid]);
    assert_eq!(revoked["revokedKid"], kid.as_str());
    assert_ne!(revoked["activeKid"], kid.as_str());
    let twice = clavis(&dir).args(["keys", "revoke", "--tenant", &t, "--kid", &kid]).output().unwrap();
    assert!(one_line_error(&twice).contains("already revoked"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `clavis serve` left running on a free port, with extra environment.
fn serve_running(data_dir: &Path, env: &[(&str, &str)]) -> (Child, u16) {
    let port = free_port();
    let mut command = clavis(data_dir);
    command.env("CLAVIS_ADDR", format!("127.0.0.1:{port}")).arg("serve").stdout(Stdio::null()).stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(port) {
        assert!(Instant::now() < deadline, "clavis did not start");
        assert!(child.try_wait().unwrap().is_none(), "clavis exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, port)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A client credentials token from a running server: (status, JSON body).
fn token_over_http(port: u16, tenant_id: &str, client_id: &str, secret: &str) -> (u16, serde_json::Value) {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let body = "grant_type=client_credentials";
    let request = format!(
        "POST /oauth/v4/{tenant_id}/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Authorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (_, json) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

fn kid_of(token: &serde_json::Value) -> String {
    use base64::Engine;
    let header = token["access_token"].as_str().unwrap().split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"].as_str().unwrap().to_owned()
}

/// The data directories to rotate in: SQLite, and one on PostgreSQL when the
/// test command provides a cluster (the key file stays in the directory).
fn rotation_backends() -> Vec<(std::path::PathBuf, Vec<(&'static str, String)>)> {
    let mut out = vec![(temp_dir(), Vec::new())];
    let postgres = tokio::runtime::Runtime::new().unwrap().block_on(clavis_test_support::postgres_url());
    if let Some(url) = postgres {
        out.push((temp_dir(), vec![("CLAVIS_DATABASE_URL", url)]));
    }
    out
}

#[test]
fn master_key_rotation_reseals_everything_while_a_server_runs() {
    for (dir, extra) in rotation_backends() {
        let env: Vec<(&str, &str)> = extra.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let cmd = |args: &[&str]| {
            let mut command = clavis(&dir);
            command.args(args).envs(env.iter().copied());
            command
        };
        let run = |args: &[&str]| run_json(cmd(args).output().unwrap());
        let t = run(&["tenant", "create", "--name", "Acme", "--signing-alg", "ES256"])["tenantId"]
            .as_str()
            .unwrap()
            .to_owned();
        let app = run(&["app", "create", "--tenant", &t, "--name", "svc"]);
        let (id, secret) = (app["clientId"].as_str().unwrap().to_owned(), app["secret"].as_str().unwrap().to_owned());
        let old_key = std::fs::read_to_string(dir.join("master.key")).unwrap();
        let old_key = old_key.trim().strip_prefix("1:").unwrap().to_owned();

        let status = run(&["master-key", "status"]);
        assert_eq!(status["currentVersion"], 1, "{status}");
        assert_eq!(status["keySource"], "file");
        assert_eq!(status["sealed"]["byVersion"]["1"]["clientSecrets"], 1, "{status}");
        assert!(!status.to_string().contains(&old_key), "status shows no key material");

        let (server, port) = serve_running(&dir, &env);
        let (code, before) = token_over_http(port, &t, &id, &secret);
        assert_eq!(code, 200, "{before}");
        let kid = kid_of(&before);

        let rotated = run(&["master-key", "rotate", "--batch-size", "1"]);
        assert_eq!(rotated["addedVersion"], 2, "{rotated}");
        assert_eq!(rotated["currentVersion"], 2);
        assert_eq!(rotated["notUnderCurrent"], 0, "{rotated}");
        assert!(rotated["resealed"].as_u64().unwrap() >= 3, "two signing keys and a secret: {rotated}");
        assert!(!rotated.to_string().contains(&old_key));
        let file = std::fs::read_to_string(dir.join("master.key")).unwrap();
        assert!(file.starts_with("2:") && file.contains(&format!("1:{old_key}")), "old key kept for opening");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(dir.join("master.key")).unwrap().permissions().mode() & 0o777, 0o600);
        }

        // The running server keeps issuing, and seals what it creates now under version 2.
        let (code, during) = token_over_http(port, &t, &id, &secret);
        assert_eq!(code, 200, "{during}");
        let second = run(&["app", "create", "--tenant", &t, "--name", "later"]);
        stop(server);
        let status = run(&["master-key", "status"]);
        assert_eq!(status["notUnderCurrent"], 0, "{status}");
        assert_eq!(status["sealed"]["byVersion"].as_object().unwrap().len(), 1, "only version 2: {status}");

        // A restarted server: same secret, same signing key.
        let (server, port) = serve_running(&dir, &env);
        let (code, after) = token_over_http(port, &t, &id, &secret);
        assert_eq!(code, 200, "{after}");
        assert_eq!(kid_of(&after), kid, "signed by the same key");
        let (code, _) =
            token_over_http(port, &t, second["clientId"].as_str().unwrap(), second["secret"].as_str().unwrap());
        assert_eq!(code, 200);
        stop(server);

        // A second rotation, then the old versions leave the key file.
        let again = run(&["master-key", "rotate"]);
        assert_eq!((again["addedVersion"].as_u64(), again["notUnderCurrent"].as_u64()), (Some(3), Some(0)), "{again}");
        let retired = run(&["master-key", "retire"]);
        assert_eq!(retired, serde_json::json!({"retiredVersions": [2, 1], "keyVersions": [3]}));

        // A server given only the first key refuses to start, in one clear line.
        let stale =
            cmd(&["serve"]).env("CLAVIS_MASTER_KEY", &old_key).env("CLAVIS_ADDR", "127.0.0.1:0").output().unwrap();
        let message = one_line_error(&stale);
        assert!(message.contains("master key version 3") && message.contains("not configured"), "{message}");
        assert!(!message.contains(&old_key), "{message}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn master_keys_from_the_environment_roll_without_the_file() {
    use base64::Engine;
    let dir = temp_dir();
    let key = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let (old, new) = (format!("1:{}", key(1)), format!("2:{}", key(2)));
    let run = |master_key: &str, args: &[&str]| {
        run_json(clavis(&dir).env("CLAVIS_MASTER_KEY", master_key).args(args).output().unwrap())
    };
    // The plain single key of before still works, as version 1.
    let t = run(&key(1), &["tenant", "create", "--name", "Acme", "--signing-alg", "ES256"])["tenantId"]
        .as_str()
        .unwrap()
        .to_owned();
    let app = run(&old, &["app", "create", "--tenant", &t, "--name", "svc"]);
    assert!(!dir.join("master.key").exists(), "no key file when the environment holds the keys");

    let both = format!("{new},{old}");
    let rotated = run(&both, &["master-key", "rotate"]);
    assert_eq!(rotated["addedVersion"], serde_json::Value::Null, "{rotated}");
    assert_eq!((rotated["currentVersion"].as_u64(), rotated["notUnderCurrent"].as_u64()), (Some(2), Some(0)));
    let refused = clavis(&dir).env("CLAVIS_MASTER_KEY", &both).args(["master-key", "retire"]).output().unwrap();
    assert!(one_line_error(&refused).contains("CLAVIS_MASTER_KEY"));

    // The old key can go: a server with only the new one issues with the same secret.
    let (server, port) = serve_running(&dir, &[("CLAVIS_MASTER_KEY", &new)]);
    let (code, token) = token_over_http(port, &t, app["clientId"].as_str().unwrap(), app["secret"].as_str().unwrap());
    assert_eq!(code, 200, "{token}");
    stop(server);
    let stale = clavis(&dir).env("CLAVIS_MASTER_KEY", &old).env("CLAVIS_ADDR", "127.0.0.1:0").arg("serve").output();
    let message = one_line_error(&stale.unwrap());
    assert!(message.contains("version 2"), "{message}");
    let bad = clavis(&dir).env("CLAVIS_MASTER_KEY", format!("2:{},2:{}", key(2), key(3))).arg("migrate").output();
    let message = one_line_error(&bad.unwrap());
    assert!(message.contains("appears twice") && !message.contains(&key(3)), "{message}");
    std::fs::remove_dir_all(&dir).ok();
}
