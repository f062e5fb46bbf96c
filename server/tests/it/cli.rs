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
