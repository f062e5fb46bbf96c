//! Applications and their client secrets: create, list, rename, delete,
//! rotate with a grace period, revoke the previous secret, reveal.

use chrono::{DateTime, Utc};
use clavis_types::{MAX_APPLICATION_NAME_CHARS, ManagementAccess};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::Services;
use super::audit::AuditRecord;
use super::client_keys::CredentialKind;
use super::invalidation::Invalidation;
use super::paging::{fetch_count, keyset_page};
use super::protected::validate_identifier;
use super::tenants::{at, validate_display_name};
use crate::crypto::{SealContext, generate_client_secret, secret_digest_hex};
use crate::entities::{application, application_role, client_secret, role_scope};
use crate::scope::{AccessLevel, Actor, TenantScope, Write};
use crate::{Error, Result};

/// Largest page of applications one listing returns.
pub const MAX_PAGE: u64 = 200;

/// The secret that still works during its grace period after a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub last_four: String,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// An application with its credentials' metadata (App ID's fields plus
/// Clavis's); each adapter decides its JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct ApplicationView {
    pub client_id: String,
    pub tenant_id: String,
    /// Present only where the caller just created it.
    pub secret: Option<String>,
    pub name: String,
    pub oauth_server_url: String,
    pub profiles_url: String,
    pub discovery_endpoint: String,
    pub created_at: DateTime<Utc>,
    pub management_access: ManagementAccess,
    pub last_used_at: Option<DateTime<Utc>>,
    pub tokens_issued: i64,
    pub secret_last_four: String,
    pub secret_created_at: Option<DateTime<Utc>>,
    pub previous_secret: Option<PreviousSecret>,
    /// Auth0's API identifier, when the application is protected by one.
    pub identifier: Option<String>,
    /// The tenant's management API, as App ID's service credentials name it.
    pub management_url: String,
    /// How it authenticates: a secret, its keys, or federated credentials.
    pub credential: CredentialKind,
    /// Its tokens must be DPoP-bound: requests without a proof are refused.
    pub dpop_required: bool,
}

/// A new application.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewApplication {
    pub name: String,
    pub management: ManagementAccess,
    pub identifier: Option<String>,
}

/// A change of an application's name and, when `identifier` is `Some`, of
/// its identifier (`Some(None)` removes it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationUpdate {
    pub name: String,
    pub identifier: Option<Option<String>>,
}

impl std::fmt::Debug for ApplicationView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationView")
            .field("client_id", &self.client_id)
            .field("tenant_id", &self.tenant_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("management_access", &self.management_access)
            .finish_non_exhaustive()
    }
}

/// A page of applications, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationPage {
    pub applications: Vec<ApplicationView>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// Paging and filtering of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: Option<u64>,
    pub after: Option<String>,
    /// Case-insensitive match on name or client ID.
    pub filter: Option<String>,
}

pub(crate) fn validate_application_name(name: &str) -> Result<String> {
    validate_display_name(name, "name", MAX_APPLICATION_NAME_CHARS)
}

/// Cursor: `created_at:client_id` of the last row seen, newest first.
fn parse_cursor(cursor: &str) -> Result<(i64, String)> {
    let (created, id) = cursor.split_once(':').ok_or_else(|| Error::validation("invalid cursor"))?;
    let created = created.parse().map_err(|_| Error::validation("invalid cursor"))?;
    Ok((created, id.to_owned()))
}

impl Services {
    pub(super) async fn insert_secret<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(client_secret::Model, String)> {
        let secret = generate_client_secret();
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.master_key().seal(&SealContext::client_secret(tenant_id, &id), secret.as_bytes())?;
        let last_four = clavis_types::last_four(&secret);
        let model = client_secret::ActiveModel {
            id: Set(id),
            client_id: Set(client_id.to_owned()),
            tenant_id: Set(tenant_id.to_owned()),
            status: Set("current".to_owned()),
            digest: Set(secret_digest_hex(&secret)),
            sealed_secret: Set(sealed),
            last_four: Set(last_four),
            created_at: Set(now.timestamp()),
            expires_at: Set(None),
            last_used_at: Set(None),
        }
        .insert(conn)
        .await?;
        Ok((model, secret))
    }

    pub(crate) async fn find_application<C: ConnectionTrait>(
        &self,
        conn: &C,
        scope: &TenantScope<impl AccessLevel>,
        client_id: &str,
    ) -> Result<application::Model> {
        application::Entity::find_by_id(client_id.to_owned())
            .filter(application::Column::TenantId.eq(scope.tenant_id()))
            .one(conn)
            .await?
            .ok_or(Error::NotFound("application"))
    }

