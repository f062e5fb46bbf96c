//! Injectable wall clock, so tests can control token expiry.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current wall-clock time.
///
/// [`TokenManager`](crate::TokenManager) uses it to decide when a cached token
/// must be refreshed, and [`TokenValidator`](crate::TokenValidator) uses it to
/// check `exp`/`nbf` and to rate-limit key refetches. Production code uses
/// [`SystemClock`]; tests use [`ManualClock`].
///
/// ```
/// use clavis_sdk::{Clock, SystemClock};
///
/// let now = SystemClock.now();
/// assert!(now > std::time::UNIX_EPOCH);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The real system clock.
///
/// ```
/// use clavis_sdk::{Clock, SystemClock};
///
/// let _ = SystemClock.now();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::{Clock, ManualClock};
///
/// let clock = ManualClock::starting_now();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A manual clock set to `time`.
    ///
    /// ```
    /// use clavis_sdk::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(std::time::UNIX_EPOCH);
    /// assert_eq!(clock.now(), std::time::UNIX_EPOCH);
    /// ```
    pub fn new(time: SystemTime) -> Self {
        Self { now: Arc::new(Mutex::new(time)) }
    }

    /// A manual clock set to the current system time.
    ///
    /// ```
    /// let clock = clavis_sdk::ManualClock::starting_now();
    /// ```
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    /// Moves the clock forward by `by`. A step past the latest time
    /// `SystemTime` can hold leaves the clock where it is (`SystemTime +
    /// Duration` would panic).
    ///
    /// ```
    /// let clock = clavis_sdk::ManualClock::starting_now();
    /// clock.advance(std::time::Duration::from_secs(3600));
    /// clock.advance(std::time::Duration::MAX); // no panic
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }

    /// Sets the clock to `time`.
    ///
    /// ```
    /// let clock = clavis_sdk::ManualClock::starting_now();
    /// clock.set(std::time::UNIX_EPOCH);
    /// ```
    pub fn set(&self, time: SystemTime) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = time;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
