//! The TOTP second factor (RFC 6238, what authenticator apps expect: SHA-1,
//! 6 digits, 30-second steps): enrolment, checking a code without replay,
//! turning it off and new recovery codes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use super::Services;
use super::audit::AuditRecord;
use super::recovery_codes::{self, RecoveryCodes};
use super::users::verify_password;
use crate::crypto::SealContext;
use crate::entities::{pending_sign_in, recovery_code, user, user_totp};
use crate::scope::Actor;
use crate::{Error, Result};

const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const ISSUER: &str = "Clavis";
/// How long a started enrolment waits for its first code.
const ENROLMENT_LIFETIME_MINUTES: i64 = 15;

/// What a person needs to add Clavis to an authenticator app. Shown once,
/// while the enrolment waits for its first code.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
    /// `otpauth://totp/Clavis:{email}?secret=…&issuer=Clavis…`
    pub otpauth_uri: String,
    /// The URI as a QR code: a `data:image/svg+xml;base64,…` URL.
    pub qr_data_url: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<redacted>)")
    }
}

/// Whether a user's second factor is on, and how many recovery codes remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: u64,
}

/// Which kind of second factor a check accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SecondFactorUsed {
    Totp,
    RecoveryCode,
}

impl SecondFactorUsed {
    pub(super) fn label(self) -> &'static str {
        match self {
            SecondFactorUsed::Totp => "totp",
            SecondFactorUsed::RecoveryCode => "recovery_code",
        }
    }
}

fn authenticator(secret: Vec<u8>, email: &str) -> Result<TOTP> {
    // The label's issuer and account are separated by a colon, so the
    // account name may hold none.
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret, Some(ISSUER.to_owned()), email.replace(':', ""))
        .map_err(|_| Error::internal("TOTP parameters refused"))
}

/// The 30-second step of `now`.
fn step_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(STEP_SECS as i64)
}

/// The step (the current one, or one either side for clock drift) whose
/// code is `code`, if it is later than `last_used` (no replay). Every
/// candidate is compared, each in constant time.
fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>, last_used: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let Ok(time) = u64::try_from(step * STEP_SECS as i64) else {
            continue;
        };
        if bool::from(totp.generate(time).as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found.filter(|step| last_used.is_none_or(|last| *step > last))
}

/// A six-digit input is a TOTP code; anything else may be a recovery code.
fn looks_like_totp(input: &str) -> bool {
    let input = input.trim();
    input.len() == DIGITS && input.bytes().all(|b| b.is_ascii_digit())
}

