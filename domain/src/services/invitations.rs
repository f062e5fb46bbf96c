//! Invitations: how a tenant admin adds a member without choosing, or
//! learning anything about, their password. The invitation's one-time link
//! is shown once to the admin; the person who opens it sets their own
//! password (a new account) or signs in with theirs (an existing account),
//! which creates the membership. The admin gets the same answer either way.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::AuditRecord;
use super::members::{insert_membership, insert_user};
use super::one_time::{OneTimeLink, lookup_digest, new_token, token_matches};
use super::password_policy::check_new_password;
use super::tenants::at;
use super::users::{hash_password, validate_email};
use crate::entities::{invitation, tenant, user};
use crate::scope::{AccessLevel, Actor, Role, TenantScope, Write};
use crate::{Error, Result};

/// How long an invitation link works: 72 hours.
pub const INVITATION_LIFETIME_HOURS: i64 = 72;

/// A pending invitation, as its tenant's admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new invitation and its link, shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub invitation: Invitation,
    pub link: OneTimeLink,
}

/// What the person holding an invitation link is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationDetails {
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

fn view(model: &invitation::Model) -> Result<Invitation> {
    Ok(Invitation {
        id: model.id.clone(),
        email: model.email.clone(),
        role: Role::parse(&model.role)?,
        invited_by: model.invited_by.clone(),
        created_at: at(model.created_at),
        expires_at: at(model.expires_at),
    })
}

impl Services {
    /// Invites `email` to the tenant with `role`. Nothing about any existing
    /// account is looked at, so the answer is the same whether one exists.
    pub async fn invite_member(
        &self,
        scope: &TenantScope<Write>,
        email: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<NewInvitation> {
        let email = validate_email(email)?;
        let (token, digest) = new_token();
        let expires_at = now + Duration::hours(INVITATION_LIFETIME_HOURS);
        let model = invitation::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            email: Set(email.clone()),
            role: Set(role.as_str().to_owned()),
            invited_by: Set(scope.actor().label().to_owned()),
            token_digest: Set(digest),
            created_at: Set(now.timestamp()),
            expires_at: Set(expires_at.timestamp()),
            used_at: Set(None),
        };
        let txn = self.begin_write().await?;
        let model = model.insert(&txn).await?;
        AuditRecord::in_scope(scope, "member.invite", &email)
            .with_details(serde_json::json!({"role": role.as_str(), "invitation": model.id}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        let url = format!("{}/invite/{token}", self.public_url());
        Ok(NewInvitation { invitation: view(&model)?, link: OneTimeLink { url, expires_at } })
    }

    /// The tenant's invitations not yet used and not expired at `now`, oldest first.
    pub async fn list_invitations(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>> {
        invitation::Entity::find()
            .filter(invitation::Column::TenantId.eq(scope.tenant_id()))
            .filter(invitation::Column::UsedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now.timestamp()))
            .order_by_asc(invitation::Column::CreatedAt)
            .all(self.db())
            .await?
            .iter()
            .map(view)
            .collect()
    }

    /// Withdraws a pending invitation: its link stops working at once.
    pub async fn revoke_invitation(&self, scope: &TenantScope<Write>, id: &str, now: DateTime<Utc>) -> Result<()> {
        let txn = self.begin_write().await?;
        let found = invitation::Entity::find_by_id(id.to_owned())
            .filter(invitation::Column::TenantId.eq(scope.tenant_id()))
            .filter(invitation::Column::UsedAt.is_null())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("invitation"))?;
        invitation::Entity::delete_by_id(found.id.clone()).exec(&txn).await?;
        AuditRecord::in_scope(scope, "member.invite_revoked", &found.email)
            .with_details(serde_json::json!({"invitation": found.id}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The invitation behind `token` if it can still be accepted at `now`.
    async fn open_invitation(&self, token: &str, now: DateTime<Utc>) -> Result<invitation::Model> {
        let digest = lookup_digest(token).ok_or(Error::NotFound("invitation"))?;
        let found = invitation::Entity::find()
            .filter(invitation::Column::TokenDigest.eq(digest))
            .one(self.db())
            .await?
            .filter(|found| token_matches(token, &found.token_digest))
            .ok_or(Error::NotFound("invitation"))?;
        if found.used_at.is_some() {
            return Err(Error::validation("this invitation has already been used"));
        }
        if found.expires_at <= now.timestamp() {
            return Err(Error::validation("this invitation has expired; ask the tenant's admin for a new one"));
        }
        Ok(found)
    }

    /// What the invitation page shows the holder of `token`.
    pub async fn invitation_details(&self, token: &str, now: DateTime<Utc>) -> Result<InvitationDetails> {
        let found = self.open_invitation(token, now).await?;
        let tenant = tenant::Entity::find_by_id(found.tenant_id.clone())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("invitation"))?;
        // Whether the email has an account is not shown: the inviting admin
        // holds this link too, and would learn it from the page.
        Ok(InvitationDetails {
            tenant_name: tenant.name,
            email: found.email,
            role: Role::parse(&found.role)?,
            expires_at: at(found.expires_at),
        })
    }

    /// Accepts the invitation behind `token`. Without an account for its
    /// email, `password` becomes the new account's password (by the policy);
    /// with one, `password` must be that account's own (checked and
    /// throttled like a sign-in). The link is spent in the same transaction
    /// that creates the membership, so it works once.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let found = self.open_invitation(token, now).await?;
        let role = Role::parse(&found.role)?;
        let existing = user::Entity::find().filter(user::Column::Email.eq(&found.email)).one(self.db()).await?;
        let new_hash = match &existing {
            Some(account) => {
                self.confirm_own_password(account, password, source_addr, now).await?;
                None
            }
            None => {
                check_new_password(password, &found.email)?;
                Some(hash_password(password.to_owned()).await?)
            }
        };
        let txn = self.begin_write().await?;
        let spent = invitation::Entity::update_many()
            .col_expr(invitation::Column::UsedAt, Expr::value(now.timestamp()))
            .filter(invitation::Column::Id.eq(&found.id))
            .filter(invitation::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(Error::validation("this invitation has already been used"));
        }
        let user_id = match (existing, new_hash) {
            (Some(account), _) => account.id,
            (None, Some(hash)) => insert_user(&txn, &found.email, hash, now).await?,
            (None, None) => return Err(Error::internal("an invitation without an account or a password")),
        };
        insert_membership(&txn, &user_id, &found.tenant_id, role, now).await?;
        let actor = Actor::User { id: user_id, email: found.email.clone() };
        AuditRecord {
            tenant_id: Some(&found.tenant_id),
            actor: &actor,
            action: "member.invite_accepted",
            target: &found.email,
            source_addr,
            details: Some(serde_json::json!({"role": role.as_str(), "invitation": found.id})),
        }
        .write(&txn, now)
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
