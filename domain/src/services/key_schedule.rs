//! Scheduled signing-key rotation per tenant: the next key is published in
//! the JWKS a lead time before it signs, then takes over; the key it
//! replaces stays published until every token it signed has expired.
//!
//! Driven only by the `now` passed in, and safe with several replicas on
//! one database: each step runs in a transaction that locks the tenant's
//! row (PostgreSQL `SELECT … FOR UPDATE`; SQLite's write lock) and decides
//! again on what it reads there, so two replicas make one key, not two.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::keyring::{parse_signing_alg, publish_until_after_signing};
use crate::entities::{signing_key, tenant};
use crate::scope::{AccessLevel, Actor, TenantScope, Write};
use crate::{Error, Result};

/// How long a scheduled key is in the JWKS before it signs anything: well
/// over one JWKS cache period (`max-age=300`) plus clock slack, so every
/// validator that follows the cache headers knows the key before it sees a
/// token signed by it.
pub const NEXT_KEY_LEAD_SECS: i64 = 3_600;
/// The interval a tenant gets when it turns rotation on without naming one.
pub const DEFAULT_KEY_ROTATION_DAYS: u32 = 90;
/// The shortest and longest rotation intervals a tenant may choose.
pub const MIN_KEY_ROTATION_DAYS: u32 = 1;
pub const MAX_KEY_ROTATION_DAYS: u32 = 365;

const SECS_PER_DAY: i64 = 86_400;

/// A tenant's rotation schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRotation {
    pub enabled: bool,
    /// Days a key signs before the next one takes over.
    pub interval_days: u32,
}

/// What one run of the schedule did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyScheduleRun {
    /// Next keys put in a JWKS ahead of signing.
    pub published: usize,
    /// Next keys that became their tenant's signer.
    pub activated: usize,
}

/// The step a tenant's keys are due for at `now`, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Publish,
    Activate,
}

/// Decides the step from the tenant's interval, its active key and its next key.
fn due_step(
    interval_days: Option<i32>,
    active: Option<&signing_key::Model>,
    next: Option<&signing_key::Model>,
    now: i64,
) -> Option<Step> {
    let interval_days = i64::from(interval_days?);
    if let Some(next) = next {
        return next.activates_at.is_some_and(|at| at <= now).then_some(Step::Activate);
    }
    let active = active?;
    let signing_since = active.activates_at.unwrap_or(active.created_at);
    let due = signing_since + interval_days * SECS_PER_DAY - NEXT_KEY_LEAD_SECS;
    (now >= due).then_some(Step::Publish)
}

fn validate_interval(days: u32) -> Result<i32> {
    if !(MIN_KEY_ROTATION_DAYS..=MAX_KEY_ROTATION_DAYS).contains(&days) {
        return Err(Error::validation(format!(
            "interval_days must be {MIN_KEY_ROTATION_DAYS} to {MAX_KEY_ROTATION_DAYS}"
        )));
    }
    i32::try_from(days).map_err(Error::internal)
}

impl Services {
    /// The tenant's rotation schedule.
    pub async fn key_rotation(&self, scope: &TenantScope<impl AccessLevel>) -> Result<KeyRotation> {
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(match tenant.key_rotation_days.and_then(|days| u32::try_from(days).ok()) {
            Some(interval_days) => KeyRotation { enabled: true, interval_days },
            None => KeyRotation { enabled: false, interval_days: DEFAULT_KEY_ROTATION_DAYS },
        })
    }

