//! Protected applications (App ID's "application with scopes", Auth0's
//! API): the scopes an application defines for its callers and the
//! identifier a token request may name it by.

use chrono::{DateTime, Utc};
use clavis_types::validate_scope_list;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use crate::entities::{application, role_scope};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The longest identifier, in bytes.
const MAX_IDENTIFIER_BYTES: usize = 512;

/// An application's scopes as stored: a JSON array of names.
pub(crate) fn stored_scopes(app: &application::Model) -> Result<Vec<String>> {
    serde_json::from_str(&app.scopes).map_err(|_| Error::internal("stored application scopes are not a JSON array"))
}

/// Checks an identifier (Auth0's API identifier): an absolute `https://`
/// URI, or `http://` on a loopback host for development, with no fragment.
pub(crate) fn validate_identifier(identifier: &str) -> Result<String> {
    let identifier = identifier.trim();
    let refuse = || {
        Error::validation(
            "identifier must be an absolute https:// URI (http:// only on a loopback host), without a fragment",
        )
    };
    if identifier.is_empty() || identifier.len() > MAX_IDENTIFIER_BYTES || identifier.chars().any(char::is_control) {
        return Err(refuse());
    }
    let url = url::Url::parse(identifier).map_err(|_| refuse())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.fragment().is_some() || url.host().is_none() {
        return Err(refuse());
    }
    Ok(identifier.to_owned())
}

impl Services {
    /// The scopes `client_id` defines, in order.
    pub async fn application_scopes(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        client_id: &str,
    ) -> Result<Vec<String>> {
        stored_scopes(&self.find_application(self.db(), scope, client_id).await?)
    }

    /// Replaces the scopes `client_id` defines. Every rule is checked before
    /// anything changes; a scope removed here is removed from every role.
    pub async fn set_application_scopes(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        scopes: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        validate_scope_list(&scopes).map_err(|err| Error::validation(err.to_string()))?;
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        let before = stored_scopes(&app)?;
        let removed: Vec<&String> = before.iter().filter(|old| !scopes.contains(old)).collect();
        if !removed.is_empty() {
            role_scope::Entity::delete_many()
                .filter(role_scope::Column::ClientId.eq(client_id))
                .filter(role_scope::Column::Scope.is_in(removed.iter().map(|s| s.as_str())))
                .exec(&txn)
                .await?;
        }
        let mut active: application::ActiveModel = app.into();
        active.scopes = Set(serde_json::to_string(&scopes).map_err(Error::internal)?);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.scopes", client_id)
            .with_details(serde_json::json!({"before": before, "after": scopes}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::TenantClients(scope.tenant_id().to_owned())]).await?;
        Ok(scopes)
    }

    /// Refuses an identifier another application of the tenant already has.
    pub(crate) async fn check_identifier_free<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        identifier: &str,
        except_client_id: &str,
    ) -> Result<()> {
        let clash = application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant_id))
            .filter(application::Column::Identifier.eq(identifier))
            .filter(application::Column::ClientId.ne(except_client_id))
            .count(conn)
            .await?;
        if clash > 0 {
            return Err(Error::Conflict(format!("another application already has the identifier {identifier}")));
        }
        Ok(())
    }
}
