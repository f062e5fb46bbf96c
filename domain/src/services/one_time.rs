//! One-time link tokens (invitations, password resets): 256 random bits,
//! base64url, shown once; only their SHA-256 digest is stored, and a
//! presented token is compared with it in constant time.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::Services;
use crate::Result;
use crate::crypto::{digests_match, generate_client_secret, hex_decode_32, secret_digest, secret_digest_hex};
use crate::entities::{invitation, password_reset};

/// The length of a token: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// A fresh token and the digest to store for it.
pub(super) fn new_token() -> (String, String) {
    let token = generate_client_secret();
    let digest = secret_digest_hex(&token);
    (token, digest)
}

/// The digest to look a presented token up by; `None` when it cannot be a
/// token at all (so nothing is queried for it).
pub(super) fn lookup_digest(token: &str) -> Option<String> {
    let well_formed =
        token.len() == TOKEN_CHARS && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| secret_digest_hex(token))
}

/// Whether `token` is the one whose digest was stored, in constant time:
/// the lookup by digest found the row, this makes sure of it.
pub(super) fn token_matches(token: &str, stored_digest_hex: &str) -> bool {
    hex_decode_32(stored_digest_hex).is_some_and(|stored| digests_match(&secret_digest(token), &stored))
}

/// A link shown once, to the person who asked for it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    /// `PUBLIC/invite/<token>` or `PUBLIC/reset/<token>`.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for OneTimeLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimeLink").field("url", &"[redacted]").field("expires_at", &self.expires_at).finish()
    }
}

/// How long a spent or expired link's row is kept, so that its holder is
/// told "used" or "expired" rather than "unknown" for a while.
const KEEP_SPENT_LINKS_DAYS: i64 = 7;

impl Services {
    /// Deletes invitations and reset links used or expired more than a week
    /// before `now`; run periodically. Returns how many rows went.
    pub async fn prune_one_time_links(&self, now: DateTime<Utc>) -> Result<u64> {
        let before = (now - Duration::days(KEEP_SPENT_LINKS_DAYS)).timestamp();
        let invitations = invitation::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(invitation::Column::ExpiresAt.lt(before))
                    .add(invitation::Column::UsedAt.lt(before)),
            )
            .exec(self.db())
            .await?;
        let resets = password_reset::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(password_reset::Column::ExpiresAt.lt(before))
                    .add(password_reset::Column::UsedAt.lt(before)),
            )
            .exec(self.db())
            .await?;
        Ok(invitations.rows_affected + resets.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_checked_against_their_digest() {
        let (token, digest) = new_token();
        assert_eq!(token.len(), TOKEN_CHARS);
        assert_eq!(lookup_digest(&token).as_deref(), Some(digest.as_str()));
        assert!(token_matches(&token, &digest));
        assert!(!token_matches(&new_token().0, &digest));
        assert_eq!(lookup_digest("short"), None);
        assert_eq!(lookup_digest(&"a".repeat(42).chars().chain(['/']).collect::<String>()), None);
    }

    #[test]
    fn debug_hides_the_link() {
        let link = OneTimeLink { url: "https://id.example/invite/secret-token".into(), expires_at: Utc::now() };
        assert!(!format!("{link:?}").contains("secret-token"));
    }
}
