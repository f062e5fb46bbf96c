//! The Signing keys page's rotation schedule: read it (viewers too) and
//! turn it on, off or to another interval (writers), through the domain
//! calls behind `GET`/`PUT /config/keys/rotation`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The shortest and longest intervals, as the domain and the API allow
/// (the page checks them before it asks; the domain checks them again).
pub const MIN_ROTATION_DAYS: i64 = 1;
pub const MAX_ROTATION_DAYS: i64 = 365;

/// The schedule as the page shows it. Times are RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationSchedule {
    pub enabled: bool,
    /// Days a key signs before the next takes over (the proposal while off).
    pub interval_days: u32,
    /// When a new key next starts signing: the key published ahead's
    /// activation, else (schedule on) the end of the active key's interval.
    pub next_rotation_at: Option<String>,
    /// The key already in the JWKS that signs from `next_rotation_at`.
    pub next_kid: Option<String>,
}

/// Whether `days` is an interval the schedule accepts.
pub fn valid_interval(days: i64) -> bool {
    (MIN_ROTATION_DAYS..=MAX_ROTATION_DAYS).contains(&days)
}

pub const INTERVAL_MESSAGE: &str = "The interval must be a whole number of days from 1 to 365.";

/// The schedule and where it stands, from the domain's schedule and keys.
#[cfg(feature = "ssr")]
async fn schedule_of(
    services: &domain::Services,
    scope: &domain::TenantScope<impl domain::AccessLevel>,
) -> Result<RotationSchedule, AppError> {
    use domain::services::{NEXT_KEY_LEAD_SECS, SigningKeyState};
    let now = services.now();
    let rotation = services.key_rotation(scope).await?;
    let keys = services.list_signing_keys(scope, now).await?;
    let next = keys.iter().find(|key| key.state == SigningKeyState::Next);
    let next_rotation_at = match next {
        Some(next) => next.activates_at,
        None if rotation.enabled => keys.iter().find(|key| key.state == SigningKeyState::Active).map(|active| {
            // The schedule publishes the next key a lead time before the
            // interval ends; a key already past that point gets its
            // successor at the next run (each minute), a lead time later.
            let since = active.activates_at.unwrap_or(active.created_at);
            let ends = since + chrono::Duration::days(i64::from(rotation.interval_days));
            let lead = chrono::Duration::seconds(NEXT_KEY_LEAD_SECS);
            if ends - lead < now { now + lead } else { ends }
        }),
        None => None,
    };
    Ok(RotationSchedule {
        enabled: rotation.enabled,
        interval_days: rotation.interval_days,
        next_rotation_at: next_rotation_at.map(crate::ssr::rfc3339),
        next_kid: next.map(|key| key.kid.clone()),
    })
}

/// Viewers may read the schedule: it holds no secret.
#[server(endpoint = "key_rotation_schedule")]
pub async fn key_rotation_schedule(tenant_id: String) -> Result<RotationSchedule, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let services = ssr::services()?;
    schedule_of(&services, &scope).await
}

/// Turns scheduled rotation on (every `interval_days`, 1 to 365) or off,
/// and returns the schedule as it now stands.
#[server(endpoint = "set_key_rotation_schedule")]
pub async fn set_key_rotation_schedule(
    tenant_id: String,
    enabled: bool,
    interval_days: i64,
) -> Result<RotationSchedule, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let interval_days = u32::try_from(interval_days)
        .ok()
        .filter(|days| valid_interval(i64::from(*days)))
        .ok_or_else(|| AppError::new(crate::error::ErrorKind::Validation, INTERVAL_MESSAGE))?;
    let rotation = domain::services::KeyRotation { enabled, interval_days };
    services.set_key_rotation(&scope, rotation, services.now()).await?;
    schedule_of(&services, &scope).await
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_page_allows_the_intervals_the_domain_allows() {
        assert_eq!(MIN_ROTATION_DAYS, i64::from(domain::services::MIN_KEY_ROTATION_DAYS));
        assert_eq!(MAX_ROTATION_DAYS, i64::from(domain::services::MAX_KEY_ROTATION_DAYS));
        assert!(valid_interval(1) && valid_interval(90) && valid_interval(365));
        assert!(!valid_interval(0) && !valid_interval(366) && !valid_interval(-1));
    }
}
