//! An account's own password: the holder changes it (knowing the current
//! one), or an operator issues a one-time reset link (1 h) through which the
//! person sets a new one. Tenant admins cannot reset anyone's password: an
//! account may belong to other tenants too. Either way the account's other
//! sessions end, and the act goes to the operator audit.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use super::audit::AuditRecord;
use super::auth::OperatorScope;
use super::one_time::{OneTimeLink, lookup_digest, new_token, token_matches};
use super::password_policy::check_new_password;
use super::users::{hash_password, validate_email};
use crate::entities::{password_reset, user};
use crate::scope::Actor;
use crate::{Error, Result};

/// How long a reset link works: one hour.
pub const PASSWORD_RESET_LIFETIME_MINUTES: i64 = 60;

impl Services {
    /// Changes the password of the signed-in `user_id`, who must know the
    /// current one (a wrong one is `Unauthenticated` and counts as a failed
    /// sign-in). Every session of the user but `keep_session` ends.
    pub async fn change_password(
        &self,
        user_id: &str,
        current_password: &str,
        new_password: &str,
        keep_session: Option<&str>,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let account =
            user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        self.confirm_own_password(&account, current_password, source_addr, now).await?;
        check_new_password(new_password, &account.email)?;
        let hash = hash_password(new_password.to_owned()).await?;
        let txn = self.begin_write().await?;
        let ended = Self::delete_sessions_of_user(&txn, &account.id, keep_session).await?;
        let actor = Actor::User { id: account.id.clone(), email: account.email.clone() };
        AuditRecord::operator(&actor, "password.change", &account.email, source_addr)
            .with_details(serde_json::json!({"sessions_ended": ended}))
            .write(&txn, now)
            .await?;
        let mut active: user::ActiveModel = account.into();
        active.password_hash = Set(hash);
        active.update(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A one-time link through which the holder of `email`'s account sets a
    /// new password; operators only. `NotFound("account")` for an unknown email.
    pub async fn create_password_reset(
        &self,
        operator: &OperatorScope,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<OneTimeLink> {
        let email = validate_email(email)?;
        let account = user::Entity::find()
            .filter(user::Column::Email.eq(&email))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("account"))?;
        let (token, digest) = new_token();
        let expires_at = now + Duration::minutes(PASSWORD_RESET_LIFETIME_MINUTES);
        let txn = self.begin_write().await?;
        let id = uuid::Uuid::new_v4().to_string();
        password_reset::ActiveModel {
            id: Set(id.clone()),
            user_id: Set(account.id),
            token_digest: Set(digest),
            created_at: Set(now.timestamp()),
            expires_at: Set(expires_at.timestamp()),
            used_at: Set(None),
        }
        .insert(&txn)
        .await?;
        AuditRecord::operator(operator.actor(), "password.reset_link", &email, operator.source_addr())
            .with_details(serde_json::json!({"reset": id}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(OneTimeLink { url: format!("{}/reset/{token}", self.public_url()), expires_at })
    }

    /// The reset behind `token` and its account, if it can still be used at `now`.
    async fn open_reset(&self, token: &str, now: DateTime<Utc>) -> Result<(password_reset::Model, user::Model)> {
        let digest = lookup_digest(token).ok_or(Error::NotFound("reset link"))?;
        let found = password_reset::Entity::find()
            .filter(password_reset::Column::TokenDigest.eq(digest))
            .one(self.db())
            .await?
            .filter(|found| token_matches(token, &found.token_digest))
            .ok_or(Error::NotFound("reset link"))?;
        if found.used_at.is_some() {
            return Err(Error::validation("this reset link has already been used"));
        }
        if found.expires_at <= now.timestamp() {
            return Err(Error::validation("this reset link has expired; ask an operator for a new one"));
        }
        let account = user::Entity::find_by_id(found.user_id.clone())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("reset link"))?;
        Ok((found, account))
    }

    /// The email of the account a reset link is for, for its page.
    pub async fn password_reset_email(&self, token: &str, now: DateTime<Utc>) -> Result<String> {
        Ok(self.open_reset(token, now).await?.1.email)
    }

    /// Sets the account's new password through a reset link, once; every
    /// session of the account ends.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (found, account) = self.open_reset(token, now).await?;
        check_new_password(new_password, &account.email)?;
        let hash = hash_password(new_password.to_owned()).await?;
        let txn = self.begin_write().await?;
        let spent = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(now.timestamp()))
            .filter(password_reset::Column::Id.eq(&found.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(Error::validation("this reset link has already been used"));
        }
        let ended = Self::delete_sessions_of_user(&txn, &account.id, None).await?;
        let actor = Actor::User { id: account.id.clone(), email: account.email.clone() };
        AuditRecord::operator(&actor, "password.reset", &account.email, source_addr)
            .with_details(serde_json::json!({"reset": found.id, "sessions_ended": ended}))
            .write(&txn, now)
            .await?;
        let mut active: user::ActiveModel = account.into();
        active.password_hash = Set(hash);
        active.update(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}
