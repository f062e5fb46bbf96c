//! Managing a tenant's Cloud Directory users: sign-up, listing and search,
//! profile changes, disabling, password changes and deletion. Every change
//! that should end a user's sessions (disabling, a new password, deletion)
//! deletes their refresh tokens in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{
    DirectoryPage, DirectoryQuery, DirectoryUser, DirectoryUserUpdate, MAX_DIRECTORY_PAGE, MAX_DIRECTORY_QUERY_CHARS,
    NewDirectoryUser, UserStatus, validate_directory_email, validate_person_name, validate_user_name,
};
use crate::entities::{directory_user, refresh_token};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::services::Services;
use crate::services::audit::AuditRecord;
use crate::services::ids::could_exist;
use crate::services::users::hash_password;
use crate::{Error, Result};

/// `LIKE` text matching `needle` anywhere, with the wildcards in it escaped.
fn contains_pattern(needle: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

fn lower(column: directory_user::Column) -> sea_orm::sea_query::SimpleExpr {
    Func::lower(Expr::col((directory_user::Entity, column))).into()
}

impl Services {
    /// The user `user_id` of the scope's tenant, on `conn`; `NotFound` for
    /// another tenant's user as for one that never existed.
    pub(super) async fn directory_row<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<directory_user::Model> {
        if !could_exist(user_id) {
            return Err(Error::NotFound("user"));
        }
        directory_user::Entity::find_by_id(user_id.to_owned())
            .filter(directory_user::Column::TenantId.eq(tenant_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    async fn email_taken<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        email_key: &str,
        except: Option<&str>,
    ) -> Result<bool> {
        let mut query = directory_user::Entity::find()
            .filter(directory_user::Column::TenantId.eq(tenant_id))
            .filter(directory_user::Column::EmailKey.eq(email_key));
        if let Some(id) = except {
            query = query.filter(directory_user::Column::Id.ne(id));
        }
        Ok(query.count(conn).await? > 0)
    }

    /// Creates a user (App ID's `sign_up`); `Conflict` when the email is
    /// already in the tenant, whatever its case.
    pub async fn sign_up_directory_user(
        &self,
        scope: &TenantScope<Write>,
        new: NewDirectoryUser,
        now: DateTime<Utc>,
    ) -> Result<DirectoryUser> {
        let (email, email_key) = validate_directory_email(&new.email)?;
        let user_name = validate_user_name(new.user_name.as_deref(), &email)?;
        let given_name = validate_person_name(&new.given_name, "givenName")?;
        let family_name = validate_person_name(&new.family_name, "familyName")?;
        self.directory_policy_on(self.db(), scope.tenant_id()).await?.check(&new.password)?;
        // Hash before the transaction: the write lock is not held for ~20 ms of CPU.
        let password_hash = hash_password(new.password).await?;
        let txn = self.begin_write().await?;
        if self.email_taken(&txn, scope.tenant_id(), &email_key, None).await? {
            return Err(Error::Conflict("a user with this email already exists".into()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let row = directory_user::ActiveModel {
            id: Set(id.clone()),
            // One identity per profile: the profile ID is the user ID, so
            // `sub` names the same user whichever of the two a caller keeps.
            profile_id: Set(id.clone()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            email: Set(email.clone()),
            email_key: Set(email_key),
            user_name: Set(user_name),
            given_name: Set(given_name),
            family_name: Set(family_name),
            password_hash: Set(password_hash),
            active: Set(new.active),
            status: Set(new.status.as_str().to_owned()),
            password_changed_at: Set(now.timestamp()),
            created_at: Set(now.timestamp()),
            updated_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await?;
        AuditRecord::in_scope(scope, "cloud_directory.user.create", &id)
            .with_details(serde_json::json!({"email": email, "active": new.active, "status": new.status.as_str()}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// One page of the tenant's users, oldest first; `query` matches the
    /// email, user name or either name, ignoring case.
    pub async fn list_directory_users(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        query: &DirectoryQuery,
    ) -> Result<DirectoryPage> {
        let count = query.count.min(MAX_DIRECTORY_PAGE);
        let start_index = query.start_index.max(1);
        let mut filter = Condition::all().add(directory_user::Column::TenantId.eq(scope.tenant_id()));
        if let Some(text) = query.query.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
            if text.chars().count() > MAX_DIRECTORY_QUERY_CHARS {
                return Err(Error::validation(format!("query must be at most {MAX_DIRECTORY_QUERY_CHARS} characters")));
            }
            let needle = text.to_lowercase();
            filter = filter.add(
                Condition::any()
                    .add(
                        Expr::col((directory_user::Entity, directory_user::Column::EmailKey))
                            .like(contains_pattern(&needle)),
                    )
                    .add(Expr::expr(lower(directory_user::Column::UserName)).like(contains_pattern(&needle)))
                    .add(Expr::expr(lower(directory_user::Column::GivenName)).like(contains_pattern(&needle)))
                    .add(Expr::expr(lower(directory_user::Column::FamilyName)).like(contains_pattern(&needle))),
            );
        }
        let total_results = directory_user::Entity::find().filter(filter.clone()).count(self.db()).await?;
        let rows = if count == 0 {
            Vec::new()
        } else {
            directory_user::Entity::find()
                .filter(filter)
                .order_by_asc(directory_user::Column::CreatedAt)
                .order_by_asc(directory_user::Column::Id)
                .offset(start_index - 1)
                .limit(count)
                .all(self.db())
                .await?
        };
        Ok(DirectoryPage { total_results, start_index, users: rows.into_iter().map(DirectoryUser::from).collect() })
    }

    pub async fn directory_user(&self, scope: &TenantScope<impl AccessLevel>, user_id: &str) -> Result<DirectoryUser> {
        Ok(self.directory_row(self.db(), scope.tenant_id(), user_id).await?.into())
    }

    /// The user with this email in the scope's tenant (any case).
    pub async fn directory_user_by_email(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        email: &str,
    ) -> Result<DirectoryUser> {
        let (_, email_key) = validate_directory_email(email).map_err(|_| Error::NotFound("user"))?;
        directory_user::Entity::find()
            .filter(directory_user::Column::TenantId.eq(scope.tenant_id()))
            .filter(directory_user::Column::EmailKey.eq(email_key))
            .one(self.db())
            .await?
            .map(DirectoryUser::from)
            .ok_or(Error::NotFound("user"))
    }

    /// Replaces a user's profile (and password, when one is given).
    pub async fn update_directory_user(
        &self,
        scope: &TenantScope<Write>,
        user_id: &str,
        update: DirectoryUserUpdate,
        now: DateTime<Utc>,
    ) -> Result<DirectoryUser> {
        let (email, email_key) = validate_directory_email(&update.email)?;
        let user_name = validate_user_name(update.user_name.as_deref(), &email)?;
        let given_name = validate_person_name(&update.given_name, "givenName")?;
        let family_name = validate_person_name(&update.family_name, "familyName")?;
        let password_hash = match update.password {
            Some(password) => {
                self.directory_policy_on(self.db(), scope.tenant_id()).await?.check(&password)?;
                Some(hash_password(password).await?)
            }
            None => None,
        };
        let txn = self.begin_write().await?;
        let row = self.directory_row(&txn, scope.tenant_id(), user_id).await?;
        if self.email_taken(&txn, scope.tenant_id(), &email_key, Some(user_id)).await? {
            return Err(Error::Conflict("a user with this email already exists".into()));
        }
        let ends_sessions = password_hash.is_some() || (row.active && !update.active);
        let before = serde_json::json!({"email": row.email, "active": row.active, "status": row.status});
        let mut active: directory_user::ActiveModel = row.into();
        active.email = Set(email.clone());
        active.email_key = Set(email_key);
        active.user_name = Set(user_name);
        active.given_name = Set(given_name);
        active.family_name = Set(family_name);
        active.active = Set(update.active);
        active.status = Set(update.status.as_str().to_owned());
        if let Some(hash) = password_hash {
            active.password_hash = Set(hash);
            active.password_changed_at = Set(now.timestamp());
        }
        active.updated_at = Set(now.timestamp());
        let row = active.update(&txn).await?;
        if ends_sessions {
            end_refresh_tokens(&txn, user_id).await?;
        }
        AuditRecord::in_scope(scope, "cloud_directory.user.update", user_id)
            .with_details(serde_json::json!({
                "before": before,
                "after": {"email": email, "active": update.active, "status": update.status.as_str()},
                "passwordChanged": ends_sessions && row.password_changed_at == now.timestamp(),
            }))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Enables or disables a user; disabling ends their refresh tokens.
    pub async fn set_directory_user_active(
        &self,
        scope: &TenantScope<Write>,
        user_id: &str,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<DirectoryUser> {
        let txn = self.begin_write().await?;
        let row = self.directory_row(&txn, scope.tenant_id(), user_id).await?;
        let was = row.active;
        let mut model: directory_user::ActiveModel = row.into();
        model.active = Set(active);
        model.updated_at = Set(now.timestamp());
        let row = model.update(&txn).await?;
        if !active {
            end_refresh_tokens(&txn, user_id).await?;
        }
        AuditRecord::in_scope(
            scope,
            if active { "cloud_directory.user.enable" } else { "cloud_directory.user.disable" },
            user_id,
        )
        .with_details(serde_json::json!({"before": {"active": was}, "after": {"active": active}}))
        .write(&txn, now)
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Sets a user's password (App ID's `change_password`), ending their
    /// refresh tokens.
    pub async fn change_directory_password(
        &self,
        scope: &TenantScope<Write>,
        user_id: &str,
        new_password: String,
        now: DateTime<Utc>,
    ) -> Result<DirectoryUser> {
        self.directory_row(self.db(), scope.tenant_id(), user_id).await?;
        self.directory_policy_on(self.db(), scope.tenant_id()).await?.check(&new_password)?;
        let hash = hash_password(new_password).await?;
        let txn = self.begin_write().await?;
        let row = self.directory_row(&txn, scope.tenant_id(), user_id).await?;
        let mut model: directory_user::ActiveModel = row.into();
        model.password_hash = Set(hash);
        model.password_changed_at = Set(now.timestamp());
        model.updated_at = Set(now.timestamp());
        let row = model.update(&txn).await?;
        end_refresh_tokens(&txn, user_id).await?;
        AuditRecord::in_scope(scope, "cloud_directory.user.change_password", user_id).write(&txn, now).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Deletes a user, their roles and their refresh tokens.
    pub async fn delete_directory_user(
        &self,
        scope: &TenantScope<Write>,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let row = self.directory_row(&txn, scope.tenant_id(), user_id).await?;
        end_refresh_tokens(&txn, user_id).await?;
        crate::entities::directory_user_role::Entity::delete_many()
            .filter(crate::entities::directory_user_role::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        directory_user::Entity::delete_by_id(user_id.to_owned()).exec(&txn).await?;
        AuditRecord::in_scope(scope, "cloud_directory.user.delete", user_id)
            .with_details(serde_json::json!({"email": row.email}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Deletes every refresh token of `user_id`.
pub(super) async fn end_refresh_tokens<C: ConnectionTrait>(conn: &C, user_id: &str) -> Result<u64> {
    Ok(refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Whether a stored status lets the user sign in.
pub(super) fn may_sign_in(row: &directory_user::Model) -> bool {
    row.active && matches!(UserStatus::parse(&row.status), Ok(UserStatus::Confirmed))
}
