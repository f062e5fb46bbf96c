//! The operator's Cloud Directory commands: `user add` takes a password only
//! from stdin or generates one (printed once), `user list` searches, and
//! `user disable|enable|delete` find a user by email or ID. On SQLite, and
//! on PostgreSQL when the test command provides a cluster.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use base64::Engine;
use clavis_oauth::request::RawRequest;
use domain::crypto::MasterKey;
use domain::{ManualClock, Services};

fn clavis(data_dir: &Path, extra: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clavis"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .envs(extra.iter().map(|(name, value)| (*name, value.as_str())));
    command
}

fn run_json(output: Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A data directory, the environment that points the binary at its
/// database, and that database's URL.
type Backend = (PathBuf, Vec<(&'static str, String)>, String);

fn backends() -> Vec<Backend> {
    let sqlite = tempfile::Builder::new().prefix("clavis-users-").tempdir().unwrap().keep();
    let url = domain::db::sqlite_url(&sqlite.join("clavis.db"));
    let mut out = vec![(sqlite, Vec::new(), url)];
    let postgres = tokio::runtime::Runtime::new().unwrap().block_on(clavis_test_support::postgres_url());
    if let Some(url) = postgres {
        let dir = tempfile::Builder::new().prefix("clavis-users-").tempdir().unwrap().keep();
        out.push((dir, vec![("CLAVIS_DATABASE_URL", url.clone())], url));
    }
    out
}

/// Whether `email` signs in with `password` through the password grant,
/// against the database the binary wrote.
fn signs_in(dir: &Path, url: &str, tenant: &str, client: &(String, String), email: &str, password: &str) -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(domain::db::connect(url)).unwrap();
    // The binary's master key, which seals the tenant's signing key.
    let (key, _) = MasterKey::load_or_create(None, dir).unwrap();
    let services = Services::new(db, Arc::new(ManualClock::new(chrono::Utc::now())), key, "x");
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.0, client.1));
    let authorization = format!("Basic {basic}");
    let body = format!("grant_type=password&username={}&password={}", encode(email), encode(password));
    let raw = RawRequest {
        authorization: Some(authorization.as_bytes()),
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(body.as_bytes()),
        dpop: None,
        several_dpops: false,
    };
    runtime.block_on(services.token(tenant, raw, None, services.now())).is_ok()
}

