//! The Signing keys page's server functions: list the tenant's keys,
//! rotate the active one and revoke a key, one domain call each, as the
//! REST API's key routes and `clavis keys` make them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a key does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    /// Signs new tokens.
    Active,
    /// Published ahead by the rotation schedule; signs soon.
    Next,
    /// Replaced; still published for the tokens it signed.
    Previous,
    /// Replaced long ago; no token it signed is still valid.
    Expired,
    /// Revoked: unpublished, its tokens fail.
    Revoked,
}

impl KeyState {
    pub fn label(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Next => "next",
            KeyState::Previous => "previous",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }
}

/// A signing key as the page shows it (public facts only). Times are RFC
/// 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub kid: String,
    pub algorithm: String,
    pub state: KeyState,
    pub created_at: String,
    pub published_until: Option<String>,
}

/// The tenant's keys, newest first, and the algorithms a rotation may choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<KeyRow>,
    pub algorithms: Vec<String>,
}

impl KeyList {
    /// The algorithm of the active key: what a rotation keeps by default.
    pub fn current_algorithm(&self) -> Option<String> {
        self.keys.iter().find(|key| key.state == KeyState::Active).map(|key| key.algorithm.clone())
    }
}

#[cfg(feature = "ssr")]
impl From<domain::services::SigningKeyInfo> for KeyRow {
    fn from(info: domain::services::SigningKeyInfo) -> Self {
        use domain::services::SigningKeyState as S;
        Self {
            kid: info.kid,
            algorithm: info.algorithm.name().to_owned(),
            state: match info.state {
                S::Active => KeyState::Active,
                S::Next => KeyState::Next,
                S::Previous => KeyState::Previous,
                S::Expired => KeyState::Expired,
                S::Revoked => KeyState::Revoked,
            },
            created_at: crate::ssr::rfc3339(info.created_at),
            published_until: info.published_until.map(crate::ssr::rfc3339),
        }
    }
}

/// Viewers may read the list: it holds no secret.
#[server(endpoint = "list_signing_keys")]
pub async fn list_signing_keys(tenant_id: String) -> Result<KeyList, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let services = ssr::services()?;
    let keys = services.list_signing_keys(&scope, services.now()).await?;
    Ok(KeyList {
        keys: keys.into_iter().map(KeyRow::from).collect(),
        algorithms: clavis_oauth::jose::Algorithm::ALL.iter().map(|alg| alg.name().to_owned()).collect(),
    })
}

/// Replaces the active key; `algorithm` (RS256, ES256, EdDSA) switches the
/// tenant's algorithm, `None` keeps it. Returns the new key's ID.
#[server(endpoint = "rotate_signing_key")]
pub async fn rotate_signing_key(tenant_id: String, algorithm: Option<String>) -> Result<String, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let alg = match algorithm.as_deref().filter(|name| !name.is_empty()) {
        None => None,
        Some(name) => Some(clavis_oauth::jose::Algorithm::from_name(name).ok_or_else(|| {
            AppError::from(domain::Error::validation("signing algorithm must be RS256, ES256 or EdDSA"))
        })?),
    };
    Ok(services.rotate_signing_key(&scope, alg, services.now()).await?)
}

/// Revokes a key: it leaves the JWKS now and its tokens fail; revoking the
/// active key puts a new one in its place. Returns the active key's ID.
#[server(endpoint = "revoke_signing_key")]
pub async fn revoke_signing_key(tenant_id: String, kid: String) -> Result<String, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.revoke_signing_key(&scope, &kid, services.now()).await?)
}
