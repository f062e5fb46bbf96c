//! An application's federated credentials: which tokens of which trusted
//! issuer (a subject, exactly, and an audience) authenticate it instead of
//! a stored secret. The first one deletes the application's secrets.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use crate::entities::{client_secret, federated_credential, trusted_issuer};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The most federated credentials one application may have.
pub const MAX_FEDERATED_CREDENTIALS: u64 = 20;

/// The longest subject, the width of its column.
pub const MAX_FEDERATED_SUBJECT_CHARS: usize = 512;

/// The longest audience, the width of its column.
pub const MAX_FEDERATED_AUDIENCE_CHARS: usize = 2048;

/// A federated credential to add. `audience` defaults to the tenant's
/// `oAuthServerUrl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFederatedCredential {
    pub issuer_id: String,
    pub subject: String,
    pub audience: Option<String>,
}

/// A federated credential as the adapters show it, with its issuer's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredentialView {
    pub id: String,
    pub issuer_id: String,
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    pub created_at: DateTime<Utc>,
}

/// A value matched exactly: not empty, at most `max` characters, and no
/// control characters (they would never be in a real token's claims, and
/// they make audit lines and listings ambiguous).
fn validate_exact(value: &str, what: &str, max: usize) -> Result<String> {
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(Error::validation(format!("{what} must be 1 to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(format!("{what} must not contain control characters")));
    }
    Ok(value.to_owned())
}

fn view(model: federated_credential::Model, issuer: String) -> FederatedCredentialView {
    FederatedCredentialView {
        created_at: DateTime::from_timestamp(model.created_at, 0).unwrap_or_default(),
        id: model.id,
        issuer_id: model.issuer_id,
        issuer,
        subject: model.subject,
        audience: model.audience,
    }
}

impl Services {
    /// Adds a federated credential to an application (at most
    /// [`MAX_FEDERATED_CREDENTIALS`]). The issuer must be one of the
    /// tenant's (404 otherwise); an application with public keys cannot
    /// have any (409). Adding the first one deletes the application's
    /// secrets in the same transaction: a federated application keeps no
    /// stored credential.
    pub async fn create_federated_credential(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        new: NewFederatedCredential,
        now: DateTime<Utc>,
    ) -> Result<FederatedCredentialView> {
        let subject = validate_exact(&new.subject, "subject", MAX_FEDERATED_SUBJECT_CHARS)?;
        let audience = match new.audience.filter(|audience| !audience.is_empty()) {
            Some(audience) => validate_exact(&audience, "audience", MAX_FEDERATED_AUDIENCE_CHARS)?,
            None => self.oauth_server_url(scope.tenant_id()),
        };
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        if app.jwks.is_some() || app.jwks_uri.is_some() {
            return Err(Error::Conflict(
                "an application authenticated by public keys cannot have federated credentials; remove its keys first"
                    .to_owned(),
            ));
        }
        let issuer = trusted_issuer::Entity::find_by_id(new.issuer_id.clone())
            .filter(trusted_issuer::Column::TenantId.eq(scope.tenant_id()))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("trusted issuer"))?;
        let existing = federated_credential::Entity::find()
            .filter(federated_credential::Column::ClientId.eq(client_id))
            .filter(federated_credential::Column::TenantId.eq(scope.tenant_id()))
            .all(&txn)
            .await?;
        if existing.len() as u64 >= MAX_FEDERATED_CREDENTIALS {
            return Err(Error::Conflict(format!(
                "an application may have at most {MAX_FEDERATED_CREDENTIALS} federated credentials"
            )));
        }
        if existing.iter().any(|row| row.issuer_id == issuer.id && row.subject == subject && row.audience == audience) {
            return Err(Error::Conflict("the application already has this federated credential".to_owned()));
        }
        let secrets_deleted = if existing.is_empty() {
            client_secret::Entity::delete_many()
                .filter(client_secret::Column::ClientId.eq(client_id))
                .exec(&txn)
                .await?
                .rows_affected
        } else {
            0
        };
        let id = uuid::Uuid::new_v4().to_string();
        let model = federated_credential::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            client_id: Set(client_id.to_owned()),
            issuer_id: Set(issuer.id.clone()),
            subject: Set(subject.clone()),
            audience: Set(audience.clone()),
            created_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await?;
        AuditRecord::in_scope(scope, "federated_credential.create", client_id)
            .with_details(serde_json::json!({
                "id": id,
                "issuerId": issuer.id,
                "issuer": issuer.issuer,
                "subject": subject,
                "audience": audience,
                "secretsDeleted": secrets_deleted,
            }))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(view(model, issuer.issuer))
    }

    /// An application's federated credentials, oldest first.
    pub async fn list_federated_credentials(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        client_id: &str,
    ) -> Result<Vec<FederatedCredentialView>> {
        self.find_application(self.db(), scope, client_id).await?;
        let rows = federated_credential::Entity::find()
            .filter(federated_credential::Column::ClientId.eq(client_id))
            .filter(federated_credential::Column::TenantId.eq(scope.tenant_id()))
            .order_by_asc(federated_credential::Column::CreatedAt)
            .order_by_asc(federated_credential::Column::Id)
            .all(self.db())
            .await?;
        let issuers = trusted_issuer::Entity::find()
            .filter(trusted_issuer::Column::TenantId.eq(scope.tenant_id()))
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let issuer =
                    issuers.iter().find(|issuer| issuer.id == row.issuer_id).map(|issuer| issuer.issuer.clone());
                view(row, issuer.unwrap_or_default())
            })
            .collect())
    }

    /// Removes one federated credential of an application.
    pub async fn delete_federated_credential(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        self.find_application(&txn, scope, client_id).await?;
        let credential = federated_credential::Entity::find_by_id(id.to_owned())
            .filter(federated_credential::Column::ClientId.eq(client_id))
            .filter(federated_credential::Column::TenantId.eq(scope.tenant_id()))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("federated credential"))?;
        federated_credential::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
        let remaining = federated_credential::Entity::find()
            .filter(federated_credential::Column::ClientId.eq(client_id))
            .count(&txn)
            .await?;
        AuditRecord::in_scope(scope, "federated_credential.delete", client_id)
            .with_details(serde_json::json!({
                "id": id,
                "issuerId": credential.issuer_id,
                "subject": credential.subject,
                "audience": credential.audience,
                "remaining": remaining,
            }))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await
    }
}
