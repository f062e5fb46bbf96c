//! Sign-in throttling that slows an attacker without locking the real admin
//! out. Failures per (account, address) and per address are refused for a
//! growing time (429), as a guess from one place should be. Failures of an
//! account from anywhere only delay that account's next attempts, by a short
//! bounded wait the adapter sleeps before calling `authenticate`: spraying
//! one admin's email from many addresses costs the attacker time on every
//! try, and the admin's right password from their own address still works.
//!
//! On PostgreSQL the address and account counts are shared by every
//! replica: a sign-in (slow by design: it hashes a password) reads them, a
//! failure writes them. The shared table is bounded by a cap of keys per
//! kind (`shared_throttle`); addresses count by IPv6 /64 (`throttle`).
//!
//! Nothing here asks whether the email has an account, so the answer cannot
//! tell. Counting a made-up email's failures in each process only, as an
//! unknown client's are, would keep its rows out of the table, but behind N
//! replicas its delay would then start about N times later than a real
//! account's: the delay would tell which emails exist. A made-up email's
//! row is bounded by the cap like any other, and past the cap every new
//! email, real or not, is counted locally alike.
//!
//! The (account, address) pairs are counted in each process only. Each
//! failure counts in both its pair and its address, and only a success
//! clears a pair, never its address, so the shared address count refuses at
//! least as soon as a shared pair would: sharing the pairs would only add
//! the table's most numerous rows (one per email and address) for nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::Services;
use super::throttle::{FailureThrottle, address_text_key};
use super::users::{validate_email, verify_password};
use crate::entities::user;
use crate::{Error, Result};

/// Failures allowed before a key is refused or an account is slowed down.
const FREE_FAILURES: u32 = 5;
/// The first delay of an account under attack; it doubles per failure.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// The longest an account's sign-in is ever delayed.
pub const MAX_SIGN_IN_DELAY: Duration = Duration::from_secs(4);

/// The three failure counters of sign-ins, each bounded (quick_cache).
#[derive(Debug)]
pub(super) struct SignInThrottle {
    pairs: FailureThrottle,
    addresses: FailureThrottle,
    accounts: FailureThrottle,
}

fn pair_key(email: &str, source_addr: Option<&str>) -> String {
    format!("{email}|{}", source_addr.map(address_text_key).unwrap_or_default())
}

impl SignInThrottle {
    /// The dashboard's sign-ins: counts shared through `db` on PostgreSQL,
    /// in memory on SQLite.
    pub(super) fn new(db: &DatabaseConnection) -> Self {
        Self::with_kinds(db, ["signin_pair", "signin_addr", "signin_account"])
    }

    /// The password grant's, counted apart from the dashboard's (an
    /// address's failures at one do not refuse it at the other).
    pub(super) fn for_password_grant(db: &DatabaseConnection) -> Self {
        Self::with_kinds(db, ["grant_pair", "grant_addr", "grant_account"])
    }

