//! A real Clavis server for the scenarios: the `clavis` binary of this
//! workspace, started on a free port of 127.0.0.1 with a fresh SQLite data
//! directory, one tenant and its applications made with its CLI, and access
//! control set up through its management API: a protected application
//! (`sdk-api`) defines the scopes `read` and `write`, and a role grants the
//! calling application (`sdk-tests`) `read` on it.
//!
//! Build the binary first (`cargo build -p server`; `scripts/test.sh` does).
//! The server process is killed and the data directory removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clavis_sdk::TokenManager;
use serde_json::{Value, json};

use super::Issuer;
use super::keys::Alg;

/// How long a change made by another process (the CLI) may stay unseen by
/// the server: its tenant and client caches live at most 5 s.
const CACHE_BOUND: Duration = Duration::from_secs(5);
/// Generous limits for a debug build on a busy machine.
const START_LIMIT: Duration = Duration::from_secs(60);
const ROTATION_LIMIT: Duration = Duration::from_secs(30);

/// A running Clavis with one tenant (signing with `alg`) and one application.
pub struct Clavis {
    binary: PathBuf,
    data_dir: PathBuf,
    base_url: String,
    server: Child,
    tenant_id: String,
    oauth_server_url: String,
    client_id: String,
    client_secret: String,
    api_client_id: String,
    /// A management token of the tenant (write access), and its API's URL.
    management_token: String,
    management_url: String,
}

