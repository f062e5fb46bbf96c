//! Text formatting shared by server render and hydration. Everything here
//! is a pure function of its arguments (ages are measured against the
//! server's clock sent with the data), so both renders produce the same text.

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const MONTH: i64 = 30 * DAY;
const YEAR: i64 = 365 * DAY;

fn plural(count: i64, unit: &str) -> String {
    if count == 1 { format!("1 {unit}") } else { format!("{count} {unit}s") }
}

/// A length of time in the largest whole unit: "3 days", "1 hour".
pub fn duration_words(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < MINUTE => "less than a minute".to_owned(),
        s if s < HOUR => plural(s / MINUTE, "minute"),
        s if s < DAY => plural(s / HOUR, "hour"),
        s if s < MONTH => plural(s / DAY, "day"),
        s if s < YEAR => plural(s / MONTH, "month"),
        s => plural(s / YEAR, "year"),
    }
}

/// How long ago `then` was, seen from `now` (Unix seconds): "3 days ago".
pub fn ago(then: i64, now: i64) -> String {
    let elapsed = now - then;
    if elapsed < MINUTE { "just now".to_owned() } else { format!("{} ago", duration_words(elapsed)) }
}

/// The date of an RFC 3339 time: "2026-11-22".
pub fn day(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_owned()
}

/// An RFC 3339 UTC time to the minute: "2026-11-22 11:45 UTC".
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// The UTC time of day of Unix seconds, to the minute: "13:05 UTC".
pub fn clock_time(unix: i64) -> String {
    let of_day = unix.rem_euclid(DAY);
    format!("{:02}:{:02} UTC", of_day / HOUR, (of_day % HOUR) / MINUTE)
}

/// The secret as the page shows it before anyone reveals it.
pub fn masked(last_four: &str) -> String {
    format!("{}{last_four}", "•".repeat(28))
}

/// Whom a token is for when it is not for the caller itself: a protected
/// application (by client ID) and the scopes to ask for there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTarget {
    pub audience: String,
    pub scopes: Vec<String>,
}

/// A token request that runs as it is in a POSIX shell. Without the secret
/// it reads it from `$CLAVIS_CLIENT_SECRET`, so the page never has to hold
/// it for the command to be useful. With a `target`, it asks for a token
/// for that protected application with those scopes.
pub fn curl_command(
    oauth_server_url: &str,
    client_id: &str,
    secret: Option<&str>,
    target: Option<&TokenTarget>,
) -> String {
    // Client IDs are UUIDs and secrets base64url, so neither needs quoting
    // inside the quotes nor form-encoding for HTTP Basic (RFC 6749 §2.3.1).
    let credentials = match secret {
        Some(secret) => format!("'{client_id}:{secret}'"),
        None => format!("\"{client_id}:$CLAVIS_CLIENT_SECRET\""),
    };
    let mut command = format!(
        "curl -X POST '{oauth_server_url}/token' \\\n  -u {credentials} \\\n  -d grant_type=client_credentials"
    );
    if let Some(target) = target {
        // Scope names are lowercase letters, digits, '.' and '_'
        // (`clavis_types::validate_scope_name`): safe inside single quotes;
        // curl encodes the spaces between them.
        command.push_str(&format!(" \\\n  -d 'audience={}'", target.audience));
        if !target.scopes.is_empty() {
            command.push_str(&format!(" \\\n  --data-urlencode 'scope={}'", target.scopes.join(" ")));
        }
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(duration_words(5), "less than a minute");
        assert_eq!(duration_words(60), "1 minute");
        assert_eq!(duration_words(3 * HOUR + 59 * MINUTE), "3 hours");
        assert_eq!(duration_words(DAY), "1 day");
        assert_eq!(duration_words(45 * DAY), "1 month");
        assert_eq!(duration_words(800 * DAY), "2 years");
        assert_eq!(duration_words(-10), "less than a minute");
    }

    #[test]
    fn ages_read_naturally_and_clamp_clock_skew() {
        assert_eq!(ago(1_000, 1_030), "just now");
        assert_eq!(ago(1_000, 1_000 + 2 * DAY), "2 days ago");
        assert_eq!(ago(2_000, 1_000), "just now");
    }

    #[test]
    fn times_are_shortened_for_tables() {
        assert_eq!(day("2026-11-22T11:45:58Z"), "2026-11-22");
        assert_eq!(timestamp("2026-11-22T11:45:58Z"), "2026-11-22 11:45 UTC");
        assert_eq!(timestamp("yesterday"), "yesterday");
        // 2026-11-23T13:05:59Z
        assert_eq!(clock_time(1_795_439_159), "13:05 UTC");
        assert_eq!(clock_time(0), "00:00 UTC");
    }

    #[test]
    fn the_mask_shows_only_the_last_four() {
        let shown = masked("wxyz");
        assert!(shown.ends_with("wxyz"));
        assert_eq!(shown.chars().filter(|c| c.is_ascii_alphanumeric()).count(), 4);
    }

    #[test]
    fn curl_commands_carry_the_credentials_or_read_them_from_the_environment() {
        let url = "http://127.0.0.1:3000/oauth/v4/t1";
        let with = curl_command(url, "c1", Some("s3cr-et_"), None);
        assert_eq!(
            with,
            "curl -X POST 'http://127.0.0.1:3000/oauth/v4/t1/token' \\\n  -u 'c1:s3cr-et_' \\\n  -d grant_type=client_credentials"
        );
        let without = curl_command(url, "c1", None, None);
        assert!(without.contains("-u \"c1:$CLAVIS_CLIENT_SECRET\""));
        assert!(!without.contains("s3cr"));
        assert!(!without.contains("audience"));
    }

    #[test]
    fn curl_commands_name_the_protected_application_and_its_scopes() {
        let url = "http://127.0.0.1:3000/oauth/v4/t1";
        let target = TokenTarget { audience: "p1".into(), scopes: vec!["read".into(), "write".into()] };
        assert_eq!(
            curl_command(url, "c1", None, Some(&target)),
            "curl -X POST 'http://127.0.0.1:3000/oauth/v4/t1/token' \\\n  -u \"c1:$CLAVIS_CLIENT_SECRET\" \\\n  -d grant_type=client_credentials \\\n  -d 'audience=p1' \\\n  --data-urlencode 'scope=read write'"
        );
    }
}