    fn view(&self, app: application::Model, secrets: &[client_secret::Model], now: DateTime<Utc>) -> ApplicationView {
        let issuer = self.oauth_server_url(&app.tenant_id);
        let current = secrets.iter().find(|s| s.client_id == app.client_id && s.status == "current");
        let previous = secrets
            .iter()
            .find(|s| {
                s.client_id == app.client_id
                    && s.status == "previous"
                    && s.expires_at.is_some_and(|t| t > now.timestamp())
            })
            .map(|s| PreviousSecret {
                last_four: s.last_four.clone(),
                expires_at: at(s.expires_at.unwrap_or_default()),
                last_used_at: s.last_used_at.map(at),
            });
        ApplicationView {
            credential: CredentialKind::of_row(&app),
            dpop_required: app.dpop_required,
            management_url: self.management_url(&app.tenant_id),
            discovery_endpoint: format!("{issuer}/.well-known/openid-configuration"),
            oauth_server_url: issuer,
            profiles_url: self.public_url().to_owned(),
            client_id: app.client_id,
            tenant_id: app.tenant_id,
            secret: None,
            name: app.name,
            created_at: at(app.created_at),
            management_access: ManagementAccess::parse(&app.management_access).unwrap_or_default(),
            last_used_at: app.last_used_at.map(at),
            tokens_issued: app.tokens_issued,
            secret_last_four: current.map(|s| s.last_four.clone()).unwrap_or_default(),
            secret_created_at: current.map(|s| at(s.created_at)),
            previous_secret: previous,
            identifier: app.identifier,
        }
    }

