//! Secrets at rest: a sealed value moved to another row is refused, and a
//! master key rotation re-seals every value while tokens keep flowing.

use std::path::PathBuf;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clavis_oauth::ErrorCode;
use clavis_oauth::jose::Algorithm;
use clavis_oauth::request::RawRequest;
use clavis_types::ManagementAccess;
use domain::crypto::{MasterKey, SealContext};
use domain::services::{CliAuthority, NewTenant, TokenResponse};
use domain::{Error, ManualClock, Services, TenantScope, Write};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::support::{PUBLIC_URL, kid_of, postgres_url, t0};

/// A migrated database this test can also reach with raw SQL, and the
/// directory holding its `master.key` (and SQLite file).
struct Backend {
    name: &'static str,
    url: String,
    dir: PathBuf,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn backends() -> Vec<Backend> {
    let mut out = Vec::new();
    let dir = std::env::temp_dir().join(format!("clavis-seal-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = domain::db::sqlite_url(&dir.join("test.db"));
    out.push(Backend { name: "sqlite", url, dir });
    if let Some(url) = postgres_url().await {
        let dir = std::env::temp_dir().join(format!("clavis-seal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        out.push(Backend { name: "postgres", url, dir });
    }
    for backend in &out {
        let db = domain::db::connect(&backend.url).await.unwrap();
        domain::db::migrate(&db).await.unwrap();
        db.close().await.ok();
    }
    out
}

/// A process: its own pool, caches and master keys (here from the key file).
struct Process {
    db: DatabaseConnection,
    services: Services,
    cli: CliAuthority,
}

impl Backend {
    async fn process_with(&self, key: MasterKey) -> Process {
        let db = domain::db::connect(&self.url).await.unwrap();
        let (services, cli) = Services::for_cli(db.clone(), Arc::new(ManualClock::new(t0())), key, PUBLIC_URL);
        Process { db, services, cli }
    }

    async fn process(&self) -> Process {
        self.process_with(MasterKey::load_or_create(None, &self.dir).unwrap().0).await
    }
}

impl Process {
    async fn tenant(&self, name: &str) -> (String, TenantScope<Write>) {
        let new = NewTenant { signing_alg: Algorithm::Es256, ..NewTenant::named(name) };
        let tenant = self.services.create_tenant(&self.cli.operator_scope(), new, t0()).await.unwrap();
        let scope = self.cli.tenant_scope(&self.services, &tenant.tenant_id).await.unwrap();
        (tenant.tenant_id, scope)
    }

    async fn app(&self, scope: &TenantScope<Write>, name: &str) -> (String, String) {
        let app = self.services.create_application(scope, name, ManagementAccess::None, t0()).await.unwrap();
        (app.client_id, app.secret.unwrap())
    }

    async fn token(&self, tenant_id: &str, client_id: &str, secret: &str) -> Result<TokenResponse, ErrorCode> {
        let basic = format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")));
        let request = RawRequest {
            authorization: Some(basic.as_bytes()),
            several_authorizations: false,
            content_type: Some(b"application/x-www-form-urlencoded"),
            body: Some(b"grant_type=client_credentials"),
            dpop: None,
            several_dpops: false,
        };
        self.services.token(tenant_id, request, None, t0()).await.map_err(|err| err.code)
    }

    async fn sql(&self, sql: &str) {
        self.db.execute(Statement::from_string(self.db.get_database_backend(), sql.to_owned())).await.unwrap();
    }

    /// Every sealed column's value, for checking their prefixes.
    async fn sealed_values(&self) -> Vec<String> {
        let backend = self.db.get_database_backend();
        let sql = "SELECT sealed_secret AS v FROM client_secrets \
                   UNION ALL SELECT sealed_private_key AS v FROM signing_keys \
                   UNION ALL SELECT sealed_secret AS v FROM user_totp";
        let rows = self.db.query_all(Statement::from_string(backend, sql.to_owned())).await.unwrap();
        rows.iter().map(|row| row.try_get::<String>("", "v").unwrap()).collect()
    }
}

fn secret_row_of(client_id: &str) -> String {
    format!("(SELECT sealed_secret FROM client_secrets WHERE client_id = '{client_id}' AND status = 'current')")
}

#[tokio::test]
async fn a_sealed_value_copied_to_another_row_is_refused() {
    for backend in backends().await {
        let p = backend.process().await;
        let (t, t_scope) = p.tenant("T").await;
        let (u, u_scope) = p.tenant("U").await;
        let (a, a_secret) = p.app(&t_scope, "a").await;
        let (b, _) = p.app(&t_scope, "b").await;
        let (c, c_secret) = p.app(&u_scope, "c").await;

        // Row A's sealed secret pasted into row B (same tenant) and row C (another tenant).
        let a_sealed = secret_row_of(&a);
        for (victim, scope) in [(&b, &t_scope), (&c, &u_scope)] {
            let sql = format!(
                "UPDATE client_secrets SET sealed_secret = (SELECT x.v FROM (SELECT {a_sealed} AS v) x) \
                 WHERE client_id = '{victim}'"
            );
            p.sql(&sql).await;
            let refused = p.services.reveal_secret(scope, victim, t0()).await;
            assert!(matches!(refused, Err(Error::Internal(_))), "{}: {refused:?}", backend.name);
        }
        assert_eq!(p.services.reveal_secret(&t_scope, &a, t0()).await.unwrap(), a_secret, "{}", backend.name);

        // Tenant T's signing key pasted into tenant U's row: U's tokens fail
        // rather than being signed with T's key.
        let sql = format!(
            "UPDATE signing_keys SET sealed_private_key = \
             (SELECT x.v FROM (SELECT sealed_private_key AS v FROM signing_keys WHERE tenant_id = '{t}') x) \
             WHERE tenant_id = '{u}'"
        );
        p.sql(&sql).await;
        let fresh = backend.process().await;
        let refused = fresh.token(&u, &c, &c_secret).await;
        assert_eq!(refused.unwrap_err(), ErrorCode::ServerError, "{}", backend.name);
        assert!(fresh.token(&t, &a, &a_secret).await.is_ok(), "{}", backend.name);
    }
}

/// A value sealed the way Clavis did before key versions existed.
fn legacy_seal(key: &[u8; 32], secret_id: &str, plaintext: &[u8]) -> String {
    let cipher = Aes256Gcm::new_from_slice(key).unwrap();
    let nonce = [3u8; 12];
    let aad = format!("client_secret:{secret_id}");
    let ct = cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: aad.as_bytes() }).unwrap();
    URL_SAFE_NO_PAD.encode([nonce.as_slice(), &ct].concat())
}

fn version_one_key(dir: &std::path::Path) -> [u8; 32] {
    let text = std::fs::read_to_string(dir.join("master.key")).unwrap();
    let line = text.lines().find_map(|line| line.strip_prefix("1:")).unwrap();
    STANDARD.decode(line).unwrap().try_into().unwrap()
}

#[tokio::test]
async fn rotation_reseals_every_value_and_tokens_keep_their_secret_and_key() {
    for backend in backends().await {
        let p = backend.process().await;
        let name = backend.name;
        let (t, scope) = p.tenant("T").await;
        let (u, u_scope) = p.tenant("U").await;
        let (a, a_secret) = p.app(&scope, "a").await;
        let (c, c_secret) = p.app(&u_scope, "c").await;
        let kid_before = kid_of(&p.token(&t, &a, &a_secret).await.unwrap().access_token);

        // One value still in the format of before: no prefix, old binding.
        let legacy_key = version_one_key(&backend.dir);
        let row_id: String = {
            let backend_kind = p.db.get_database_backend();
            let sql = format!("SELECT id FROM client_secrets WHERE client_id = '{c}'");
            let row = p.db.query_one(Statement::from_string(backend_kind, sql)).await.unwrap().unwrap();
            row.try_get("", "id").unwrap()
        };
        let legacy = legacy_seal(&legacy_key, &row_id, c_secret.as_bytes());
        p.sql(&format!("UPDATE client_secrets SET sealed_secret = '{legacy}' WHERE id = '{row_id}'")).await;
        assert_eq!(p.services.reveal_secret(&u_scope, &c, t0()).await.unwrap(), c_secret, "{name}");

        // A user's TOTP secret, sealed the way the second factor seals it.
        let user_id = uuid::Uuid::new_v4().to_string();
        let totp = MasterKey::load_or_create(None, &backend.dir).unwrap().0;
        let sealed_totp = totp.seal(&SealContext::totp_secret(&user_id), b"totp-secret").unwrap();
        p.sql(&format!(
            "INSERT INTO users (id, email, password_hash, is_operator, created_at) \
             VALUES ('{user_id}', 'ops@example.com', 'x', FALSE, 0)"
        ))
        .await;
        p.sql(&format!(
            "INSERT INTO user_totp (user_id, sealed_secret, created_at) VALUES ('{user_id}', '{sealed_totp}', 0)"
        ))
        .await;

        let operator = p.cli.operator_scope();
        let before = p.services.sealed_counts(&operator).await.unwrap();
        assert_eq!(before.versions_in_use(), [1].into(), "{name}");
        assert_eq!(before.client_secrets[&1], 2);
        assert_eq!(before.signing_keys[&1], 2);
        assert_eq!(before.totp_secrets[&1], 1);

        // A serving process that loaded the key file before the rotation.
        let running = backend.process().await;
        let running_scope = running.cli.tenant_scope(&running.services, &t).await.unwrap();

        assert_eq!(p.services.add_master_key_version(&operator).await.unwrap(), 2);
        let report = p.services.reseal_all(&operator, 1).await.unwrap();
        assert_eq!((report.version, report.resealed), (2, 5), "{name}: {report:?}");
        assert_eq!(report.counts.not_under(2), 0, "{name}");
        let values = p.sealed_values().await;
        assert_eq!(values.len(), 5, "{name}: {values:?}");
        assert!(values.iter().all(|value| value.starts_with("v2.")), "{name}: {values:?}");
        let totp_now: String = {
            let sql = format!("SELECT sealed_secret FROM user_totp WHERE user_id = '{user_id}'");
            let row = p.db.query_one(Statement::from_string(p.db.get_database_backend(), sql)).await.unwrap().unwrap();
            row.try_get("", "sealed_secret").unwrap()
        };
        let reread = MasterKey::load_or_create(None, &backend.dir).unwrap().0;
        assert_eq!(reread.open(&SealContext::totp_secret(&user_id), &totp_now).unwrap(), b"totp-secret", "{name}");

        // The running process reads the new version from the file and keeps working.
        let rotated = running.services.rotate_secret(&running_scope, &a, 0, t0()).await.unwrap();
        assert!(p.sealed_values().await.iter().all(|value| value.starts_with("v2.")), "{name}: new values use v2");
        assert_eq!(running.services.reveal_secret(&running_scope, &a, t0()).await.unwrap(), rotated.secret);
        let a_secret = rotated.secret;

        // A fresh process: same secrets, tokens signed by the same keys.
        let fresh = backend.process().await;
        let token = fresh.token(&t, &a, &a_secret).await.unwrap();
        assert_eq!(kid_of(&token.access_token), kid_before, "{name}: same signing key");
        assert!(fresh.token(&u, &c, &c_secret).await.is_ok(), "{name}: the re-sealed legacy value");
        let fresh_u = fresh.cli.tenant_scope(&fresh.services, &u).await.unwrap();
        assert_eq!(fresh.services.reveal_secret(&fresh_u, &c, t0()).await.unwrap(), c_secret);

        // A second rotation, then the old versions leave the key file.
        assert_eq!(p.services.add_master_key_version(&operator).await.unwrap(), 3);
        let report = p.services.reseal_all(&operator, 100).await.unwrap();
        assert_eq!(report.counts.versions_in_use(), [3].into(), "{name}");
        assert_eq!(p.services.retire_master_key_versions(&operator).await.unwrap(), vec![2, 1]);
        assert_eq!(p.services.master_key_info().versions, vec![3]);
        let after_retire = backend.process().await.token(&t, &a, &a_secret).await;
        assert!(after_retire.is_ok(), "{name}: {after_retire:?}");

        // A process holding only the first key refuses to serve, clearly.
        let stale = backend.process_with(MasterKey::from_bytes(legacy_key)).await;
        let err = stale.services.check_master_key_versions().await.unwrap_err();
        let Error::Internal(message) = err else { panic!("{err:?}") };
        assert!(message.contains("version 3") && message.contains("[1]"), "{name}: {message}");
        assert!(backend.process().await.services.check_master_key_versions().await.is_ok(), "{name}");
    }
}

#[tokio::test]
async fn rotation_under_concurrent_secret_rotations_leaves_nothing_behind() {
    for backend in backends().await {
        let p = backend.process().await;
        let (_, scope) = p.tenant("T").await;
        let mut apps = Vec::new();
        for i in 0..6 {
            apps.push(p.app(&scope, &format!("app-{i}")).await.0);
        }
        let busy = backend.process().await;
        let busy_scope = busy.cli.tenant_scope(&busy.services, scope.tenant_id()).await.unwrap();
        let operator = p.cli.operator_scope();
        p.services.add_master_key_version(&operator).await.unwrap();
        let rotations = async {
            let mut last = Vec::new();
            for round in 0..3 {
                for app in &apps {
                    let rotated = rotate_retrying_busy_sqlite(&busy, &busy_scope, app, backend.name).await;
                    if round == 2 {
                        last.push(rotated);
                    }
                }
            }
            last
        };
        let (report, last) = tokio::join!(p.services.reseal_all(&operator, 2), rotations);
        let report = report.unwrap();
        let counts = p.services.sealed_counts(&operator).await.unwrap();
        assert_eq!(counts.not_under(2), 0, "{}: {report:?} {counts:?}", backend.name);
        for (app, secret) in apps.iter().zip(last) {
            assert_eq!(p.services.reveal_secret(&scope, app, t0()).await.unwrap(), secret, "{}", backend.name);
        }
    }
}

/// SQLite lets one writer in at a time and refuses a transaction that would
/// wait on another's write; a server's caller retries. PostgreSQL must not
/// refuse at all.
async fn rotate_retrying_busy_sqlite(p: &Process, scope: &TenantScope<Write>, app: &str, backend: &str) -> String {
    for _ in 0..50 {
        match p.services.rotate_secret(scope, app, 0, t0()).await {
            Ok(rotated) => return rotated.secret,
            Err(err) if backend == "sqlite" && format!("{err:?}").contains("locked") => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(err) => panic!("{backend}: {err:?}"),
        }
    }
    panic!("{backend}: the database stayed busy")
}