impl Drop for Clavis {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The `clavis` binary next to this test binary (same target directory and
/// profile), or `CLAVIS_BIN` when set.
fn clavis_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CLAVIS_BIN") {
        return PathBuf::from(path);
    }
    let name = format!("clavis{}", std::env::consts::EXE_SUFFIX);
    // target/<profile>/deps/it-<hash> → target/<profile>/clavis
    let beside_tests = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.join(&name)));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug").join(&name);
    let candidates: Vec<PathBuf> = beside_tests.into_iter().chain([workspace]).collect();
    candidates.iter().find(|path| path.is_file()).cloned().unwrap_or_else(|| {
        panic!(
            "the clavis server binary is missing (looked for {candidates:?}); \
                 run `cargo build -p server` first (scripts/test.sh does), or set CLAVIS_BIN"
        )
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn string_field(json: &Value, field: &str) -> String {
    json[field].as_str().unwrap_or_else(|| panic!("no string {field:?} in the CLI output {json}")).to_owned()
}

impl Clavis {
    /// Starts Clavis with a tenant signing with `alg` and an application in it.
    pub async fn start(alg: Alg) -> Self {
        let binary = clavis_binary();
        let data_dir = std::env::temp_dir().join(format!("clavis-sdk-it-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        // Start the server first so that its Drop cleans up whatever fails next.
        // Its stdout (the bootstrap admin's password on first start) is dropped;
        // its log (stderr) is kept for failure messages.
        let log = std::fs::File::create(data_dir.join("server.log")).unwrap();
        let server = Self::command(&binary, &data_dir, &base_url)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        let mut clavis = Self {
            binary,
            data_dir,
            base_url,
            server,
            tenant_id: String::new(),
            oauth_server_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            api_client_id: String::new(),
            management_token: String::new(),
            management_url: String::new(),
        };
        clavis.wait_ready().await;

        let tenant = clavis
            .cli(&["tenant", "create", "--name", &format!("sdk-{}", alg.name()), "--signing-alg", alg.name()])
            .await;
        clavis.tenant_id = string_field(&tenant, "tenantId");
        clavis.oauth_server_url = string_field(&tenant, "oAuthServerUrl");
        assert_eq!(clavis.oauth_server_url, format!("{}/oauth/v4/{}", clavis.base_url, clavis.tenant_id));
        let tenant_id = clavis.tenant_id.clone();
        let app = clavis.cli(&["app", "create", "--tenant", &tenant_id, "--name", "sdk-tests"]).await;
        clavis.client_id = string_field(&app, "clientId");
        clavis.client_secret = string_field(&app, "secret");
        let api = clavis.cli(&["app", "create", "--tenant", &tenant_id, "--name", "sdk-api"]).await;
        clavis.api_client_id = string_field(&api, "clientId");
        clavis.grant_read_on_api().await;
        clavis
    }

    /// Through the management API, as an operator's tooling would: `sdk-api`
    /// defines `read` and `write`; a role grants `sdk-tests` only `read`.
    async fn grant_read_on_api(&mut self) {
        let admin = self
            .cli(&["app", "create", "--tenant", &self.tenant_id, "--name", "sdk-admin", "--management", "write"])
            .await;
        self.management_url = string_field(&admin, "managementUrl");
        let tokens = TokenManager::builder(
            &self.oauth_server_url,
            string_field(&admin, "clientId"),
            string_field(&admin, "secret"),
        )
        .audience(&self.management_url)
        .build()
        .unwrap();
        self.management_token = tokens.access_token().await.unwrap().as_str().to_owned();
        let this: &Self = self;
        let call = |method: reqwest::Method, path: &str, body: Value| {
            let path = path.to_owned();
            async move {
                let (status, body) = this.management(method, &path, body).await;
                assert!(status.is_success(), "management API: HTTP {status}: {body}");
                body
            }
        };
        let api = &this.api_client_id;
        call(reqwest::Method::PUT, &format!("/applications/{api}/scopes"), json!({"scopes": ["read", "write"]})).await;
        let role = call(
            reqwest::Method::POST,
            "/roles",
            json!({"name": "sdk-reader", "access": [{"application_id": api, "scopes": ["read"]}]}),
        )
        .await;
        let role_id = string_field(&role, "id");
        let caller = &self.client_id;
        call(reqwest::Method::PUT, &format!("/applications/{caller}/roles"), json!({"roles": {"ids": [role_id]}}))
            .await;
    }

    fn command(binary: &Path, data_dir: &Path, base_url: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .current_dir(data_dir)
            .env_remove("CLAVIS_DATABASE_URL")
            .env_remove("CLAVIS_MASTER_KEY")
            .env("CLAVIS_DATA_DIR", data_dir)
            .env("CLAVIS_ADDR", base_url.trim_start_matches("http://"))
            .env("CLAVIS_PUBLIC_URL", base_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        command
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let url = format!("{}/healthz", self.base_url);
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(&url).timeout(Duration::from_secs(2)).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.server.try_wait() {
                panic!("clavis exited ({status}) before answering:\n{}", self.server_log());
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "clavis did not answer {url} within {START_LIMIT:?}:\n{}",
                self.server_log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `clavis ARGS…` on the server's data directory; its JSON output.
    pub async fn cli(&self, args: &[&str]) -> Value {
        let mut command = Self::command(&self.binary, &self.data_dir, &self.base_url);
        command.args(args);
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        assert!(output.status.success(), "clavis {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!("clavis {args:?} printed no JSON ({err}): {}", String::from_utf8_lossy(&output.stdout))
        })
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// Calls the tenant's management API (`path` under
    /// `/management/v4/{tenantId}`) with a write token: status and JSON body.
    pub async fn management(&self, method: reqwest::Method, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.management_url))
            .bearer_auth(&self.management_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A new application of the tenant, by the CLI: its client ID and secret.
    pub async fn create_application(&self, name: &str) -> (String, String) {
        let app = self.cli(&["app", "create", "--tenant", &self.tenant_id, "--name", name]).await;
        (string_field(&app, "clientId"), string_field(&app, "secret"))
    }

    /// The key IDs the tenant's JWKS lists right now.
    pub async fn published_kids(&self) -> Vec<String> {
        let jwks: Value =
            reqwest::get(format!("{}/publickeys", self.oauth_server_url)).await.unwrap().json().await.unwrap();
        jwks["keys"].as_array().unwrap().iter().filter_map(|key| key["kid"].as_str().map(str::to_owned)).collect()
    }
}

impl Issuer for Clavis {
    fn oauth_server_url(&self) -> String {
        self.oauth_server_url.clone()
    }

    fn client_id(&self) -> String {
        self.client_id.clone()
    }

    fn client_secret(&self) -> String {
        self.client_secret.clone()
    }

    fn api_audience(&self) -> String {
        self.api_client_id.clone()
    }

    /// `clavis keys rotate` in another process; returns once the server
    /// publishes the new key, which it does within its 5 s cache bound (the
    /// JWKS and the signer are cached together, so new tokens use that key).
    async fn rotate_signing_key(&self) {
        let rotated = self.cli(&["keys", "rotate", "--tenant", self.tenant_id()]).await;
        let kid = string_field(&rotated, "kid");
        let started = Instant::now();
        while !self.published_kids().await.contains(&kid) {
            assert!(
                started.elapsed() < ROTATION_LIMIT,
                "the server did not publish the new key {kid} within {ROTATION_LIMIT:?} \
                 (its cache bound is {CACHE_BOUND:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
