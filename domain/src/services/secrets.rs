//! Client secrets of an application: rotation with a grace period,
//! ending the previous secret early, and revealing the current one.

use chrono::{DateTime, Duration, Utc};
use clavis_types::MAX_GRACE_SECS;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::Services;
use super::audit::AuditRecord;
use super::client_keys::{CredentialKind, has_federated_credentials};
use super::invalidation::Invalidation;
use crate::crypto::SealContext;
use crate::entities::client_secret;
use crate::scope::{TenantScope, Write};
use crate::{Error, Result};

/// The outcome of a rotation: the new secret and how long the old one lives.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatedSecret {
    pub client_id: String,
    pub secret: String,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret")
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .field("previous_secret_expires_at", &self.previous_secret_expires_at)
            .finish()
    }
}

impl Services {
    /// Issues a new current secret. The old one keeps working for
    /// `grace_secs` (0 ends it at once); an older previous secret ends now.
    pub async fn rotate_secret(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        grace_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<RotatedSecret> {
        if !(0..=MAX_GRACE_SECS).contains(&grace_secs) {
            return Err(Error::validation(format!(
                "grace period must be 0 to {MAX_GRACE_SECS} seconds ({} days)",
                MAX_GRACE_SECS / 86_400
            )));
        }
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        // A secret would never authenticate an application that proves
        // itself with keys or federated tokens: refuse rather than mint one.
        if CredentialKind::of_row(&app) == CredentialKind::Keys || has_federated_credentials(&txn, client_id).await? {
            return Err(Error::Conflict(
                "the application authenticates with public keys or federated credentials and has no secret; \
                 remove those first"
                    .to_owned(),
            ));
        }
        client_secret::Entity::delete_many()
            .filter(client_secret::Column::ClientId.eq(client_id))
            .filter(client_secret::Column::Status.eq("previous"))
            .exec(&txn)
            .await?;
        let previous_expires_at = if grace_secs == 0 {
            client_secret::Entity::delete_many()
                .filter(client_secret::Column::ClientId.eq(client_id))
                .exec(&txn)
                .await?;
            None
        } else {
            let expires = now + Duration::seconds(grace_secs);
            client_secret::Entity::update_many()
                .col_expr(client_secret::Column::Status, sea_orm::sea_query::Expr::value("previous"))
                .col_expr(client_secret::Column::ExpiresAt, sea_orm::sea_query::Expr::value(expires.timestamp()))
                .filter(client_secret::Column::ClientId.eq(client_id))
                .filter(client_secret::Column::Status.eq("current"))
                .exec(&txn)
                .await?;
            Some(expires)
        };
        let (_, secret) = self.insert_secret(&txn, scope.tenant_id(), client_id, now).await?;
        AuditRecord::in_scope(scope, "secret.rotate", client_id)
            .with_details(serde_json::json!({"graceSeconds": grace_secs}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(RotatedSecret { client_id: client_id.to_owned(), secret, previous_secret_expires_at: previous_expires_at })
    }

    /// Ends the previous secret's grace period now.
    pub async fn revoke_previous_secret(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        self.find_application(&txn, scope, client_id).await?;
        let deleted = client_secret::Entity::delete_many()
            .filter(client_secret::Column::ClientId.eq(client_id))
            .filter(client_secret::Column::Status.eq("previous"))
            .filter(client_secret::Column::ExpiresAt.gt(now.timestamp()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(Error::NotFound("previous secret"));
        }
        AuditRecord::in_scope(scope, "secret.revoke_previous", client_id).write(&txn, now).await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(())
    }

    /// The current secret in full, for admins; every reveal is audited.
    pub async fn reveal_secret(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let txn = self.begin_write().await?;
        self.find_application(&txn, scope, client_id).await?;
        let row = client_secret::Entity::find()
            .filter(client_secret::Column::ClientId.eq(client_id))
            .filter(client_secret::Column::Status.eq("current"))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("secret"))?;
        let secret =
            self.master_key().open(&SealContext::client_secret(&row.tenant_id, &row.id), &row.sealed_secret)?;
        let secret = String::from_utf8(secret).map_err(Error::internal)?;
        AuditRecord::in_scope(scope, "secret.reveal", client_id).write(&txn, now).await?;
        txn.commit().await?;
        Ok(secret)
    }
}
