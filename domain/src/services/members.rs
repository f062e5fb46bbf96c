//! Tenant members: list them, change a role, remove them, and the
//! operator's direct add. The last admin of a tenant can be neither removed
//! nor demoted. Admins add members by invitation (`invitations.rs`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::Services;
use super::audit::AuditRecord;
use super::auth::CliAuthority;
use super::password_policy::check_new_password;
use super::tenants::at;
use super::users::{hash_password, validate_email};
use crate::entities::{membership, user};
use crate::scope::{AccessLevel, Role, TenantScope, Write};
use crate::{Error, Result};

/// A member of a tenant, with their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

impl Services {
    pub async fn list_members(&self, scope: &TenantScope<impl AccessLevel>) -> Result<Vec<Member>> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::TenantId.eq(scope.tenant_id()))
            .order_by_asc(membership::Column::CreatedAt)
            .all(self.db())
            .await?;
        let ids: Vec<String> = memberships.iter().map(|m| m.user_id.clone()).collect();
        let users = user::Entity::find().filter(user::Column::Id.is_in(ids)).all(self.db()).await?;
        let mut members = Vec::with_capacity(memberships.len());
        for m in memberships {
            if let Some(u) = users.iter().find(|u| u.id == m.user_id) {
                members.push(Member {
                    user_id: u.id.clone(),
                    email: u.email.clone(),
                    role: Role::parse(&m.role)?,
                    added_at: at(m.created_at),
                });
            }
        }
        Ok(members)
    }

    /// The operator's way to add a member, for automation (`clavis member
    /// add`): a new email creates the account with `password` (checked by
    /// the password policy); an existing account only gains the membership,
    /// and its password is neither changed nor checked. Tenant admins invite
    /// instead ([`Services::invite_member`]).
    pub async fn add_member_by_operator(
        &self,
        _operator: &CliAuthority,
        scope: &TenantScope<Write>,
        email: &str,
        role: Role,
        password: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Member> {
        let email = validate_email(email)?;
        let existing = user::Entity::find().filter(user::Column::Email.eq(&email)).one(self.db()).await?;
        let new_hash = match (&existing, password) {
            (Some(_), _) => None,
            (None, Some(password)) => {
                check_new_password(password, &email)?;
                Some(hash_password(password.to_owned()).await?)
            }
            (None, None) => return Err(Error::validation("a new account needs an initial password")),
        };
        let txn = self.begin_write().await?;
        let user_id = match (existing, new_hash) {
            (Some(found), _) => found.id,
            (None, Some(hash)) => insert_user(&txn, &email, hash, now).await?,
            (None, None) => return Err(Error::validation("a new account needs an initial password")),
        };
        insert_membership(&txn, &user_id, scope.tenant_id(), role, now).await?;
        AuditRecord::in_scope(scope, "member.add", &email)
            .with_details(serde_json::json!({"role": role.as_str()}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(Member { user_id, email, role, added_at: now })
    }

    async fn admin_count<C: ConnectionTrait>(&self, conn: &C, tenant_id: &str) -> Result<u64> {
        Ok(membership::Entity::find()
            .filter(membership::Column::TenantId.eq(tenant_id))
            .filter(membership::Column::Role.eq(Role::Admin.as_str()))
            .count(conn)
            .await?)
    }

    pub async fn change_member_role(
        &self,
        scope: &TenantScope<Write>,
        user_id: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let found = membership::Entity::find_by_id((user_id.to_owned(), scope.tenant_id().to_owned()))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if found.role == Role::Admin.as_str()
            && role != Role::Admin
            && self.admin_count(&txn, scope.tenant_id()).await? <= 1
        {
            return Err(Error::Conflict("the last admin of a tenant cannot be demoted".into()));
        }
        let mut active: membership::ActiveModel = found.into();
        active.role = Set(role.as_str().to_owned());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "member.role", user_id)
            .with_details(serde_json::json!({"role": role.as_str()}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn remove_member(&self, scope: &TenantScope<Write>, user_id: &str, now: DateTime<Utc>) -> Result<()> {
        let txn = self.begin_write().await?;
        let found = membership::Entity::find_by_id((user_id.to_owned(), scope.tenant_id().to_owned()))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if found.role == Role::Admin.as_str() && self.admin_count(&txn, scope.tenant_id()).await? <= 1 {
            return Err(Error::Conflict("the last admin of a tenant cannot be removed".into()));
        }
        membership::Entity::delete_by_id((user_id.to_owned(), scope.tenant_id().to_owned())).exec(&txn).await?;
        AuditRecord::in_scope(scope, "member.remove", user_id).write(&txn, now).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Creates a non-operator account; returns its ID.
pub(super) async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    user::ActiveModel {
        id: Set(id.clone()),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        is_operator: Set(false),
        created_at: Set(now.timestamp()),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Gives `user_id` `role` in `tenant_id`; `Conflict` when they already have one.
pub(super) async fn insert_membership<C: ConnectionTrait>(
    conn: &C,
    user_id: &str,
    tenant_id: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<()> {
    if membership::Entity::find_by_id((user_id.to_owned(), tenant_id.to_owned())).one(conn).await?.is_some() {
        return Err(Error::Conflict("that account is already a member of this tenant".into()));
    }
    membership::ActiveModel {
        user_id: Set(user_id.to_owned()),
        tenant_id: Set(tenant_id.to_owned()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now.timestamp()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
