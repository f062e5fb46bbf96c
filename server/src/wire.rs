//! Conventions every JSON answer of the server shares.

use chrono::{DateTime, Utc};

/// Times on the wire: RFC 3339 in UTC, to the second (`2026-11-22T13:00:00Z`).
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
