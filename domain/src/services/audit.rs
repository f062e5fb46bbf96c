//! The audit log: one record per administrative act, written in the same
//! transaction as the act itself.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::Services;
use super::auth::OperatorScope;
use super::paging::{fetch_count, keyset_page};
use crate::entities::audit_event;
use crate::scope::{AccessLevel, Actor, TenantScope};
use crate::{Error, Result};

/// Largest page of audit entries one call returns.
pub const MAX_AUDIT_PAGE: u64 = 200;
/// Page size when the caller names none.
pub const DEFAULT_AUDIT_PAGE: u64 = 50;

/// An act about to be recorded.
pub(super) struct AuditRecord<'a> {
    pub tenant_id: Option<&'a str>,
    pub actor: &'a Actor,
    pub action: &'static str,
    pub target: &'a str,
    pub source_addr: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

impl<'a> AuditRecord<'a> {
    /// An act in `scope`'s tenant, by its actor, from its source address.
    pub(super) fn in_scope<A: crate::scope::AccessLevel>(
        scope: &'a crate::TenantScope<A>,
        action: &'static str,
        target: &'a str,
    ) -> Self {
        Self {
            tenant_id: Some(scope.tenant_id()),
            actor: scope.actor(),
            action,
            target,
            source_addr: scope.source_addr(),
            details: None,
        }
    }

    /// An act about an account rather than a tenant (sign-ins, password
    /// changes and resets): it goes to the operator audit (no tenant),
    /// since the account may belong to several tenants.
    pub(super) fn operator(
        actor: &'a Actor,
        action: &'static str,
        target: &'a str,
        source_addr: Option<&'a str>,
    ) -> Self {
        Self { tenant_id: None, actor, action, target, source_addr, details: None }
    }

    pub(super) fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl AuditRecord<'_> {
    /// Writes the record on `conn`, which should be the change's transaction.
    pub(super) async fn write<C: ConnectionTrait>(self, conn: &C, now: DateTime<Utc>) -> Result<()> {
        audit_event::ActiveModel {
            tenant_id: Set(self.tenant_id.map(str::to_owned)),
            actor: Set(self.actor.label().to_owned()),
            action: Set(self.action.to_owned()),
            target: Set(self.target.to_owned()),
            source_addr: Set(self.source_addr.map(str::to_owned)),
            details: Set(self.details.map(|value| value.to_string())),
            created_at: Set(now.timestamp()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(())
    }
}

/// An audit record as shown to admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub source_addr: Option<String>,
    pub details: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

impl From<audit_event::Model> for AuditEntry {
    fn from(model: audit_event::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            actor: model.actor,
            action: model.action,
            target: model.target,
            source_addr: model.source_addr,
            details: model.details.and_then(|text| serde_json::from_str(&text).ok()),
            created_at: super::tenants::at(model.created_at),
        }
    }
}

/// A page of a tenant's audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_id` to get the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

impl Services {
    /// The tenant's audit log, newest first, `limit` entries (1 to
    /// [`MAX_AUDIT_PAGE`], default [`DEFAULT_AUDIT_PAGE`]) older than
    /// `before_id`. Record IDs only grow, so they order the log and serve as
    /// a cursor that stays valid while new records arrive.
    pub async fn list_audit(
        &self,
        scope: &TenantScope<impl AccessLevel>,
        limit: Option<u64>,
        before_id: Option<i64>,
    ) -> Result<AuditPage> {
        let limit = limit.unwrap_or(DEFAULT_AUDIT_PAGE);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(Error::validation(format!("limit must be 1 to {MAX_AUDIT_PAGE}")));
        }
        let mut select = audit_event::Entity::find().filter(audit_event::Column::TenantId.eq(scope.tenant_id()));
        if let Some(before) = before_id {
            select = select.filter(audit_event::Column::Id.lt(before));
        }
        let rows = select.order_by_desc(audit_event::Column::Id).limit(fetch_count(limit)).all(self.db()).await?;
        let (rows, next_before) = keyset_page(rows, limit, |row| row.id);
        Ok(AuditPage { entries: rows.into_iter().map(AuditEntry::from).collect(), next_before })
    }

    /// The operator audit: acts about accounts rather than one tenant
    /// (sign-ins, also of unknown emails; password changes and resets),
    /// newest first, paged like [`Services::list_audit`]. Operators only.
    pub async fn list_operator_audit(
        &self,
        _operator: &OperatorScope,
        limit: Option<u64>,
        before_id: Option<i64>,
    ) -> Result<AuditPage> {
        let limit = limit.unwrap_or(DEFAULT_AUDIT_PAGE);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(Error::validation(format!("limit must be 1 to {MAX_AUDIT_PAGE}")));
        }
        let mut select = audit_event::Entity::find().filter(audit_event::Column::TenantId.is_null());
        if let Some(before) = before_id {
            select = select.filter(audit_event::Column::Id.lt(before));
        }
        let rows = select.order_by_desc(audit_event::Column::Id).limit(fetch_count(limit)).all(self.db()).await?;
        let (rows, next_before) = keyset_page(rows, limit, |row| row.id);
        Ok(AuditPage { entries: rows.into_iter().map(AuditEntry::from).collect(), next_before })
    }
}
