//! Retries of transient token endpoint failures: jittered exponential backoff that honours `Retry-After`.

use std::time::Duration;

use rand::Rng as _;

/// Retries of transient failures (network errors, 5xx, 429), with jittered
/// exponential backoff: the n-th wait is random in `[d/2, d]` where
/// `d = min(max_backoff, initial_backoff * 2^n)`, and at least the server's
/// `Retry-After` (capped at `max_backoff`).
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::RetryPolicy;
///
/// let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
/// assert_eq!(policy.initial_backoff, Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 4).
    pub max_retries: u32,
    /// The first wait's upper bound (default 200 ms).
    pub initial_backoff: Duration,
    /// The largest wait (default 5 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 4, initial_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// No retries: fail on the first transient error.
    ///
    /// ```
    /// assert_eq!(clavis_sdk::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    pub(super) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        let ceiling = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = ceiling / 2;
        let jittered = half.saturating_add(rand::thread_rng().gen_range(Duration::ZERO..=half));
        match retry_after {
            Some(hint) => jittered.max(hint.min(self.max_backoff)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_bounds() {
        let policy = RetryPolicy::default();
        for retry in 0..40 {
            let d = policy.delay(retry, None);
            assert!(d <= policy.max_backoff, "{d:?}");
        }
        let first = policy.delay(0, None);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(60))), policy.max_backoff);
    }

    #[test]
    fn huge_settings_do_not_overflow() {
        let policy = RetryPolicy { max_retries: u32::MAX, initial_backoff: Duration::MAX, max_backoff: Duration::MAX };
        for retry in [0, 1, 31, 32, u32::MAX] {
            assert!(policy.delay(retry, Some(Duration::MAX)) <= Duration::MAX);
        }
    }
}