    /// Turns scheduled rotation on (every `interval_days`) or off. Turning it
    /// off leaves a key already published ahead to take over on time.
    pub async fn set_key_rotation(
        &self,
        scope: &TenantScope<Write>,
        rotation: KeyRotation,
        now: DateTime<Utc>,
    ) -> Result<KeyRotation> {
        let days = validate_interval(rotation.interval_days)?;
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = tenant.key_rotation_days;
        let after = rotation.enabled.then_some(days);
        let mut active: tenant::ActiveModel = tenant.into();
        active.key_rotation_days = Set(after);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "config.key_rotation", scope.tenant_id())
            .with_details(serde_json::json!({"before": {"interval_days": before}, "after": {"interval_days": after}}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(KeyRotation { enabled: rotation.enabled, interval_days: rotation.interval_days })
    }

    /// Runs every tenant's rotation schedule at `now`: publishes the next
    /// key of each tenant whose active key is due, and makes each next key
    /// whose lead time has passed the signer. Called every minute by every
    /// serving process; each step happens once whichever process gets there
    /// first. A tenant whose step fails does not stop the others; the first
    /// failure is returned after all were tried.
    pub async fn run_key_schedule(&self, now: DateTime<Utc>) -> Result<KeyScheduleRun> {
        let tenants =
            tenant::Entity::find().filter(tenant::Column::KeyRotationDays.is_not_null()).all(self.db()).await?;
        let mut pending: Vec<String> = tenants.iter().map(|tenant| tenant.id.clone()).collect();
        // A next key activates on time even if its tenant turned rotation off since.
        let nexts = signing_key::Entity::find()
            .filter(signing_key::Column::Status.eq("next"))
            .filter(signing_key::Column::ActivatesAt.lte(now.timestamp()))
            .all(self.db())
            .await?;
        for next in nexts {
            if !pending.contains(&next.tenant_id) {
                pending.push(next.tenant_id);
            }
        }
        let mut run = KeyScheduleRun::default();
        let mut first_error = None;
        for tenant_id in pending {
            match self.run_tenant_schedule(&tenant_id, now).await {
                Ok(Some(Step::Publish)) => run.published += 1,
                Ok(Some(Step::Activate)) => run.activated += 1,
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(tenant = %tenant_id, error = %err, "scheduled key rotation failed");
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(run),
        }
    }

    /// One tenant's due step, decided and done under the tenant's row lock.
    async fn run_tenant_schedule(&self, tenant_id: &str, now: DateTime<Utc>) -> Result<Option<Step>> {
        let txn = self.begin_write().await?;
        let Some(tenant) = tenant::Entity::find_by_id(tenant_id.to_owned()).lock_exclusive().one(&txn).await? else {
            return Ok(None);
        };
        let keys = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(tenant_id))
            .filter(signing_key::Column::Status.is_in(["active", "next"]))
            .all(&txn)
            .await?;
        let active = keys.iter().find(|key| key.status == "active");
        let next = keys.iter().find(|key| key.status == "next");
        // Rotation off: only a key already published ahead still takes over.
        let interval = tenant.key_rotation_days.or(next.map(|_| 0));
        let Some(step) = due_step(interval, active, next, now.timestamp()) else {
            return Ok(None);
        };
        let actor = Actor::Schedule;
        match (step, next) {
            (Step::Publish, _) => {
                let alg = parse_signing_alg(&tenant.signing_alg)?;
                let activates_at = now.timestamp() + NEXT_KEY_LEAD_SECS;
                let kid = self.insert_key_row(&txn, tenant_id, alg, Some(activates_at), now).await?;
                scheduled_audit(&actor, tenant_id, "signing_key.publish_next", &kid)
                    .with_details(serde_json::json!({"alg": alg.name(), "activatesAt": activates_at}))
                    .write(&txn, now)
                    .await?;
            }
            (Step::Activate, Some(next)) => {
                signing_key::Entity::update_many()
                    .col_expr(signing_key::Column::Status, Expr::value("retired"))
                    .col_expr(signing_key::Column::RetiredAt, Expr::value(now.timestamp()))
                    .col_expr(signing_key::Column::PublishUntil, Expr::value(publish_until_after_signing(now)))
                    .filter(signing_key::Column::TenantId.eq(tenant_id))
                    .filter(signing_key::Column::Status.eq("active"))
                    .exec(&txn)
                    .await?;
                signing_key::Entity::update_many()
                    .col_expr(signing_key::Column::Status, Expr::value("active"))
                    .col_expr(signing_key::Column::ActivatesAt, Expr::value(now.timestamp()))
                    .filter(signing_key::Column::Kid.eq(next.kid.as_str()))
                    .filter(signing_key::Column::Status.eq("next"))
                    .exec(&txn)
                    .await?;
                let replaced = active.map(|key| key.kid.as_str());
                scheduled_audit(&actor, tenant_id, "signing_key.activate_next", &next.kid)
                    .with_details(serde_json::json!({"alg": next.alg, "replacedKid": replaced}))
                    .write(&txn, now)
                    .await?;
            }
            (Step::Activate, None) => return Ok(None),
        }
        self.commit_invalidating(txn, &[Invalidation::Runtime(tenant_id.to_owned())]).await?;
        Ok(Some(step))
    }
}

/// A record of the schedule's own act in `tenant_id`'s audit.
fn scheduled_audit<'a>(actor: &'a Actor, tenant_id: &'a str, action: &'static str, kid: &'a str) -> AuditRecord<'a> {
    AuditRecord { tenant_id: Some(tenant_id), actor, action, target: kid, source_addr: None, details: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(status: &str, created_at: i64, activates_at: Option<i64>) -> signing_key::Model {
        signing_key::Model {
            kid: format!("{status}-{created_at}"),
            tenant_id: "t".to_owned(),
            alg: "RS256".to_owned(),
            status: status.to_owned(),
            sealed_private_key: String::new(),
            public_jwk: String::new(),
            created_at,
            retired_at: None,
            publish_until: None,
            activates_at,
        }
    }

    #[test]
    fn the_next_key_is_due_one_lead_time_before_the_interval_ends() {
        let active = key("active", 0, None);
        let due = 90 * SECS_PER_DAY - NEXT_KEY_LEAD_SECS;
        assert_eq!(due_step(Some(90), Some(&active), None, due - 1), None);
        assert_eq!(due_step(Some(90), Some(&active), None, due), Some(Step::Publish));
        assert_eq!(due_step(None, Some(&active), None, due * 10), None, "rotation off");
        // A key the schedule activated counts from its activation, not its creation.
        let scheduled = key("active", 0, Some(1_000));
        assert_eq!(due_step(Some(90), Some(&scheduled), None, due), None);
        assert_eq!(due_step(Some(90), Some(&scheduled), None, due + 1_000), Some(Step::Publish));
    }

    #[test]
    fn a_next_key_activates_at_its_moment_and_no_second_one_is_made() {
        let active = key("active", 0, None);
        let next = key("next", 100, Some(100 + NEXT_KEY_LEAD_SECS));
        let late = 400 * SECS_PER_DAY;
        assert_eq!(due_step(Some(1), Some(&active), Some(&next), 100 + NEXT_KEY_LEAD_SECS - 1), None);
        assert_eq!(due_step(Some(1), Some(&active), Some(&next), 100 + NEXT_KEY_LEAD_SECS), Some(Step::Activate));
        assert_eq!(due_step(Some(1), Some(&active), Some(&next), late), Some(Step::Activate));
        assert!(validate_interval(0).is_err() && validate_interval(366).is_err());
        assert_eq!(validate_interval(365).ok(), Some(365));
    }
}
