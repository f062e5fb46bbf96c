//! Roles (App ID's model): a named set of scopes on protected applications,
//! held by calling applications. A caller's token for a protected
//! application carries the scopes its roles grant there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clavis_types::{MAX_APPLICATION_NAME_CHARS, MAX_ROLE_DESCRIPTION_CHARS, MAX_ROLES_PER_TENANT};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::Services;
use super::audit::AuditRecord;
use super::ids::could_exist;
use super::invalidation::Invalidation;
use super::protected::stored_scopes;
use super::tenants::validate_display_name;
use crate::entities::{application, application_role, role, role_scope};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The scopes a role grants on one protected application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAccess {
    /// The protected application's client ID.
    pub application_id: String,
    pub scopes: Vec<String>,
}

/// A role with everything it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub access: Vec<RoleAccess>,
}

/// What a role should become (create and replace alike).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleInput {
    pub name: String,
    pub description: String,
    pub access: Vec<RoleAccess>,
}

/// A role as a caller's role list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub id: String,
    pub name: String,
}

fn validate_description(description: &str) -> Result<String> {
    let description = description.trim();
    if description.chars().count() > MAX_ROLE_DESCRIPTION_CHARS {
        return Err(Error::validation(format!("description must be at most {MAX_ROLE_DESCRIPTION_CHARS} characters")));
    }
    Ok(description.to_owned())
}