fn with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_add_takes_a_password_from_stdin_or_generates_one_and_never_from_the_command_line() {
    for (dir, extra, url) in backends() {
        let run = |args: &[&str]| clavis(&dir, &extra).args(args).output().unwrap();
        let t = run_json(run(&["tenant", "create", "--name", "Acme"]))["tenantId"].as_str().unwrap().to_owned();
        let web = run_json(run(&["app", "create", "--tenant", &t, "--name", "web"]));
        let client = (web["clientId"].as_str().unwrap().to_owned(), web["secret"].as_str().unwrap().to_owned());

        let added = run(&["user", "add", "--tenant", &t, "--email", "ada@example.com", "--given-name", "Ada"]);
        let added = run_json(added);
        let generated = added["password"].as_str().unwrap().to_owned();
        assert!(generated.chars().count() >= 24, "{added}");
        assert_eq!(added["emails"], serde_json::json!([{"value": "ada@example.com", "primary": true}]));
        assert_eq!((added["displayName"].as_str(), added["active"].as_bool()), (Some("Ada"), Some(true)));
        assert!(signs_in(&dir, &url, &t, &client, "ada@example.com", &generated), "the printed password works");
        let listed = run(&["user", "list", "--tenant", &t]);
        assert!(!String::from_utf8_lossy(&listed.stdout).contains(&generated), "printed only once");

        let command = clavis(&dir, &extra);
        let mut command = command;
        command.args(["user", "add", "--tenant", &t, "--email", "grace@example.com", "--password-stdin"]);
        let chosen = run_json(with_stdin(command, "violet-harbour-42\n"));
        assert!(chosen.get("password").is_none(), "{chosen}");
        assert!(signs_in(&dir, &url, &t, &client, "grace@example.com", "violet-harbour-42"));

        let mut weak = clavis(&dir, &extra);
        weak.args(["user", "add", "--tenant", &t, "--email", "eve@example.com", "--password-stdin"]);
        let weak = with_stdin(weak, "password123\n");
        assert!(one_line_error(&weak).contains("common"), "{}", String::from_utf8_lossy(&weak.stderr));
        let mut empty = clavis(&dir, &extra);
        empty.args(["user", "add", "--tenant", &t, "--email", "eve@example.com", "--password-stdin"]);
        one_line_error(&with_stdin(empty, ""));
        let again = run(&["user", "add", "--tenant", &t, "--email", "ADA@example.com"]);
        assert!(one_line_error(&again).contains("already exists"));

        // There is no way to pass a password as an argument.
        let argument =
            run(&["user", "add", "--tenant", &t, "--email", "mal@example.com", "--password", "hunter2-hunter2"]);
        assert!(!argument.status.success());
        assert!(!String::from_utf8_lossy(&argument.stderr).contains("hunter2"), "the value is not echoed");
        let users = run_json(run(&["user", "list", "--tenant", &t]));
        assert_eq!(users["totalResults"], 2, "{users}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn user_list_disable_enable_and_delete_by_email_or_id() {
    for (dir, extra, url) in backends() {
        let run = |args: &[&str]| clavis(&dir, &extra).args(args).output().unwrap();
        let t = run_json(run(&["tenant", "create", "--name", "Acme"]))["tenantId"].as_str().unwrap().to_owned();
        let other = run_json(run(&["tenant", "create", "--name", "Other"]))["tenantId"].as_str().unwrap().to_owned();
        let web = run_json(run(&["app", "create", "--tenant", &t, "--name", "web"]));
        let client = (web["clientId"].as_str().unwrap().to_owned(), web["secret"].as_str().unwrap().to_owned());
        let ada =
            run_json(run(&["user", "add", "--tenant", &t, "--email", "ada@example.com", "--family-name", "Lovelace"]));
        let password = ada["password"].as_str().unwrap().to_owned();
        let id = ada["id"].as_str().unwrap().to_owned();
        run_json(run(&["user", "add", "--tenant", &t, "--email", "grace@example.org"]));

        let found = run_json(run(&["user", "list", "--tenant", &t, "--query", "LOVELACE"]));
        assert_eq!(found["totalResults"], 1, "{found}");
        assert_eq!(found["Resources"][0]["id"], id.as_str());
        let first = run_json(run(&["user", "list", "--tenant", &t, "--count", "1"]));
        let second = run_json(run(&["user", "list", "--tenant", &t, "--start-index", "2", "--count", "1"]));
        assert_eq!((first["itemsPerPage"].clone(), second["startIndex"].clone()), (1.into(), 2.into()), "{second}");
        let mut both = [first["Resources"][0]["id"].clone(), second["Resources"][0]["id"].clone()];
        both.sort_by_key(|id| id.as_str().unwrap().to_owned());
        let mut all: Vec<_> = run_json(run(&["user", "list", "--tenant", &t]))["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["id"].clone())
            .collect();
        all.sort_by_key(|id| id.as_str().unwrap().to_owned());
        assert_eq!(both.to_vec(), all, "the two pages hold both users");

        let disabled = run_json(run(&["user", "disable", "--tenant", &t, "Ada@Example.com"]));
        assert_eq!((disabled["id"].as_str(), disabled["active"].as_bool()), (Some(id.as_str()), Some(false)));
        assert!(!signs_in(&dir, &url, &t, &client, "ada@example.com", &password), "a disabled user cannot sign in");
        let enabled = run_json(run(&["user", "enable", "--tenant", &t, &id]));
        assert_eq!(enabled["active"], true);
        assert!(signs_in(&dir, &url, &t, &client, "ada@example.com", &password));

        // Another tenant's user is not found by email or ID.
        for user in [id.as_str(), "ada@example.com"] {
            let reply = run(&["user", "delete", "--tenant", &other, user]);
            assert!(one_line_error(&reply).contains("user not found"), "{}", String::from_utf8_lossy(&reply.stderr));
        }
        let deleted = run_json(run(&["user", "delete", "--tenant", &t, "ada@example.com"]));
        assert_eq!((deleted["id"].as_str(), deleted["deleted"].as_bool()), (Some(id.as_str()), Some(true)));
        assert!(one_line_error(&run(&["user", "disable", "--tenant", &t, &id])).contains("user not found"));
        assert_eq!(run_json(run(&["user", "list", "--tenant", &t]))["totalResults"], 1);
        assert!(!signs_in(&dir, &url, &t, &client, "ada@example.com", &password));
        std::fs::remove_dir_all(&dir).ok();
    }
}