fn qr_data_url(uri: &str) -> Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|_| Error::internal("QR encoding failed"))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    Ok(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

fn already_on() -> Error {
    Error::Conflict("two-factor sign-in is already on; turn it off first".into())
}

/// The throttle key of a user's second-factor attempts; never an email, so
/// it cannot collide with a password sign-in's key.
pub(super) fn throttle_key(user_id: &str) -> String {
    format!("second-factor:{user_id}")
}

impl Services {
    fn seal_totp_secret(&self, user_id: &str, secret: &[u8]) -> Result<String> {
        self.master_key().seal(&SealContext::totp_secret(user_id), secret)
    }

    fn open_totp_secret(&self, user_id: &str, sealed: &str) -> Result<Vec<u8>> {
        self.master_key().open(&SealContext::totp_secret(user_id), sealed)
    }

    async fn user_by_id(&self, user_id: &str) -> Result<user::Model> {
        user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)
    }

    /// The user's enabled second factor, if any.
    pub(super) async fn enabled_totp(&self, user_id: &str) -> Result<Option<user_totp::Model>> {
        Ok(user_totp::Entity::find_by_id(user_id.to_owned())
            .one(self.db())
            .await?
            .filter(|row| row.enabled_at.is_some()))
    }

    pub async fn second_factor_status(&self, user_id: &str) -> Result<SecondFactorStatus> {
        let enabled = self.enabled_totp(user_id).await?.is_some();
        let recovery_codes_left = if enabled { recovery_codes::remaining(self.db(), user_id).await? } else { 0 };
        Ok(SecondFactorStatus { enabled, recovery_codes_left })
    }

    /// Starts an enrolment: a fresh secret, sealed, that only becomes the
    /// user's second factor once [`Services::confirm_totp_enrolment`] sees
    /// a correct code. A second call replaces the pending secret.
    ///
    /// The current password is needed, so a stolen session alone cannot
    /// switch a second factor on and lock the owner out; a wrong one is
    /// `Unauthenticated` and counts as a failed sign-in, as on a password change.
    pub async fn begin_totp_enrolment(
        &self,
        user_id: &str,
        password: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TotpEnrolment> {
        let user = self.user_by_id(user_id).await?;
        self.confirm_own_password(&user, password, source_addr, now).await?;
        if self.enabled_totp(user_id).await?.is_some() {
            return Err(already_on());
        }
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let sealed = self.seal_totp_secret(&user.id, &secret)?;
        let totp = authenticator(secret, &user.email)?;
        let row = user_totp::ActiveModel {
            user_id: Set(user.id.clone()),
            sealed_secret: Set(sealed),
            created_at: Set(now.timestamp()),
            enabled_at: Set(None),
            last_used_step: Set(None),
        };
        // A pending secret is replaced; an enabled one never is, even when
        // a confirmation lands between the check above and this write.
        let written = user_totp::Entity::insert(row)
            .on_conflict(
                OnConflict::column(user_totp::Column::UserId)
                    .update_columns([
                        user_totp::Column::SealedSecret,
                        user_totp::Column::CreatedAt,
                        user_totp::Column::EnabledAt,
                        user_totp::Column::LastUsedStep,
                    ])
                    .action_and_where(Expr::col((user_totp::Entity, user_totp::Column::EnabledAt)).is_null())
                    .to_owned(),
            )
            .exec(self.db())
            .await;
        match written {
            Ok(_) => {}
            Err(DbErr::RecordNotInserted) => return Err(already_on()),
            Err(err) => return Err(err.into()),
        }
        let otpauth_uri = totp.get_url();
        Ok(TotpEnrolment {
            secret_base32: totp.get_secret_base32(),
            qr_data_url: qr_data_url(&otpauth_uri)?,
            otpauth_uri,
        })
    }

    /// Deletes pending sign-ins past their expiry and enrolments that
    /// waited longer for their first code than they may; run periodically,
    /// since neither would ever be used again. Returns how many rows went.
    pub async fn prune_second_factor_leftovers(&self, now: DateTime<Utc>) -> Result<u64> {
        let sign_ins = pending_sign_in::Entity::delete_many()
            .filter(pending_sign_in::Column::ExpiresAt.lt(now.timestamp()))
            .exec(self.db())
            .await?;
        // Only rows never enabled, and only once confirmation would refuse them.
        let started_before = (now - Duration::minutes(ENROLMENT_LIFETIME_MINUTES)).timestamp();
        let enrolments = user_totp::Entity::delete_many()
            .filter(user_totp::Column::EnabledAt.is_null())
            .filter(user_totp::Column::CreatedAt.lt(started_before))
            .exec(self.db())
            .await?;
        Ok(sign_ins.rows_affected + enrolments.rows_affected)
    }

    /// Turns the pending secret on after a correct code, and returns ten
    /// recovery codes, shown this once.
    pub async fn confirm_totp_enrolment(
        &self,
        user_id: &str,
        code: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RecoveryCodes> {
        let user = self.user_by_id(user_id).await?;
        let key = throttle_key(&user.id);
        self.inner.login_throttle.check(&key, source_addr, now).await?;
        let pending = user_totp::Entity::find_by_id(user.id.clone())
            .one(self.db())
            .await?
            .filter(|row| row.enabled_at.is_none())
            .filter(|row| {
                now.timestamp() - row.created_at <= Duration::minutes(ENROLMENT_LIFETIME_MINUTES).num_seconds()
            })
            .ok_or_else(|| Error::validation("this two-factor set-up has expired or was not started; start again"))?;
        let totp = authenticator(self.open_totp_secret(&user.id, &pending.sealed_secret)?, &user.email)?;
        let Some(step) = matching_step(&totp, code, now, None) else {
            return Err(self.second_factor_failed(&user, "second_factor.enable_failure", source_addr, now).await);
        };
        let txn = self.begin_write().await?;
        // Only the pending row this call checked becomes the second factor:
        // a new enrolment started meanwhile leaves this code unused.
        let updated = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::EnabledAt, Expr::value(now.timestamp()))
            .col_expr(user_totp::Column::LastUsedStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(&user.id))
            .filter(user_totp::Column::SealedSecret.eq(&pending.sealed_secret))
            .filter(user_totp::Column::EnabledAt.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(Error::Conflict("the two-factor set-up changed meanwhile; start again".into()));
        }
        let codes = recovery_codes::replace(&txn, &user.id, now).await?;
        self.audit_second_factor(&txn, &user, "second_factor.enabled", source_addr, None, now).await?;
        txn.commit().await?;
        self.inner.login_throttle.record_success(&key, source_addr).await;
        Ok(codes)
    }

    /// Turns the second factor off: the current password and a valid code
    /// (or recovery code) are both needed.
    pub async fn disable_totp(
        &self,
        user_id: &str,
        password: &str,
        code: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let user = self.user_by_id(user_id).await?;
        let key = throttle_key(&user.id);
        self.inner.login_throttle.check(&key, source_addr, now).await?;
        if self.enabled_totp(&user.id).await?.is_none() {
            return Err(Error::validation("two-factor sign-in is not on"));
        }
        if !verify_password(password.to_owned(), Some(user.password_hash.clone())).await? {
            return Err(self.second_factor_failed(&user, "second_factor.disable_failure", source_addr, now).await);
        }
        let used = self.check_second_factor(&user, code, "second_factor.disable_failure", source_addr, now).await?;
        let txn = self.begin_write().await?;
        user_totp::Entity::delete_by_id(user.id.clone()).exec(&txn).await?;
        recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(&user.id)).exec(&txn).await?;
        let details = serde_json::json!({"with": used.label()});
        self.audit_second_factor(&txn, &user, "second_factor.disabled", source_addr, Some(details), now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Ten new recovery codes in place of the old ones, after a valid code.
    pub async fn regenerate_recovery_codes(
        &self,
        user_id: &str,
        code: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RecoveryCodes> {
        let user = self.user_by_id(user_id).await?;
        self.inner.login_throttle.check(&throttle_key(&user.id), source_addr, now).await?;
        if self.enabled_totp(&user.id).await?.is_none() {
            return Err(Error::validation("two-factor sign-in is not on"));
        }
        let used =
            self.check_second_factor(&user, code, "second_factor.recovery_codes_failure", source_addr, now).await?;
        let txn = self.begin_write().await?;
        let codes = recovery_codes::replace(&txn, &user.id, now).await?;
        let details = serde_json::json!({"with": used.label()});
        self.audit_second_factor(
            &txn,
            &user,
            "second_factor.recovery_codes_regenerated",
            source_addr,
            Some(details),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Checks a TOTP code or a recovery code of `user`'s enabled second
    /// factor, using it up. A wrong one is throttled like a wrong password,
    /// audited as `failure_action`, and answered `Unauthenticated`.
    pub(super) async fn check_second_factor(
        &self,
        user: &user::Model,
        input: &str,
        failure_action: &'static str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SecondFactorUsed> {
        let key = throttle_key(&user.id);
        self.inner.login_throttle.check(&key, source_addr, now).await?;
        let Some(row) = self.enabled_totp(&user.id).await? else {
            return Err(self.second_factor_failed(user, failure_action, source_addr, now).await);
        };
        let used = if looks_like_totp(input) {
            let totp = authenticator(self.open_totp_secret(&user.id, &row.sealed_secret)?, &user.email)?;
            match matching_step(&totp, input, now, row.last_used_step) {
                // The conditional update makes a step single-use even when
                // two requests bring the same code at once.
                Some(step) => user_totp::Entity::update_many()
                    .col_expr(user_totp::Column::LastUsedStep, Expr::value(step))
                    .filter(user_totp::Column::UserId.eq(&user.id))
                    .filter(user_totp::Column::EnabledAt.is_not_null())
                    .filter(
                        sea_orm::Condition::any()
                            .add(user_totp::Column::LastUsedStep.is_null())
                            .add(user_totp::Column::LastUsedStep.lt(step)),
                    )
                    .exec(self.db())
                    .await?
                    .rows_affected
                    .eq(&1)
                    .then_some(SecondFactorUsed::Totp),
                None => None,
            }
        } else if recovery_codes::consume(self.db(), &user.id, input, now).await? {
            Some(SecondFactorUsed::RecoveryCode)
        } else {
            None
        };
        match used {
            Some(used) => {
                self.inner.login_throttle.record_success(&key, source_addr).await;
                Ok(used)
            }
            None => Err(self.second_factor_failed(user, failure_action, source_addr, now).await),
        }
    }

    /// Counts and audits a failed second-factor attempt; the error to return.
    async fn second_factor_failed(
        &self,
        user: &user::Model,
        action: &'static str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Error {
        self.inner.login_throttle.record_failure(&throttle_key(&user.id), source_addr, now).await;
        match self.audit_second_factor(self.db(), user, action, source_addr, None, now).await {
            Ok(()) => Error::Unauthenticated,
            Err(err) => err,
        }
    }

    /// Second-factor events belong to the account, like sign-ins: they go
    /// to the operator audit.
    pub(super) async fn audit_second_factor<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        user: &user::Model,
        action: &'static str,
        source_addr: Option<&str>,
        details: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let actor = Actor::User { id: user.id.clone(), email: user.email.clone() };
        AuditRecord { tenant_id: None, actor: &actor, action, target: &user.email, source_addr, details }
            .write(conn, now)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp() -> TOTP {
        authenticator(b"12345678901234567890".to_vec(), "a:b@example.com").unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B, T = 59 s, truncated to six digits.
        assert_eq!(totp().generate(59), "287082");
    }

    #[test]
    fn codes_of_adjacent_steps_match_and_replays_do_not() {
        let now = DateTime::from_timestamp(59, 0).unwrap();
        assert_eq!(matching_step(&totp(), "287082", now, None), Some(1));
        assert_eq!(matching_step(&totp(), &totp().generate(89), now, None), Some(2));
        assert_eq!(matching_step(&totp(), &totp().generate(29), now, None), Some(0));
        assert_eq!(matching_step(&totp(), &totp().generate(119), now, None), None);
        assert_eq!(matching_step(&totp(), "287082", now, Some(1)), None);
        assert_eq!(matching_step(&totp(), "28708", now, None), None);
        assert_eq!(matching_step(&totp(), "2870822", now, None), None);
    }

    #[test]
    fn the_uri_names_clavis_and_the_account() {
        let uri = totp().get_url();
        assert!(uri.starts_with("otpauth://totp/Clavis:ab%40example.com?"), "{uri}");
        assert!(uri.contains("issuer=Clavis"), "{uri}");
        assert!(qr_data_url(&uri).unwrap().starts_with("data:image/svg+xml;base64,"));
    }
}
