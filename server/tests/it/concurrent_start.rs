//! Replicas started at the same moment on an empty PostgreSQL database:
//! migrations run once under an advisory lock, and the Default tenant and
//! its operator are created exactly once, whichever process wins. Runs only
//! when `CLAVIS_TEST_POSTGRES_URL` names a throwaway cluster (SQLite is one
//! process's file).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use super::support::postgres_url;

const ROUNDS: usize = 10;

/// The `clavis` binary on `database_url`, with its own data directory (as
/// on its own host) and the master key every replica shares.
fn clavis(database_url: &str, data_dir: &Path, master_key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clavis"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CLAVIS_DATA_DIR", data_dir)
        .env("CLAVIS_DATABASE_URL", database_url)
        .env("CLAVIS_MASTER_KEY", master_key)
        .env("RUST_LOG", "warn");
    command
}

fn temp_dir() -> PathBuf {
    tempfile::Builder::new().prefix("clavis-replica-").tempdir().unwrap().keep()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn new_master_key() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until every replica answers `/readyz`, stops them, and returns
/// each one's standard output; fails if one exits first.
fn ready_then_stopped(mut replicas: Vec<(Child, u16)>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    for (child, port) in &mut replicas {
        while !ready(*port) {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
                panic!("a replica exited with {status} before it was ready: {stderr}");
            }
            assert!(Instant::now() < deadline, "a replica was not ready within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    replicas
        .into_iter()
        .map(|(mut child, _)| {
            let _ = child.kill();
            let _ = child.wait();
            let lines: Vec<String> =
                BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).collect();
            lines.join("\n")
        })
        .collect()
}

#[tokio::test]
async fn replicas_started_at_once_on_an_empty_database_migrate_and_bootstrap_exactly_once() {
    for round in 0..ROUNDS {
        let Some(url) = postgres_url().await else { return };
        let key = new_master_key();
        let dirs = [temp_dir(), temp_dir()];

        // Two `clavis migrate` at the same moment.
        let migrations: Vec<Child> = dirs
            .iter()
            .map(|dir| {
                clavis(&url, dir, &key).arg("migrate").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
            })
            .collect();
        for child in migrations {
            succeeded(&child.wait_with_output().unwrap(), &format!("round {round}: clavis migrate"));
        }

        // Two `clavis serve` at the same moment on another empty database.
        let Some(url) = postgres_url().await else { return };
        let replicas: Vec<(Child, u16)> = dirs
            .iter()
            .map(|dir| {
                let port = free_port();
                let child = clavis(&url, dir, &key)
                    .env("CLAVIS_ADDR", format!("127.0.0.1:{port}"))
                    .arg("serve")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (child, port)
            })
            .collect();
        let printed = ready_then_stopped(replicas);
        let announced: Vec<&String> = printed.iter().filter(|text| text.contains("password:")).collect();
        assert_eq!(announced.len(), 1, "round {round}: exactly one replica prints the first admin: {printed:?}");
        let passwords = announced[0].lines().filter(|line| line.trim_start().starts_with("password:")).count();
        assert_eq!(passwords, 1, "round {round}: {printed:?}");

        let listed = clavis(&url, &dirs[0], &key).args(["tenant", "list"]).output().unwrap();
        succeeded(&listed, "clavis tenant list");
        let tenants: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        let tenants = tenants["tenants"].as_array().unwrap();
        assert_eq!(tenants.len(), 1, "round {round}: one tenant: {tenants:?}");
        assert_eq!(tenants[0]["name"], "Default", "round {round}");
        let members = clavis(&url, &dirs[0], &key)
            .args(["member", "list", "--tenant", tenants[0]["tenantId"].as_str().unwrap()])
            .output()
            .unwrap();
        succeeded(&members, "clavis member list");
        let members: serde_json::Value = serde_json::from_slice(&members.stdout).unwrap();
        assert_eq!(members["members"].as_array().map(Vec::len), Some(1), "round {round}: one operator: {members}");
        for dir in &dirs {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}
