//! Single-use `jti`s, shared by every process on the database: a client
//! assertion or a DPoP proof is accepted once, whichever replica sees it.
//!
//! RFC 7523 §3: "The authorization server MAY ensure that JWTs are not
//! replayed by maintaining the set of used "jti" values for the length of
//! time for which the JWT would be considered valid". RFC 9449 §11.1 asks
//! the same of DPoP proofs. Only requests that already passed a signature
//! check reach here, so nobody without a key can grow the table, and rows
//! leave it once their `exp` has passed.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::Services;
use crate::Result;
use crate::crypto::secret_digest_hex;

/// Seconds between two prunes of spent `jti`s past their expiry.
const PRUNE_EVERY_SECS: i64 = 60;

/// What a `jti` was spent on: the same value in two kinds is two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JtiKind {
    ClientAssertion,
    DpopProof,
}

impl JtiKind {
    fn label(self) -> &'static str {
        match self {
            Self::ClientAssertion => "assertion",
            Self::DpopProof => "dpop",
        }
    }
}

/// When spent `jti`s were last pruned (Unix seconds), per process.
#[derive(Debug, Default)]
pub(crate) struct ReplayState {
    last_prune: AtomicI64,
}

impl Services {
    /// Spends `jti`, issued by `issuer` (a client ID, a key thumbprint, an
    /// issuer URL) in `tenant_id`, usable until `expires_at`. `Ok(true)` the
    /// first time; `Ok(false)` for a replay, on this process or any other.
    ///
    /// A value spent before and since expired may be spent again: its
    /// assertion could no longer be used, and a new one carrying the same
    /// value is not a replay of it.
    pub(crate) async fn spend_jti(
        &self,
        kind: JtiKind,
        tenant_id: &str,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let now_unix = now.timestamp();
        self.prune_spent_jtis(now_unix).await;
        // Lengths prefix each part, so no two contexts share a digest.
        let context =
            format!("{}|{}:{tenant_id}|{}:{issuer}|{}:{jti}", kind.label(), tenant_id.len(), issuer.len(), jti.len());
        let inserted = self
            .db()
            .execute(statement(
                self.db().get_database_backend(),
                "INSERT INTO spent_jtis (digest, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE spent_jtis.expires_at <= $3",
                [secret_digest_hex(&context).into(), expires_at.max(now_unix).into(), now_unix.into()],
            ))
            .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Deletes spent `jti`s past their expiry, at most once a minute per
    /// process; a failure is logged and retried at the next spend.
    async fn prune_spent_jtis(&self, now_unix: i64) {
        let state = &self.inner.replay;
        let last = state.last_prune.load(Ordering::Relaxed);
        if now_unix - last < PRUNE_EVERY_SECS
            || state.last_prune.compare_exchange(last, now_unix, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let db = self.db();
        let delete =
            statement(db.get_database_backend(), "DELETE FROM spent_jtis WHERE expires_at < $1", [now_unix.into()]);
        if let Err(err) = db.execute(delete).await {
            tracing::warn!(error = %err, "pruning spent jtis failed");
            state.last_prune.store(last, Ordering::Relaxed);
        }
    }
}

/// A statement written with PostgreSQL's `$n` placeholders, as SQLite's `?n`
/// where that is the backend.
fn statement<const N: usize>(backend: DbBackend, sql: &str, values: [sea_orm::Value; N]) -> Statement {
    let sql = if backend == DbBackend::Sqlite { sql.replace('$', "?") } else { sql.to_owned() };
    Statement::from_sql_and_values(backend, sql, values)
}