impl Services {
    /// Checks `access` against the tenant: every application is one of its
    /// applications (404 otherwise) and every scope one that application
    /// defines (400 otherwise). Returns the `(application, scope)` pairs.
    async fn checked_access<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        access: &[RoleAccess],
    ) -> Result<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        for entry in access {
            if !could_exist(&entry.application_id) {
                return Err(Error::NotFound("application"));
            }
            let app = application::Entity::find_by_id(entry.application_id.clone())
                .filter(application::Column::TenantId.eq(tenant_id))
                .one(conn)
                .await?
                .ok_or(Error::NotFound("application"))?;
            let defined = stored_scopes(&app)?;
            for scope in &entry.scopes {
                if !defined.contains(scope) {
                    return Err(Error::validation(format!(
                        "application {} has no scope {scope:?}",
                        entry.application_id
                    )));
                }
                let pair = (entry.application_id.clone(), scope.clone());
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
        Ok(pairs)
    }

    async fn name_taken<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        name: &str,
        except: &str,
    ) -> Result<bool> {
        let clash = role::Entity::find()
            .filter(role::Column::TenantId.eq(tenant_id))
            .filter(role::Column::Name.eq(name))
            .filter(role::Column::Id.ne(except))
            .count(conn)
            .await?;
        Ok(clash > 0)
    }

    async fn replace_grants<C: ConnectionTrait>(
        &self,
        conn: &C,
        role_id: &str,
        pairs: Vec<(String, String)>,
    ) -> Result<()> {
        role_scope::Entity::delete_many().filter(role_scope::Column::RoleId.eq(role_id)).exec(conn).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        let rows = pairs.into_iter().map(|(client_id, scope)| role_scope::ActiveModel {
            role_id: Set(role_id.to_owned()),
            client_id: Set(client_id),
            scope: Set(scope),
        });
        role_scope::Entity::insert_many(rows).exec(conn).await?;
        Ok(())
    }

    async fn find_role<C: ConnectionTrait>(&self, conn: &C, tenant_id: &str, role_id: &str) -> Result<role::Model> {
        if !could_exist(role_id) {
            return Err(Error::NotFound("role"));
        }
        role::Entity::find_by_id(role_id.to_owned())
            .filter(role::Column::TenantId.eq(tenant_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound("role"))
    }

    /// The roles `models`, with their grants grouped by application in the
    /// order each application lists its scopes.
    async fn roles_with_access<C: ConnectionTrait>(&self, conn: &C, models: Vec<role::Model>) -> Result<Vec<Role>> {
        let ids: Vec<String> = models.iter().map(|model| model.id.clone()).collect();
        let grants = if ids.is_empty() {
            Vec::new()
        } else {
            role_scope::Entity::find().filter(role_scope::Column::RoleId.is_in(ids)).all(conn).await?
        };
        let mut client_ids: Vec<String> = grants.iter().map(|grant| grant.client_id.clone()).collect();
        client_ids.sort();
        client_ids.dedup();
        let apps = if client_ids.is_empty() {
            Vec::new()
        } else {
            application::Entity::find().filter(application::Column::ClientId.is_in(client_ids)).all(conn).await?
        };
        let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for app in &apps {
            order.insert(app.client_id.clone(), stored_scopes(app)?);
        }
        Ok(models
            .into_iter()
            .map(|model| {
                let mut access: Vec<RoleAccess> = Vec::new();
                for (client_id, defined) in &order {
                    let scopes: Vec<String> = defined
                        .iter()
                        .filter(|scope| {
                            grants
                                .iter()
                                .any(|g| g.role_id == model.id && &g.client_id == client_id && &g.scope == *scope)
                        })
                        .cloned()
                        .collect();
                    if !scopes.is_empty() {
                        access.push(RoleAccess { application_id: client_id.clone(), scopes });
                    }
                }
                Role { id: model.id, name: model.name, description: model.description, access }
            })
            .collect())
    }

    /// The tenant's roles, by name.
    pub async fn list_roles(&self, scope: &TenantScope<impl AccessLevel>) -> Result<Vec<Role>> {
        let models = role::Entity::find()
            .filter(role::Column::TenantId.eq(scope.tenant_id()))
            .order_by_asc(role::Column::Name)
            .all(self.db())
            .await?;
        self.roles_with_access(self.db(), models).await
    }

    pub async fn get_role(&self, scope: &TenantScope<impl AccessLevel>, role_id: &str) -> Result<Role> {
        let model = self.find_role(self.db(), scope.tenant_id(), role_id).await?;
        let mut roles = self.roles_with_access(self.db(), vec![model]).await?;
        roles.pop().ok_or(Error::NotFound("role"))
    }

    /// Creates a role; at most [`MAX_ROLES_PER_TENANT`] per tenant, names unique.
    pub async fn create_role(&self, scope: &TenantScope<Write>, input: RoleInput, now: DateTime<Utc>) -> Result<Role> {
        let name = validate_display_name(&input.name, "role name", MAX_APPLICATION_NAME_CHARS)?;
        let description = validate_description(&input.description)?;
        let txn = self.begin_write().await?;
        let count = role::Entity::find().filter(role::Column::TenantId.eq(scope.tenant_id())).count(&txn).await?;
        if count >= MAX_ROLES_PER_TENANT as u64 {
            return Err(Error::Conflict(format!("a tenant may have at most {MAX_ROLES_PER_TENANT} roles")));
        }
        if self.name_taken(&txn, scope.tenant_id(), &name, "").await? {
            return Err(Error::Conflict(format!("a role named {name:?} already exists")));
        }
        let pairs = self.checked_access(&txn, scope.tenant_id(), &input.access).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let model = role::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            name: Set(name.clone()),
            description: Set(description),
            created_at: Set(now.timestamp()),
            updated_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await?;
        self.replace_grants(&txn, &id, pairs.clone()).await?;
        AuditRecord::in_scope(scope, "role.create", &id)
            .with_details(serde_json::json!({"name": name, "grants": grant_details(&pairs)}))
            .write(&txn, now)
            .await?;
        let mut roles = self.roles_with_access(&txn, vec![model]).await?;
        self.commit_invalidating(txn, &[Invalidation::TenantClients(scope.tenant_id().to_owned())]).await?;
        roles.pop().ok_or(Error::NotFound("role"))
    }

    /// Replaces a role's name, description and grants.
    pub async fn update_role(
        &self,
        scope: &TenantScope<Write>,
        role_id: &str,
        input: RoleInput,
        now: DateTime<Utc>,
    ) -> Result<Role> {
        let name = validate_display_name(&input.name, "role name", MAX_APPLICATION_NAME_CHARS)?;
        let description = validate_description(&input.description)?;
        let txn = self.begin_write().await?;
        let existing = self.find_role(&txn, scope.tenant_id(), role_id).await?;
        if self.name_taken(&txn, scope.tenant_id(), &name, role_id).await? {
            return Err(Error::Conflict(format!("a role named {name:?} already exists")));
        }
        let pairs = self.checked_access(&txn, scope.tenant_id(), &input.access).await?;
        let before = self.roles_with_access(&txn, vec![existing.clone()]).await?;
        let mut active: role::ActiveModel = existing.into();
        active.name = Set(name.clone());
        active.description = Set(description);
        active.updated_at = Set(now.timestamp());
        let model = active.update(&txn).await?;
        self.replace_grants(&txn, role_id, pairs.clone()).await?;
        AuditRecord::in_scope(scope, "role.update", role_id)
            .with_details(serde_json::json!({
                "before": before.first().map(role_details),
                "after": {"name": name, "grants": grant_details(&pairs)},
            }))
            .write(&txn, now)
            .await?;
        let mut roles = self.roles_with_access(&txn, vec![model]).await?;
        self.commit_invalidating(txn, &[Invalidation::TenantClients(scope.tenant_id().to_owned())]).await?;
        roles.pop().ok_or(Error::NotFound("role"))
    }

    /// Deletes a role; the applications that held it lose what it granted.
    pub async fn delete_role(&self, scope: &TenantScope<Write>, role_id: &str, now: DateTime<Utc>) -> Result<()> {
        let txn = self.begin_write().await?;
        let existing = self.find_role(&txn, scope.tenant_id(), role_id).await?;
        let before = self.roles_with_access(&txn, vec![existing]).await?;
        role_scope::Entity::delete_many().filter(role_scope::Column::RoleId.eq(role_id)).exec(&txn).await?;
        application_role::Entity::delete_many().filter(application_role::Column::RoleId.eq(role_id)).exec(&txn).await?;
        role::Entity::delete_by_id(role_id.to_owned()).exec(&txn).await?;
        AuditRecord::in_scope(scope, "role.delete", role_id)
            .with_details(serde_json::json!({"before": before.first().map(role_details)}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::TenantClients(scope.tenant_id().to_owned())]).await?;
        Ok(())
    }

    /// The applications holding `role_id`, for a deletion's confirmation.
    pub async fn role_holders(&self, scope: &TenantScope<impl AccessLevel>, role_id: &str) -> Result<Vec<String>> {
        self.find_role(self.db(), scope.tenant_id(), role_id).await?;
        Ok(application_role::Entity::find()
            .filter(application_role::Column::RoleId.eq(role_id))
            .order_by_asc(application_role::Column::ClientId)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.client_id)
            .collect())
    }

    /// The roles a calling application holds, by name.
    pub async fn application_roles(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        client_id: &str,
    ) -> Result<Vec<RoleRef>> {
        self.find_application(self.db(), scope, client_id).await?;
        self.role_refs(self.db(), client_id).await
    }

    async fn role_refs<C: ConnectionTrait>(&self, conn: &C, client_id: &str) -> Result<Vec<RoleRef>> {
        let held = application_role::Entity::find()
            .filter(application_role::Column::ClientId.eq(client_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| row.role_id)
            .collect::<Vec<_>>();
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

    /// Replaces the roles a calling application holds (App ID's
    /// `PUT /applications/{clientId}/roles`).
    pub async fn set_application_roles(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        role_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<RoleRef>> {
        let txn = self.begin_write().await?;
        self.find_application(&txn, scope, client_id).await?;
        let mut wanted: Vec<String> = Vec::with_capacity(role_ids.len());
        for role_id in role_ids {
            self.find_role(&txn, scope.tenant_id(), role_id).await?;
            if !wanted.contains(role_id) {
                wanted.push(role_id.clone());
            }
        }
        let before: Vec<String> = self.role_refs(&txn, client_id).await?.into_iter().map(|role| role.id).collect();
        application_role::Entity::delete_many()
            .filter(application_role::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await?;
        if !wanted.is_empty() {
            let rows = wanted.iter().map(|role_id| application_role::ActiveModel {
                client_id: Set(client_id.to_owned()),
                role_id: Set(role_id.clone()),
            });
            application_role::Entity::insert_many(rows).exec(&txn).await?;
        }
        AuditRecord::in_scope(scope, "application.roles", client_id)
            .with_details(serde_json::json!({"before": before, "after": wanted}))
            .write(&txn, now)
            .await?;
        let refs = self.role_refs(&txn, client_id).await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(refs)
    }
}

fn grant_details(pairs: &[(String, String)]) -> serde_json::Value {
    pairs.iter().map(|(client_id, scope)| serde_json::json!({"application_id": client_id, "scope": scope})).collect()
}

fn role_details(role: &Role) -> serde_json::Value {
    serde_json::json!({
        "name": role.name,
        "access": role.access.iter().map(|a| serde_json::json!({"application_id": a.application_id, "scopes": a.scopes})).collect::<Vec<_>>(),
    })
}
