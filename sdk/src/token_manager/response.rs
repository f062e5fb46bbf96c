//! Reading a token endpoint answer: the token response (RFC 6749 §5.1), its error form (§5.2), and cache timing.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::TokenError;
use crate::clock::unix_seconds;
use crate::secret::AccessToken;

/// The longest a token is cached, whatever `expires_in` or `exp` says: an
/// absurd lifetime (up to `u64::MAX` seconds) must neither overflow the
/// expiry time nor pin one token in the cache forever.
pub(super) const MAX_CACHE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// A token in the cache.
#[derive(Clone)]
pub(super) struct Cached {
    pub(super) token: AccessToken,
    pub(super) refresh_at: SystemTime,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

/// RFC 6749 §5.2 error response.
#[derive(Deserialize)]
pub(super) struct ErrorResponse {
    pub(super) error: String,
    #[serde(default)]
    pub(super) error_description: Option<String>,
}

/// Reads a 200 answer sent at `sent_at` into a cache entry; `dpop` when
/// the request carried a DPoP proof.
pub(super) fn parse_success(body: &[u8], sent_at: SystemTime, dpop: bool) -> Result<Cached, TokenError> {
    let response: TokenResponse =
        serde_json::from_slice(body).map_err(|e| TokenError::InvalidResponse(format!("not a token response ({e})")))?;
    // RFC 9449 §5: a bound token comes back as `token_type: DPoP`; a
    // `Bearer` answer to a proof means the server did not bind it, and the
    // caller asked for a token that is useless if stolen.
    let expected = if dpop { "DPoP" } else { "Bearer" };
    if !response.token_type.eq_ignore_ascii_case(expected) {
        return Err(TokenError::InvalidResponse(format!("token_type is {:?}, not {expected}", response.token_type)));
    }
    if response.access_token.is_empty() {
        return Err(TokenError::InvalidResponse("empty access_token".into()));
    }
    let lifetime = match response.expires_in {
        Some(secs) => Duration::from_secs(secs),
        None => jwt_lifetime(&response.access_token, sent_at).unwrap_or(Duration::ZERO),
    }
    .min(MAX_CACHE_LIFETIME);
    // `SystemTime + Duration` panics on overflow; checked arithmetic falls
    // back to "expired now", which only costs a new request.
    let expires_at = sent_at.checked_add(lifetime).unwrap_or(sent_at);
    let refresh_at = expires_at.checked_sub(refresh_margin(lifetime)).unwrap_or(sent_at);
    Ok(Cached {
        refresh_at,
        token: AccessToken {
            token: Arc::from(response.access_token),
            expires_at,
            scope: response.scope.map(Arc::from),
            dpop,
        },
    })
}

/// How long before expiry to refresh: 10% of the lifetime, at least 30 s,
/// at most the lifetime.
pub(super) fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).max(Duration::from_secs(30)).min(lifetime)
}

/// The remaining lifetime from an (unverified) JWT's `exp`, for token
/// responses without `expires_in`. Used only for cache timing.
fn jwt_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    #[derive(Deserialize)]
    struct Exp {
        exp: u64,
    }
    let payload = token.split('.').nth(1)?;
    let exp: Exp = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some(Duration::from_secs(exp.exp.saturating_sub(unix_seconds(now))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Vec<u8> {
        json.as_bytes().to_vec()
    }

    fn jwt_with_payload(payload: &str) -> String {
        format!("eyJhbGciOiJub25lIn0.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn margin_is_ten_percent_at_least_30s_at_most_lifetime() {
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(360));
        assert_eq!(refresh_margin(Duration::from_secs(100)), Duration::from_secs(30));
        assert_eq!(refresh_margin(Duration::from_secs(20)), Duration::from_secs(20));
        assert_eq!(refresh_margin(Duration::MAX), Duration::MAX / 10);
    }

    #[test]
    fn huge_expires_in_is_capped_not_a_panic() {
        let now = SystemTime::now();
        let cached = parse_success(
            &body(r#"{"access_token":"t","token_type":"Bearer","expires_in":18446744073709551615}"#),
            now,
            false,
        )
        .unwrap();
        assert_eq!(cached.token.expires_at, now + MAX_CACHE_LIFETIME);
        assert!(cached.refresh_at > now && cached.refresh_at < cached.token.expires_at);
    }

    #[test]
    fn huge_jwt_exp_is_capped_not_a_panic() {
        let now = SystemTime::now();
        let token = jwt_with_payload(r#"{"exp":18446744073709551615}"#);
        let json = format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#);
        let cached = parse_success(json.as_bytes(), now, false).unwrap();
        assert_eq!(cached.token.expires_at, now + MAX_CACHE_LIFETIME);
    }

    #[test]
    fn times_near_the_end_of_system_time_do_not_panic() {
        // The latest time `SystemTime` can hold on this platform, found by halving.
        let mut late = std::time::UNIX_EPOCH;
        let mut step = Duration::MAX;
        while step > Duration::from_secs(1) {
            if let Some(next) = late.checked_add(step) {
                late = next;
            } else {
                step /= 2;
            }
        }
        let cached =
            parse_success(&body(r#"{"access_token":"t","token_type":"Bearer","expires_in":3600}"#), late, false)
                .unwrap();
        assert!(cached.token.expires_at >= late);
        assert!(cached.refresh_at <= cached.token.expires_at);
    }

    #[test]
    fn the_token_type_must_match_whether_a_proof_was_sent() {
        let now = SystemTime::now();
        let bearer = body(r#"{"access_token":"t","token_type":"Bearer","expires_in":60}"#);
        let dpop = body(r#"{"access_token":"t","token_type":"DPoP","expires_in":60}"#);
        assert!(parse_success(&dpop, now, true).unwrap().token.dpop);
        assert!(!parse_success(&bearer, now, false).unwrap().token.dpop);
        for (answer, sent_proof) in [(&bearer, true), (&dpop, false)] {
            let err = parse_success(answer, now, sent_proof).err().unwrap();
            assert!(matches!(err, TokenError::InvalidResponse(_)), "{err:?}");
        }
    }

    #[test]
    fn numbers_beyond_u64_and_negative_lifetimes_are_invalid_responses() {
        for expires_in in ["18446744073709551616", "-1", "1e400", "\"3600\""] {
            let json = format!(r#"{{"access_token":"t","token_type":"Bearer","expires_in":{expires_in}}}"#);
            let err = parse_success(json.as_bytes(), SystemTime::now(), false).err().unwrap();
            assert!(matches!(err, TokenError::InvalidResponse(_)), "{expires_in}: {err:?}");
        }
    }

    #[test]
    fn missing_or_past_exp_means_no_caching() {
        let now = SystemTime::now();
        for token in [jwt_with_payload(r#"{"exp":1}"#), "opaque".to_owned()] {
            let json = format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#);
            let cached = parse_success(json.as_bytes(), now, false).unwrap();
            assert_eq!(cached.token.expires_at, now);
            assert_eq!(cached.refresh_at, now);
        }
    }
}
