//! The operator's member commands: `member add --password` never changes or
//! reveals an existing account's password, and `member reset-link` prints a
//! one-time link that works once. On SQLite, and on PostgreSQL when the test
//! command provides a cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

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

/// A data directory on SQLite, and one whose database is PostgreSQL when
/// the test command provides a cluster.
fn backends() -> Vec<Backend> {
    let sqlite = tempfile::Builder::new().prefix("clavis-members-").tempdir().unwrap().keep();
    let url = domain::db::sqlite_url(&sqlite.join("clavis.db"));
    let mut out = vec![(sqlite, Vec::new(), url)];
    let postgres = tokio::runtime::Runtime::new().unwrap().block_on(clavis_test_support::postgres_url());
    if let Some(url) = postgres {
        let dir = tempfile::Builder::new().prefix("clavis-members-").tempdir().unwrap().keep();
        out.push((dir, vec![("CLAVIS_DATABASE_URL", url.clone())], url));
    }
    out
}

/// Services on the same database as the binary, to check what it stored.
fn services_on(url: &str, runtime: &tokio::runtime::Runtime) -> Services {
    let db = runtime.block_on(domain::db::connect(url)).unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    Services::new(db, clock, MasterKey::generate(), "http://127.0.0.1:3000")
}

#[test]
fn member_add_with_a_password_leaves_an_existing_account_alone() {
    for (dir, extra, url) in backends() {
        let run = |args: &[&str], password: Option<&str>| {
            let mut command = clavis(&dir, &extra);
            command.args(args);
            if let Some(password) = password {
                command.env("CLAVIS_MEMBER_PASSWORD", password);
            }
            command.output().unwrap()
        };
        let tenant = |name: &str| {
            run_json(run(&["tenant", "create", "--name", name], None))["tenantId"].as_str().unwrap().to_owned()
        };
        let (a, b) = (tenant("A"), tenant("B"));
        let first = run_json(run(
            &["member", "add", "--tenant", &a, "--email", "bob@b.example", "--role", "admin"],
            Some("my first passphrase"),
        ));
        let weak = run(&["member", "add", "--tenant", &b, "--email", "carol@b.example"], Some("qwerty123456"));
        assert!(one_line_error(&weak).contains("common"), "{}", String::from_utf8_lossy(&weak.stderr));
        let second = run(&["member", "add", "--tenant", &b, "--email", "Bob@B.example"], Some("chosen by tenant a"));
        let shown = String::from_utf8_lossy(&second.stdout).into_owned();
        let second = run_json(second);
        assert_eq!(first["userId"], second["userId"], "one account");
        assert!(!shown.contains("passphrase") && !shown.contains("chosen"), "{shown}");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let services = services_on(&url, &runtime);
        let now = services.now();
        let chosen = runtime.block_on(services.authenticate("bob@b.example", "chosen by tenant a", None, now));
        assert!(matches!(chosen, Err(domain::Error::Unauthenticated)), "{chosen:?}");
        assert!(runtime.block_on(services.authenticate("bob@b.example", "my first passphrase", None, now)).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn member_reset_link_prints_a_one_time_link() {
    for (dir, extra, url) in backends() {
        let run = |args: &[&str]| clavis(&dir, &extra).args(args).output().unwrap();
        let t = run_json(run(&["tenant", "create", "--name", "Acme"]))["tenantId"].as_str().unwrap().to_owned();
        run_json(
            clavis(&dir, &extra)
                .args(["member", "add", "--tenant", &t, "--email", "fay@example.com"])
                .env("CLAVIS_MEMBER_PASSWORD", "a forgotten passphrase")
                .output()
                .unwrap(),
        );
        let unknown = run(&["member", "reset-link", "--email", "nobody@example.com"]);
        assert!(one_line_error(&unknown).contains("account not found"));
        let link = run_json(run(&["member", "reset-link", "--email", "Fay@Example.com"]));
        let url_text = link["resetLink"].as_str().unwrap().to_owned();
        assert!(url_text.starts_with("http://127.0.0.1:3000/reset/"), "{link}");
        assert!(link["expiresAt"].as_str().is_some(), "{link}");
        let token = url_text.rsplit('/').next().unwrap().to_owned();

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let services = services_on(&url, &runtime);
        let now = services.now();
        runtime.block_on(services.reset_password(&token, "a remembered passphrase", None, now)).unwrap();
        let again = runtime.block_on(services.reset_password(&token, "another passphrase here", None, now));
        assert!(matches!(again, Err(domain::Error::Validation(_))), "{again:?}");
        assert!(
            runtime.block_on(services.authenticate("fay@example.com", "a remembered passphrase", None, now)).is_ok()
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
