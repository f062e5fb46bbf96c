//! Dashboard users: the first-start bootstrap, sign-in and who-am-I.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set, Statement,
};
use serde::{Deserialize, Serialize};

use super::Services;
use super::audit::AuditRecord;
use super::second_factor::SignIn;
use super::tenants::NewTenant;
use crate::crypto::generate_password;
use crate::entities::{membership, tenant, user};
use crate::scope::{Actor, Role};
use crate::{Error, Result};

pub const DEFAULT_BOOTSTRAP_EMAIL: &str = "admin@localhost";

/// The first operator, created on first start; the password is shown once.
pub struct BootstrapAdmin {
    pub email: String,
    pub password: String,
    pub tenant_id: String,
}

impl std::fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapAdmin").field("email", &self.email).finish_non_exhaustive()
    }
}

/// A tenant the user can open, with their role there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TenantMembership {
    pub tenant_id: String,
    pub tenant_name: String,
    pub role: Role,
}

/// The signed-in user as the dashboard sees them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionUser {
    pub id: String,
    pub email: String,
    pub is_operator: bool,
    pub tenants: Vec<TenantMembership>,
}

impl SessionUser {
    pub fn home_tenant(&self) -> Option<&TenantMembership> {
        self.tenants.first()
    }
}

pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) fn validate_email(email: &str) -> Result<String> {
    let email = normalize_email(email);
    let valid = email.len() <= 320
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid { Ok(email) } else { Err(Error::validation("enter a valid email address")) }
}

/// How many argon2id computations run at once, process-wide: each takes
/// ~19 MiB and ~20 ms of a core, so a flood of sign-ins queues here instead
/// of exhausting memory or the blocking pool.
static PASSWORD_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// The longest password argon2id is ever asked to hash; longer ones are
/// refused before any work (and can never match a stored one).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes with argon2id off the async workers (it takes ~20 ms of CPU).
pub(crate) async fn hash_password(password: String) -> Result<String> {
    let _permit = PASSWORD_WORK.acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| Error::internal("password hashing failed"))
    })
    .await
    .map_err(Error::internal)?
}

pub(super) async fn verify_password(password: String, stored_hash: Option<String>) -> Result<bool> {
    let _permit = PASSWORD_WORK.acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        // An unknown account still costs one verification, so response time
        // does not tell which emails exist.
        let hash = match &stored_hash {
            Some(hash) => hash.as_str(),
            None => DUMMY_HASH,
        };
        let parsed = PasswordHash::new(hash).map_err(|_| Error::internal("stored password hash is malformed"))?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && stored_hash.is_some())
    })
    .await
    .map_err(Error::internal)?
}

/// The argon2id hash of a random string nobody knows, with default parameters.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2PUFfwMxOTZDg7hOuLfXlNqWU0vtYNv2VVHSYVlGs3Y";

