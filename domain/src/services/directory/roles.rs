//! The roles a Cloud Directory user holds (App ID's
//! `/users/{profileId}/roles`): the same roles applications hold, so a user's
//! token carries the scopes their roles grant on the application it is for.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{directory_user, directory_user_role, role, role_scope};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::services::RoleRef;
use crate::services::Services;
use crate::services::audit::AuditRecord;
use crate::services::ids::could_exist;
use crate::{Error, Result};

impl Services {
    /// The user whose profile ID is `profile_id`, in the scope's tenant.
    async fn profile_row<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        profile_id: &str,
    ) -> Result<directory_user::Model> {
        if !could_exist(profile_id) {
            return Err(Error::NotFound("user"));
        }
        directory_user::Entity::find()
            .filter(directory_user::Column::ProfileId.eq(profile_id))
            .filter(directory_user::Column::TenantId.eq(tenant_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    async fn user_role_refs<C: ConnectionTrait>(&self, conn: &C, user_id: &str) -> Result<Vec<RoleRef>> {
        let held: Vec<String> = directory_user_role::Entity::find()
            .filter(directory_user_role::Column::UserId.eq(user_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| row.role_id)
            .collect();
        if held.is_empty() {
            return Ok(Vec::new());
        }
        Ok(role::Entity::find()
            .filter(role::Column::Id.is_in(held))
            .order_by_asc(role::Column::Name)
            .all(conn)
            .await?
            .into_iter()
            .map(|model| RoleRef { id: model.id, name: model.name })
            .collect())
    }

    /// The roles the user with `profile_id` holds.
    pub async fn directory_user_roles(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        profile_id: &str,
    ) -> Result<Vec<RoleRef>> {
        let user = self.profile_row(self.db(), scope.tenant_id(), profile_id).await?;
        self.user_role_refs(self.db(), &user.id).await
    }

    /// Replaces the roles the user with `profile_id` holds; every role must
    /// be one of the tenant's (404 otherwise).
    pub async fn set_directory_user_roles(
        &self,
        scope: &TenantScope<Write>,
        profile_id: &str,
        role_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<RoleRef>> {
        let txn = self.begin_write().await?;
        let user = self.profile_row(&txn, scope.tenant_id(), profile_id).await?;
        let mut wanted: Vec<String> = Vec::with_capacity(role_ids.len());
        for role_id in role_ids {
            let known = could_exist(role_id)
                && role::Entity::find_by_id(role_id.clone())
                    .filter(role::Column::TenantId.eq(scope.tenant_id()))
                    .one(&txn)
                    .await?
                    .is_some();
            if !known {
                return Err(Error::NotFound("role"));
            }
            if !wanted.contains(role_id) {
                wanted.push(role_id.clone());
            }
        }
        let before: Vec<String> = self.user_role_refs(&txn, &user.id).await?.into_iter().map(|r| r.id).collect();
        directory_user_role::Entity::delete_many()
            .filter(directory_user_role::Column::UserId.eq(&user.id))
            .exec(&txn)
            .await?;
        if !wanted.is_empty() {
            let rows = wanted.iter().map(|role_id| directory_user_role::ActiveModel {
                user_id: Set(user.id.clone()),
                role_id: Set(role_id.clone()),
            });
            directory_user_role::Entity::insert_many(rows).exec(&txn).await?;
        }
        AuditRecord::in_scope(scope, "cloud_directory.user.roles", &user.id)
            .with_details(serde_json::json!({"before": before, "after": wanted}))
            .write(&txn, now)
            .await?;
        let refs = self.user_role_refs(&txn, &user.id).await?;
        txn.commit().await?;
        Ok(refs)
    }

    /// The scopes `user_id`'s roles grant on the application `client_id`,
    /// in a stable order.
    pub(super) async fn user_scopes_on(&self, user_id: &str, client_id: &str) -> Result<Vec<String>> {
        let roles: Vec<String> = directory_user_role::Entity::find()
            .filter(directory_user_role::Column::UserId.eq(user_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.role_id)
            .collect();
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let scopes: BTreeSet<String> = role_scope::Entity::find()
            .filter(role_scope::Column::RoleId.is_in(roles))
            .filter(role_scope::Column::ClientId.eq(client_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.scope)
            .collect();
        Ok(scopes.into_iter().collect())
    }
}
