//! Sign-in in two steps for accounts with a second factor, and a tenant's
//! rule that its admins must have one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::users::SessionUser;
use crate::entities::{membership, pending_sign_in, tenant, user, user_totp};
use crate::scope::{AccessLevel, Actor, Role, TenantScope, Write};
use crate::{Error, Result};

/// How long a sign-in waits for its second factor after the password.
pub const PENDING_SIGN_IN_SECS: i64 = 5 * 60;

/// What a right password leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the account has no second factor.
    Complete(SessionUser),
    /// The password was right; a code must follow, through
    /// [`Services::complete_sign_in`]. Not a signed-in session.
    SecondFactorRequired(PendingSignIn),
}

impl SignIn {
    /// The signed-in user, when no second factor is needed.
    pub fn session_user(self) -> Option<SessionUser> {
        match self {
            SignIn::Complete(user) => Some(user),
            SignIn::SecondFactorRequired(_) => None,
        }
    }
}

/// An opaque, single-use reference to a sign-in waiting for its second
/// factor, valid [`PENDING_SIGN_IN_SECS`]. Only its SHA-256 digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn(String);

impl PendingSignIn {
    /// The reference as the adapter keeps it (in the server-side session).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A reference the adapter kept earlier.
    pub fn from_reference(reference: String) -> Self {
        Self(reference)
    }

    fn digest(&self) -> String {
        Sha256::digest(self.0.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingSignIn(<redacted>)")
    }
}

/// A tenant's sign-in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSecurity {
    /// Admins (and operators) must have a second factor to open the tenant.
    pub require_admin_second_factor: bool,
}

impl Services {
    /// Records a sign-in whose password was right and which now needs a
    /// second factor; expired ones of anyone are cleared on the way.
    pub(super) async fn begin_pending_sign_in(&self, user_id: &str, now: DateTime<Utc>) -> Result<PendingSignIn> {
        pending_sign_in::Entity::delete_many()
            .filter(pending_sign_in::Column::ExpiresAt.lt(now.timestamp()))
            .exec(self.db())
            .await?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let pending = PendingSignIn(URL_SAFE_NO_PAD.encode(bytes));
        pending_sign_in::ActiveModel {
            digest: Set(pending.digest()),
            user_id: Set(user_id.to_owned()),
            expires_at: Set((now + Duration::seconds(PENDING_SIGN_IN_SECS)).timestamp()),
        }
        .insert(self.db())
        .await?;
        Ok(pending)
    }

    /// What a right password leads to for `user_id`.
    pub(super) async fn password_verified(&self, user_id: &str, now: DateTime<Utc>) -> Result<SignIn> {
        if self.enabled_totp(user_id).await?.is_some() {
            return Ok(SignIn::SecondFactorRequired(self.begin_pending_sign_in(user_id, now).await?));
        }
        self.session_user(user_id).await?.map(SignIn::Complete).ok_or(Error::Unauthenticated)
    }

