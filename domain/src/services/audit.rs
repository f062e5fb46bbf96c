//! The audit log: one record per administrative act, written in the same
//! transaction as the act itself.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;

use crate::Result;
use crate::entities::audit_event;
use crate::scope::Actor;

/// An act about to be recorded.
pub struct AuditRecord<'a> {
    pub tenant_id: Option<&'a str>,
    pub actor: &'a Actor,
    pub action: &'static str,
    pub target: &'a str,
    pub source_addr: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

impl AuditRecord<'_> {
    /// Writes the record on `conn`, which should be the change's transaction.
    pub async fn write<C: ConnectionTrait>(self, conn: &C, now: DateTime<Utc>) -> Result<()> {
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
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub source_addr: Option<String>,
    pub details: Option<serde_json::Value>,
    pub created_at: String,
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
            created_at: super::tenants::rfc3339(model.created_at),
        }
    }
}
