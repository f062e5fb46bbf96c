//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): opaque, 256 random bits,
//! stored only as their SHA-256 digest, bound to one client and one user,
//! and rotated on every use. A token that was already exchanged and comes
//! back means two parties hold it; the whole family (every token rotated
//! from the same sign-in) is then revoked.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::crypto::{generate_client_secret, secret_digest_hex};
use crate::entities::refresh_token;
use crate::scope::Actor;
use crate::services::Services;
use crate::services::audit::AuditRecord;
use crate::{Error, Result};

/// The longest refresh token accepted: ours are 43 characters.
const MAX_REFRESH_TOKEN_CHARS: usize = 128;

/// What a new refresh token is for.
pub(super) struct RefreshGrant<'a> {
    pub tenant_id: &'a str,
    /// `None` starts a new family (a sign-in); `Some` continues one.
    pub family_id: Option<&'a str>,
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub scope: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub auth_time: i64,
    pub lifetime_secs: i64,
}

/// Why a presented refresh token was not exchanged. The client hears the
/// same `invalid_grant` for each; the log and the audit tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Unknown,
    OtherClient,
    Expired,
    /// Already exchanged: its family has been revoked.
    Reused,
}

impl Refusal {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown refresh token",
            Refusal::OtherClient => "refresh token of another client",
            Refusal::Expired => "expired refresh token",
            Refusal::Reused => "reused refresh token; its family is revoked",
        }
    }
}

/// Stores a new refresh token and returns the value the client gets.
pub(super) async fn store<C: ConnectionTrait>(
    conn: &C,
    grant: &RefreshGrant<'_>,
    now: DateTime<Utc>,
) -> Result<String> {
    let value = generate_client_secret();
    let id = uuid::Uuid::new_v4().to_string();
    refresh_token::ActiveModel {
        family_id: Set(grant.family_id.map_or_else(|| id.clone(), str::to_owned)),
        id: Set(id),
        tenant_id: Set(grant.tenant_id.to_owned()),
        user_id: Set(grant.user_id.to_owned()),
        client_id: Set(grant.client_id.to_owned()),
        token_digest: Set(secret_digest_hex(&value)),
        scope: Set(grant.scope.map(str::to_owned)),
        audience: Set(grant.audience.map(str::to_owned)),
        auth_time: Set(grant.auth_time),
        created_at: Set(now.timestamp()),
        expires_at: Set(now.timestamp().saturating_add(grant.lifetime_secs)),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(value)
}

/// The stored token `presented`, if it is one of the tenant's.
async fn find<C: ConnectionTrait>(conn: &C, tenant_id: &str, presented: &str) -> Result<Option<refresh_token::Model>> {
    if presented.is_empty() || presented.chars().count() > MAX_REFRESH_TOKEN_CHARS {
        return Ok(None);
    }
    // The digest is the lookup key: equal digests are found by the index,
    // and the value itself is compared nowhere.
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenDigest.eq(secret_digest_hex(presented)))
        .filter(refresh_token::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?)
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: &str) -> Result<u64> {
    Ok(refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .exec(conn)
        .await?
        .rows_affected)
}

impl Services {
    /// Marks `presented` as exchanged by `client_id`, on `conn` (the grant's
    /// transaction). On reuse the family is revoked and audited on `conn`
    /// too, so the caller must commit even when this refuses.
    pub(super) async fn spend_refresh_token<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        client_id: &str,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<refresh_token::Model, Refusal>> {
        let Some(row) = find(conn, tenant_id, presented).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        // RFC 6749 §6: the server MUST "validate the refresh token" and
        // "ensure that the refresh token was issued to the authenticated client".
        if row.client_id != client_id {
            return Ok(Err(Refusal::OtherClient));
        }
        if row.expires_at <= now.timestamp() {
            return Ok(Err(Refusal::Expired));
        }
        // Only one exchange can set `used_at`: a concurrent second use of
        // the same token finds no row to update and counts as reuse.
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now.timestamp()))
            .filter(refresh_token::Column::Id.eq(&row.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(conn)
            .await?
            .rows_affected;
        if spent == 0 {
            // RFC 9700 §4.14.2: "If a refresh token is compromised and
            // subsequently used by both the attacker and the legitimate
            // client, one of them will present an invalidated refresh token,
            // which will inform the authorization server of the breach. The
            // authorization server cannot determine which party submitted
            // the invalid refresh token, but it will revoke the active
            // refresh token."
            let revoked = revoke_family(conn, &row.family_id).await?;
            let actor = Actor::Application { client_id: client_id.to_owned() };
            AuditRecord {
                tenant_id: Some(tenant_id),
                actor: &actor,
                action: "refresh_token.reuse",
                target: &row.user_id,
                source_addr: None,
                details: Some(serde_json::json!({"family": row.family_id, "revoked": revoked})),
            }
            .write(conn, now)
            .await?;
            return Ok(Err(Refusal::Reused));
        }
        Ok(Ok(row))
    }

    /// RFC 7009 for a refresh token: revokes its family. `Ok(false)` when
    /// `presented` is none of the tenant's refresh tokens; `Forbidden` when
    /// it was issued to another client.
    pub(crate) async fn revoke_refresh_token(&self, tenant_id: &str, client_id: &str, presented: &str) -> Result<bool> {
        let txn = self.begin_write().await?;
        let Some(row) = find(&txn, tenant_id, presented).await? else {
            return Ok(false);
        };
        if row.client_id != client_id {
            return Err(Error::Forbidden);
        }
        revoke_family(&txn, &row.family_id).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Deletes refresh tokens that expired before `now`, used or not.
    pub async fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lt(now.timestamp()))
            .exec(self.db())
            .await?
            .rows_affected)
    }
}

/// Whether the tenant issues refresh tokens, and for how long they last.
pub(super) async fn refresh_settings<C: ConnectionTrait>(conn: &C, tenant_id: &str) -> Result<(bool, i64)> {
    let tenant = crate::entities::tenant::Entity::find_by_id(tenant_id.to_owned())
        .one(conn)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    Ok((tenant.refresh_enabled, tenant.refresh_lifetime_secs))
}