    fn with_kinds(db: &DatabaseConnection, [pair, address, account]: [&'static str; 3]) -> Self {
        Self {
            pairs: FailureThrottle::on(db, pair, FREE_FAILURES),
            addresses: FailureThrottle::on(db, address, FREE_FAILURES),
            accounts: FailureThrottle::on(db, account, FREE_FAILURES),
        }
    }

    /// Counts in this process only (unit tests).
    #[cfg(test)]
    fn local() -> Self {
        Self {
            pairs: FailureThrottle::new(FREE_FAILURES),
            addresses: FailureThrottle::new(FREE_FAILURES),
            accounts: FailureThrottle::new(FREE_FAILURES),
        }
    }

    /// `RateLimited` when this account from this address, or this address
    /// at all, failed too often lately. An account's failures from other
    /// addresses never refuse. With shared counts it also brings the
    /// account's count up to date for [`SignInThrottle::delay`].
    pub(super) async fn check(&self, email: &str, source_addr: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        let pair = self.pairs.local_wait(&pair_key(email, source_addr), now);
        let address = match source_addr {
            Some(addr) => self.addresses.wait_required(&address_text_key(addr), now).await,
            None => None,
        };
        self.accounts.refresh(email).await;
        match pair.max(address) {
            Some(retry_after_secs) => {
                crate::metrics::throttled(crate::metrics::THROTTLE_SIGN_IN);
                Err(Error::RateLimited { retry_after_secs })
            }
            None => Ok(()),
        }
    }

    /// How long a sign-in of `email` should wait before it is checked: from
    /// this process's view of the account's count, which every failure and
    /// every check (shared counts) brings up to date.
    pub(super) fn delay(&self, email: &str, now: DateTime<Utc>) -> Duration {
        let failures = self.accounts.recent_failures(email, now);
        let Some(extra) = failures.checked_sub(FREE_FAILURES) else {
            return Duration::ZERO;
        };
        BASE_DELAY.saturating_mul(1 << extra.min(8)).min(MAX_SIGN_IN_DELAY)
    }

    pub(super) async fn record_failure(&self, email: &str, source_addr: Option<&str>, now: DateTime<Utc>) {
        self.pairs.record_local_failure(&pair_key(email, source_addr), now);
        if let Some(addr) = source_addr {
            self.addresses.record_failure(&address_text_key(addr), now).await;
        }
        self.accounts.record_failure(email, now).await;
    }

    /// A success clears this account's count from this address only: the
    /// account-wide count keeps slowing an attacker who goes on guessing.
    pub(super) async fn record_success(&self, email: &str, source_addr: Option<&str>) {
        self.pairs.record_success(&pair_key(email, source_addr)).await;
    }
}

impl Services {
    /// Checks a signed-in account's own password where an action needs it
    /// again (a password change, two-factor set-up, accepting an
    /// invitation): throttled and counted like a failed sign-in, so these
    /// forms cannot be used to guess it faster.
    pub(super) async fn confirm_own_password(
        &self,
        account: &user::Model,
        password: &str,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let throttle = &self.inner.login_throttle;
        throttle.check(&account.email, source_addr, now).await?;
        if !verify_password(password.to_owned(), Some(account.password_hash.clone())).await? {
            throttle.record_failure(&account.email, source_addr, now).await;
            return Err(Error::Unauthenticated);
        }
        Ok(())
    }

    /// How long the adapter should wait (without holding anything) before
    /// it calls [`Services::authenticate`] for `email`: zero normally, up to
    /// [`MAX_SIGN_IN_DELAY`] while the account is being guessed at.
    pub fn sign_in_delay(&self, email: &str, now: DateTime<Utc>) -> Duration {
        match validate_email(email) {
            Ok(email) => self.inner.login_throttle.delay(&email, now),
            Err(_) => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn account_failures_from_many_addresses_delay_but_never_refuse() {
        let throttle = SignInThrottle::local();
        let t0 = Utc::now();
        for i in 0..50 {
            let addr = format!("198.51.100.{}", i / 5);
            throttle.record_failure("admin@example.com", Some(&addr), t0).await;
        }
        assert!(throttle.check("admin@example.com", Some("203.0.113.9"), t0).await.is_ok());
        assert!(matches!(
            throttle.check("admin@example.com", Some("198.51.100.0"), t0).await,
            Err(Error::RateLimited { .. })
        ));
        assert_eq!(throttle.delay("admin@example.com", t0), MAX_SIGN_IN_DELAY);
        assert_eq!(throttle.delay("other@example.com", t0), Duration::ZERO);
    }

    #[tokio::test]
    async fn the_delay_grows_from_the_free_failures_and_is_forgotten() {
        let throttle = SignInThrottle::local();
        let t0 = Utc::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.delay("a@example.com", t0), Duration::ZERO);
            throttle.record_failure("a@example.com", None, t0).await;
        }
        assert_eq!(throttle.delay("a@example.com", t0), BASE_DELAY);
        throttle.record_failure("a@example.com", None, t0).await;
        assert_eq!(throttle.delay("a@example.com", t0), BASE_DELAY * 2);
        assert_eq!(throttle.delay("a@example.com", t0 + chrono::Duration::minutes(16)), Duration::ZERO);
    }
}