    async fn secrets_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        client_ids: Vec<String>,
    ) -> Result<Vec<client_secret::Model>> {
        if client_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(client_secret::Entity::find().filter(client_secret::Column::ClientId.is_in(client_ids)).all(conn).await?)
    }

    /// Registers an application and returns it with its first secret.
    pub async fn create_application(
        &self,
        scope: &TenantScope<Write>,
        name: &str,
        management: ManagementAccess,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        let new = NewApplication { name: name.to_owned(), management, identifier: None };
        self.create_application_with(scope, new, now).await
    }

    /// Registers an application, optionally with an identifier, and returns
    /// it with its first secret.
    pub async fn create_application_with(
        &self,
        scope: &TenantScope<Write>,
        new: NewApplication,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        let NewApplication { name, management, identifier } = new;
        let name = validate_application_name(&name)?;
        let identifier = identifier.as_deref().map(validate_identifier).transpose()?;
        let client_id = uuid::Uuid::new_v4().to_string();
        let txn = self.begin_write().await?;
        if let Some(identifier) = &identifier {
            self.check_identifier_free(&txn, scope.tenant_id(), identifier, &client_id).await?;
        }
        let app = application::ActiveModel {
            client_id: Set(client_id.clone()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            name: Set(name.clone()),
            management_access: Set(management.as_str().to_owned()),
            created_at: Set(now.timestamp()),
            updated_at: Set(now.timestamp()),
            last_used_at: Set(None),
            tokens_issued: Set(0),
            identifier: Set(identifier.clone()),
            scopes: Set("[]".to_owned()),
            tokens_revoked_before: Set(None),
            jwks: Set(None),
            jwks_uri: Set(None),
            dpop_required: Set(false),
        }
        .insert(&txn)
        .await?;
        let (secret_row, secret) = self.insert_secret(&txn, scope.tenant_id(), &client_id, now).await?;
        AuditRecord::in_scope(scope, "application.create", &client_id)
            .with_details(serde_json::json!({
                "name": name,
                "managementAccess": management.as_str(),
                "identifier": identifier,
            }))
            .write(&txn, now)
            .await?;
        // A client ID seen before it existed is remembered as unknown.
        let mut changes = vec![Invalidation::Client(client_id.clone())];
        if identifier.is_some() {
            changes.push(Invalidation::Runtime(scope.tenant_id().to_owned()));
        }
        self.commit_invalidating(txn, &changes).await?;
        let mut view = self.view(app, &[secret_row], now);
        view.secret = Some(secret);
        Ok(view)
    }

    /// Lists applications newest first, `limit` at a time (default 50, max 200).
    pub async fn list_applications(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        query: ListQuery,
        now: DateTime<Utc>,
    ) -> Result<ApplicationPage> {
        let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let mut select = application::Entity::find().filter(application::Column::TenantId.eq(scope.tenant_id()));
        if let Some(filter) = query.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            let pattern =
                format!("%{}%", filter.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            select = select.filter(
                Condition::any()
                    .add(
                        sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(sea_orm::sea_query::Expr::col(
                            application::Column::Name,
                        )))
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                    )
                    .add(application::Column::ClientId.like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\'))),
            );
        }
        let total = select.clone().count(self.db()).await?;
        if let Some(cursor) = &query.after {
            let (created, id) = parse_cursor(cursor)?;
            select = select.filter(
                Condition::any().add(application::Column::CreatedAt.lt(created)).add(
                    Condition::all()
                        .add(application::Column::CreatedAt.eq(created))
                        .add(application::Column::ClientId.lt(id)),
                ),
            );
        }
        let rows = select
            .order_by_desc(application::Column::CreatedAt)
            .order_by_desc(application::Column::ClientId)
            .limit(fetch_count(limit))
            .all(self.db())
            .await?;
        let (apps, next_cursor) = keyset_page(rows, limit, |a| format!("{}:{}", a.created_at, a.client_id));
        let secrets = self.secrets_of(self.db(), apps.iter().map(|a| a.client_id.clone()).collect()).await?;
        let mut applications: Vec<ApplicationView> =
            apps.into_iter().map(|app| self.view(app, &secrets, now)).collect();
        self.mark_federated(self.db(), &mut applications).await?;
        Ok(ApplicationPage { applications, next_cursor, total })
    }

    pub async fn get_application(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        let app = self.find_application(self.db(), scope, client_id).await?;
        let secrets = self.secrets_of(self.db(), vec![app.client_id.clone()]).await?;
        let mut view = self.view(app, &secrets, now);
        self.mark_federated(self.db(), std::slice::from_mut(&mut view)).await?;
        Ok(view)
    }

    pub async fn rename_application(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        self.update_application(scope, client_id, ApplicationUpdate { name: name.to_owned(), identifier: None }, now)
            .await
    }

    /// Renames an application and, when asked, sets or removes its identifier.
    pub async fn update_application(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        update: ApplicationUpdate,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        let name = validate_application_name(&update.name)?;
        let identifier = match update.identifier {
            None => None,
            Some(identifier) => Some(identifier.as_deref().map(validate_identifier).transpose()?),
        };
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        if let Some(Some(identifier)) = &identifier {
            self.check_identifier_free(&txn, scope.tenant_id(), identifier, client_id).await?;
        }
        let old_name = app.name.clone();
        let old_identifier = app.identifier.clone();
        let mut active: application::ActiveModel = app.into();
        active.name = Set(name.clone());
        if let Some(identifier) = &identifier {
            active.identifier = Set(identifier.clone());
        }
        active.updated_at = Set(now.timestamp());
        let app = active.update(&txn).await?;
        if old_name != name {
            AuditRecord::in_scope(scope, "application.rename", client_id)
                .with_details(serde_json::json!({"from": old_name, "to": name}))
                .write(&txn, now)
                .await?;
        }
        let identifier_changed = identifier.as_ref().is_some_and(|new| *new != old_identifier);
        if identifier_changed {
            AuditRecord::in_scope(scope, "application.identifier", client_id)
                .with_details(serde_json::json!({"from": old_identifier, "to": app.identifier}))
                .write(&txn, now)
                .await?;
        }
        let secrets = self.secrets_of(&txn, vec![client_id.to_owned()]).await?;
        // The identifier is resolved through the tenant's runtime.
        let changes: &[Invalidation] =
            if identifier_changed { &[Invalidation::Runtime(scope.tenant_id().to_owned())] } else { &[] };
        self.commit_invalidating(txn, changes).await?;
        Ok(self.view(app, &secrets, now))
    }

    pub async fn set_management_access(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        access: ManagementAccess,
        now: DateTime<Utc>,
    ) -> Result<ApplicationView> {
        if matches!(scope.actor(), Actor::Application { client_id: me } if me == client_id) {
            return Err(Error::Conflict("an application cannot change its own management access".into()));
        }
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        let old = app.management_access.clone();
        let mut active: application::ActiveModel = app.into();
        active.management_access = Set(access.as_str().to_owned());
        active.updated_at = Set(now.timestamp());
        let app = active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.management_access", client_id)
            .with_details(serde_json::json!({"from": old, "to": access.as_str()}))
            .write(&txn, now)
            .await?;
        let secrets = self.secrets_of(&txn, vec![client_id.to_owned()]).await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(self.view(app, &secrets, now))
    }

    pub async fn delete_application(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if matches!(scope.actor(), Actor::Application { client_id: me } if me == client_id) {
            return Err(Error::Conflict("an application cannot delete itself".into()));
        }
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        client_secret::Entity::delete_many().filter(client_secret::Column::ClientId.eq(client_id)).exec(&txn).await?;
        application::Entity::delete_by_id(client_id.to_owned()).exec(&txn).await?;
        crate::entities::application_usage::Entity::delete_many()
            .filter(crate::entities::application_usage::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await?;
        // Its grants as a protected application, and the roles it held.
        role_scope::Entity::delete_many().filter(role_scope::Column::ClientId.eq(client_id)).exec(&txn).await?;
        application_role::Entity::delete_many()
            .filter(application_role::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await?;
        AuditRecord::in_scope(scope, "application.delete", client_id)
            .with_details(serde_json::json!({"name": app.name}))
            .write(&txn, now)
            .await?;
        // As a protected application it may be in any caller's grants.
        let mut changes = vec![Invalidation::TenantClients(scope.tenant_id().to_owned())];
        if app.identifier.is_some() {
            changes.push(Invalidation::Runtime(scope.tenant_id().to_owned()));
        }
        self.commit_invalidating(txn, &changes).await?;
        Ok(())
    }
}