impl Services {
    /// On an empty database, creates the "Default" tenant and an operator
    /// who administers it. Returns `None` when users already exist.
    pub async fn bootstrap(&self, email: &str, now: DateTime<Utc>) -> Result<Option<BootstrapAdmin>> {
        if user::Entity::find().count(self.db()).await? > 0 {
            return Ok(None);
        }
        let email = validate_email(email)?;
        let password = generate_password();
        let password_hash = hash_password(password.clone()).await?;
        let txn = self.begin_write().await?;
        // Replicas starting at once on an empty database: the decision is
        // taken again under a lock (SQLite's write lock, which `begin_write`
        // holds; on PostgreSQL an advisory lock held to the end of the
        // transaction), so exactly one creates the tenant and the operator
        // and the others find users and print nothing.
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [crate::db::BOOTSTRAP_LOCK_KEY.into()],
            ))
            .await?;
        }
        if user::Entity::find().count(&txn).await? > 0 {
            return Ok(None);
        }
        let tenant = self.insert_tenant(&txn, NewTenant::named("Default"), &Actor::Cli, None, now).await?;
        let user_id = uuid::Uuid::new_v4().to_string();
        user::ActiveModel {
            id: Set(user_id.clone()),
            email: Set(email.clone()),
            password_hash: Set(password_hash),
            is_operator: Set(true),
            created_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await?;
        membership::ActiveModel {
            user_id: Set(user_id),
            tenant_id: Set(tenant.id.clone()),
            role: Set(Role::Admin.as_str().to_owned()),
            created_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(Some(BootstrapAdmin { email, password, tenant_id: tenant.id }))
    }

    /// Checks an email and password. Failures get one generic error, are
    /// audited in the operator audit, and refuse further attempts from the
    /// same address for a while; failures of the account from elsewhere only
    /// lengthen [`Services::sign_in_delay`], which the adapter awaits first.
    /// A right password of an account with a second factor signs nobody in
    /// yet: it gives a [`SignIn::SecondFactorRequired`].
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SignIn> {
        // A malformed or oversized email cannot name an account: it gets the
        // same answer after the same work, and never becomes a throttle key
        // or an audit row.
        let email = match validate_email(email) {
            Ok(email) if password.len() <= MAX_PASSWORD_BYTES => email,
            _ => {
                verify_password(String::new(), None).await?;
                return Err(Error::Unauthenticated);
            }
        };
        let throttle = &self.inner.login_throttle;
        throttle.check(&email, source_addr, now).await?;
        let found = user::Entity::find().filter(user::Column::Email.eq(&email)).one(self.db()).await?;
        let verified = verify_password(password.to_owned(), found.as_ref().map(|u| u.password_hash.clone())).await?;
        let actor = Actor::User { id: found.as_ref().map(|u| u.id.clone()).unwrap_or_default(), email: email.clone() };
        match (found, verified) {
            (Some(found), true) => {
                throttle.record_success(&email, source_addr).await;
                let outcome = self.password_verified(&found.id, now).await?;
                // With a second factor, the sign-in succeeds only at its code.
                let action = match outcome {
                    SignIn::Complete(_) => "login.success",
                    SignIn::SecondFactorRequired(_) => "login.password_verified",
                };
                // Sign-ins belong to the account, which may be in several
                // tenants: they go to the operator audit, not to a tenant's.
                AuditRecord { tenant_id: None, actor: &actor, action, target: &email, source_addr, details: None }
                    .write(self.db(), now)
                    .await?;
                Ok(outcome)
            }
            _ => {
                throttle.record_failure(&email, source_addr, now).await;
                AuditRecord {
                    tenant_id: None,
                    actor: &actor,
                    action: "login.failure",
                    target: &email,
                    source_addr,
                    details: None,
                }
                .write(self.db(), now)
                .await?;
                Err(Error::Unauthenticated)
            }
        }
    }

    /// The user behind a session and the tenants they can open; `None` when
    /// the user no longer exists.
    pub async fn session_user(&self, user_id: &str) -> Result<Option<SessionUser>> {
        let Some(found) = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await? else {
            return Ok(None);
        };
        let memberships = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .order_by_asc(membership::Column::CreatedAt)
            .all(self.db())
            .await?;
        let tenants = tenant::Entity::find().order_by_asc(tenant::Column::CreatedAt).all(self.db()).await?;
        let mut visible = Vec::new();
        for membership in &memberships {
            if let Some(tenant) = tenants.iter().find(|t| t.id == membership.tenant_id) {
                visible.push(TenantMembership {
                    tenant_id: tenant.id.clone(),
                    tenant_name: tenant.name.clone(),
                    role: Role::parse(&membership.role)?,
                });
            }
        }
        if found.is_operator {
            for tenant in &tenants {
                if !visible.iter().any(|m| m.tenant_id == tenant.id) {
                    visible.push(TenantMembership {
                        tenant_id: tenant.id.clone(),
                        tenant_name: tenant.name.clone(),
                        role: Role::Admin,
                    });
                }
            }
        }
        Ok(Some(SessionUser { id: found.id, email: found.email, is_operator: found.is_operator, tenants: visible }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(validate_email(" Admin@Localhost ").unwrap(), "admin@localhost");
        assert!(validate_email("nobody").is_err());
        assert!(validate_email("a b@c").is_err());
    }
}
