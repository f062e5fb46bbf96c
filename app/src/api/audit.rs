//! The Audit page's server function.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Entries per page of the audit log.
pub const AUDIT_PAGE_SIZE: u64 = 25;

/// One recorded act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub created_at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub source_addr: Option<String>,
    /// The details as compact JSON, if any.
    pub details: Option<String>,
}

/// A page of the log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    pub entries: Vec<AuditRow>,
    /// Pass as `before` for the next, older page; `None` on the last one.
    pub older_before: Option<i64>,
}

#[server(endpoint = "list_audit")]
pub async fn list_audit(tenant_id: String, before: Option<i64>) -> Result<AuditList, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let page = ssr::services()?.list_audit(&scope, Some(AUDIT_PAGE_SIZE), before).await?;
    Ok(audit_list(page))
}

/// For operators: the audit of acts about accounts (no tenant).
#[server(endpoint = "list_operator_audit")]
pub async fn list_operator_audit(before: Option<i64>) -> Result<AuditList, AppError> {
    use crate::ssr;
    let operator = ssr::operator_scope().await?;
    let page = ssr::services()?.list_operator_audit(&operator, Some(AUDIT_PAGE_SIZE), before).await?;
    Ok(audit_list(page))
}

#[cfg(feature = "ssr")]
fn audit_list(page: domain::services::AuditPage) -> AuditList {
    use crate::ssr;
    AuditList {
        entries: page
            .entries
            .into_iter()
            .map(|entry| AuditRow {
                id: entry.id,
                created_at: ssr::rfc3339(entry.created_at),
                actor: entry.actor,
                action: entry.action,
                target: entry.target,
                source_addr: entry.source_addr,
                details: entry.details.map(|details| details.to_string()),
            })
            .collect(),
        older_before: page.next_before,
    }
}