    /// Finishes a sign-in with a TOTP code or a recovery code. A wrong code
    /// is `Unauthenticated`, audited and throttled like a wrong password; the
    /// pending sign-in stays usable until it expires. It is used up by the
    /// first right code. An expired or unknown one is a `Validation` error:
    /// the person must enter their password again.
    pub async fn complete_sign_in(
        &self,
        pending: &PendingSignIn,
        code: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SessionUser> {
        let expired = || Error::validation("this sign-in has expired; enter your password again");
        let row = pending_sign_in::Entity::find_by_id(pending.digest())
            .one(self.db())
            .await?
            .filter(|row| row.expires_at > now.timestamp())
            .ok_or_else(expired)?;
        let user = user::Entity::find_by_id(row.user_id.clone()).one(self.db()).await?.ok_or_else(expired)?;
        let used = self.check_second_factor(&user, code, "login.second_factor_failure", source_addr, now).await?;
        let txn = self.begin_write().await?;
        let claimed = pending_sign_in::Entity::delete_by_id(row.digest.clone()).exec(&txn).await?;
        if claimed.rows_affected != 1 {
            return Err(expired());
        }
        let details = serde_json::json!({"secondFactor": used.label()});
        self.audit_second_factor(&txn, &user, "login.success", source_addr, Some(details), now).await?;
        txn.commit().await?;
        self.session_user(&user.id).await?.ok_or(Error::Unauthenticated)
    }

    /// Whether `user_id` administers (or, as an operator, may administer) a
    /// tenant that requires a second factor they do not have yet: the
    /// dashboard then sends them to set one up first.
    pub async fn second_factor_setup_required(&self, user_id: &str) -> Result<bool> {
        let user = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        if self.enabled_totp(user_id).await?.is_some() {
            return Ok(false);
        }
        let requiring = tenant::Entity::find().filter(tenant::Column::RequireAdminSecondFactor.eq(true));
        if user.is_operator {
            return Ok(requiring.count(self.db()).await? > 0);
        }
        let admin_of: Vec<String> = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::Role.eq(Role::Admin.as_str()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| m.tenant_id)
            .collect();
        if admin_of.is_empty() {
            return Ok(false);
        }
        Ok(requiring.filter(tenant::Column::Id.is_in(admin_of)).count(self.db()).await? > 0)
    }

    /// Whether `user_id` would be refused `tenant_id` until they set up a
    /// second factor: sign-in then lands on the account page instead of a
    /// tenant page that can only say so. Other tenants' rules do not move
    /// the landing page (an operator administers every tenant).
    pub async fn second_factor_blocks(&self, user_id: &str, tenant_id: &str) -> Result<bool> {
        match self.check_admin_second_factor(user_id, tenant_id).await {
            Ok(()) => Ok(false),
            Err(Error::SecondFactorRequired) => Ok(true),
            Err(other) => Err(other),
        }
    }

    /// `SecondFactorRequired` when `tenant_id` requires a second factor of
    /// its admins and `user_id`, about to be given write rights there, has
    /// none. Called where dashboard scopes are granted.
    pub(super) async fn check_admin_second_factor(&self, user_id: &str, tenant_id: &str) -> Result<()> {
        let required = tenant::Entity::find_by_id(tenant_id.to_owned())
            .one(self.db())
            .await?
            .is_some_and(|tenant| tenant.require_admin_second_factor);
        if required && self.enabled_totp(user_id).await?.is_none() {
            return Err(Error::SecondFactorRequired);
        }
        Ok(())
    }

    pub async fn tenant_security(&self, scope: &TenantScope<impl AccessLevel>) -> Result<TenantSecurity> {
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(TenantSecurity { require_admin_second_factor: tenant.require_admin_second_factor })
    }

    /// Sets whether the tenant's admins need a second factor. A dashboard
    /// user who turns it on must have one themselves, so that they cannot
    /// lock themselves out.
    pub async fn set_tenant_security(
        &self,
        scope: &TenantScope<Write>,
        security: TenantSecurity,
        now: DateTime<Utc>,
    ) -> Result<TenantSecurity> {
        if let (Actor::User { id, .. }, true) = (scope.actor(), security.require_admin_second_factor) {
            let has_one = user_totp::Entity::find_by_id(id.clone())
                .one(self.db())
                .await?
                .is_some_and(|row| row.enabled_at.is_some());
            if !has_one {
                return Err(Error::Conflict(
                    "turn on two-factor sign-in for your own account before requiring it of admins".into(),
                ));
            }
        }
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = tenant.require_admin_second_factor;
        let mut active: tenant::ActiveModel = tenant.into();
        active.require_admin_second_factor = Set(security.require_admin_second_factor);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "config.security", scope.tenant_id())
            .with_details(serde_json::json!({
                "before": {"requireAdminSecondFactor": before},
                "after": {"requireAdminSecondFactor": security.require_admin_second_factor},
            }))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Runtime(scope.tenant_id().to_owned())]).await?;
        Ok(security)
    }
}
