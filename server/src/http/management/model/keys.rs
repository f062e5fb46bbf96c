//! The wire shapes of a tenant's signing keys and its rotation schedule:
//! public facts only, never private key material.

use domain::services::{KeyRotation, SigningKeyInfo, SigningKeyState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::wire::rfc3339;

/// One signing key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SigningKey {
    /// The `kid` in the JWKS and in the header of the tokens it signs.
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// `active` (signs), `next` (published ahead by the schedule, signs from
    /// `activatesAt`), `previous` (replaced, published until
    /// `publishedUntil`), `expired` or `revoked`.
    #[schema(example = "active")]
    pub state: &'static str,
    /// RFC 3339.
    pub created_at: String,
    /// When a scheduled key starts (or started) signing; RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activates_at: Option<String>,
    /// When it stopped signing; RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    /// Until when a previous key stays in the JWKS; RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_until: Option<String>,
}

impl From<SigningKeyInfo> for SigningKey {
    fn from(info: SigningKeyInfo) -> Self {
        Self {
            kid: info.kid,
            alg: info.algorithm.name().to_owned(),
            state: match info.state {
                SigningKeyState::Active => "active",
                SigningKeyState::Next => "next",
                SigningKeyState::Previous => "previous",
                SigningKeyState::Expired => "expired",
                SigningKeyState::Revoked => "revoked",
            },
            created_at: rfc3339(info.created_at),
            activates_at: info.activates_at.map(rfc3339),
            retired_at: info.retired_at.map(rfc3339),
            published_until: info.published_until.map(rfc3339),
        }
    }
}

/// The tenant's signing keys, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SigningKeyList {
    pub keys: Vec<SigningKey>,
}

/// Options of a manual rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateKey {
    /// The new key's algorithm; by default the tenant's. A different one
    /// becomes the tenant's algorithm.
    #[schema(example = "ES256")]
    pub alg: Option<SigningAlg>,
}

/// A signing algorithm as the API names it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub(crate) enum SigningAlg {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    pub(crate) fn algorithm(self) -> clavis_oauth::jose::Algorithm {
        use clavis_oauth::jose::Algorithm;
        match self {
            SigningAlg::Rs256 => Algorithm::Rs256,
            SigningAlg::Es256 => Algorithm::Es256,
            SigningAlg::EdDsa => Algorithm::EdDsa,
        }
    }
}

/// The tenant's scheduled rotation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRotationConfig {
    pub enabled: bool,
    /// Days a key signs before the next one takes over: 1 to 365. The next
    /// key is in the JWKS an hour before it signs.
    #[schema(minimum = 1, maximum = 365, example = 90)]
    #[serde(deserialize_with = "super::integral")]
    pub interval_days: i64,
}

impl From<KeyRotation> for KeyRotationConfig {
    fn from(rotation: KeyRotation) -> Self {
        Self { enabled: rotation.enabled, interval_days: i64::from(rotation.interval_days) }
    }
}
