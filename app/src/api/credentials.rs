//! An application's credential beyond its secret: the public keys it signs
//! assertions with (`private_key_jwt`), its federated credentials (tokens
//! of a trusted issuer that stand for it), and whether its tokens must be
//! DPoP-bound. One domain call each, as the REST routes make them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::applications::Application;
use crate::error::AppError;

/// How an application proves who it is at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialType {
    /// A client secret (HTTP Basic or form fields).
    #[default]
    Secret,
    /// Assertions signed with one of its registered keys.
    Keys,
    /// Tokens of a trusted issuer that name it by subject.
    Federated,
}

impl CredentialType {
    pub fn label(self) -> &'static str {
        match self {
            CredentialType::Secret => "Secret",
            CredentialType::Keys => "Public keys",
            CredentialType::Federated => "Federated",
        }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::services::CredentialKind> for CredentialType {
    fn from(kind: domain::services::CredentialKind) -> Self {
        use domain::services::CredentialKind as K;
        match kind {
            K::Secret => CredentialType::Secret,
            K::Keys => CredentialType::Keys,
            K::Federated => CredentialType::Federated,
        }
    }
}

/// One registered public key, by its public facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKeyRow {
    pub kid: String,
    pub kty: String,
    pub alg: Option<String>,
    /// RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
}

/// The application's keys: pasted ones, or those its JWKS URL serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKeysView {
    pub jwks_uri: Option<String>,
    pub keys: Vec<ClientKeyRow>,
}

#[cfg(feature = "ssr")]
impl From<domain::services::ClientKeys> for ClientKeysView {
    fn from(keys: domain::services::ClientKeys) -> Self {
        Self {
            jwks_uri: keys.jwks_uri,
            keys: keys
                .keys
                .into_iter()
                .map(|key| ClientKeyRow { kid: key.kid, kty: key.kty, alg: key.alg, thumbprint: key.thumbprint })
                .collect(),
        }
    }
}

/// Where new keys come from in the "Use public keys" dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeySource {
    /// A pasted JWKS document (`{"keys": [...]}`).
    Jwks,
    /// One pasted PEM public key.
    Pem,
    /// A URL serving the JWKS.
    JwksUri,
}

impl KeySource {
    pub const ALL: [KeySource; 3] = [KeySource::Jwks, KeySource::Pem, KeySource::JwksUri];

    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Jwks => "jwks",
            KeySource::Pem => "pem",
            KeySource::JwksUri => "jwks_uri",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            KeySource::Jwks => "Paste a JWKS",
            KeySource::Pem => "Paste a PEM public key",
            KeySource::JwksUri => "JWKS URL",
        }
    }
}

/// The application's public keys (viewers may read them: they are public).
#[server(endpoint = "client_keys")]
pub async fn client_keys(tenant_id: String, client_id: String) -> Result<ClientKeysView, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    Ok(ssr::services()?.client_keys(&scope, &client_id).await?.into())
}

/// Makes the application key-authenticated with the keys `value` holds
/// (per `source`: "jwks", "pem" or "jwks_uri"); its secret stops working.
#[server(endpoint = "set_client_keys")]
pub async fn set_client_keys(
    tenant_id: String,
    client_id: String,
    source: String,
    value: String,
) -> Result<ClientKeysView, AppError> {
    use crate::ssr;
    use domain::services::ClientKeysInput;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(domain::Error::validation("paste the keys, or enter the URL that serves them").into());
    }
    let input = match KeySource::parse(&source) {
        Some(KeySource::Jwks) => ClientKeysInput::Jwks(value),
        Some(KeySource::Pem) => ClientKeysInput::Pem(value),
        Some(KeySource::JwksUri) => ClientKeysInput::JwksUri(value),
        None => return Err(domain::Error::validation("keys come from a JWKS, a PEM public key or a JWKS URL").into()),
    };
    Ok(services.set_client_keys(&scope, &client_id, input, services.now()).await?.into())
}

/// Removes one key by its ID; the others keep working.
#[server(endpoint = "delete_client_key")]
pub async fn delete_client_key(tenant_id: String, client_id: String, kid: String) -> Result<ClientKeysView, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_client_key(&scope, &client_id, &kid, services.now()).await?.into())
}

/// Marks the application "DPoP required" (its Bearer token requests are
/// refused) or lifts it.
#[server(endpoint = "set_application_dpop_required")]
pub async fn set_application_dpop_required(
    tenant_id: String,
    client_id: String,
    required: bool,
) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    services.set_application_dpop_required(&scope, &client_id, required, services.now()).await?;
    Ok(services.get_application(&scope, &client_id, services.now()).await?.into())
}

/// A federated credential: tokens from `issuer` whose `sub` is `subject`
/// and whose `aud` holds `audience` authenticate the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedCredentialRow {
    pub id: String,
    pub issuer_id: String,
    /// The issuer's URL (`iss`).
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    pub created_at: String,
}

#[cfg(feature = "ssr")]
impl From<domain::services::FederatedCredentialView> for FederatedCredentialRow {
    fn from(view: domain::services::FederatedCredentialView) -> Self {
        Self {
            id: view.id,
            issuer_id: view.issuer_id,
            issuer: view.issuer,
            subject: view.subject,
            audience: view.audience,
            created_at: crate::ssr::rfc3339(view.created_at),
        }
    }
}

/// The application's federated credentials (viewers may read them).
#[server(endpoint = "list_federated_credentials")]
pub async fn list_federated_credentials(
    tenant_id: String,
    client_id: String,
) -> Result<Vec<FederatedCredentialRow>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let list = ssr::services()?.list_federated_credentials(&scope, &client_id).await?;
    Ok(list.into_iter().map(FederatedCredentialRow::from).collect())
}

/// Adds a federated credential; an empty `audience` means the tenant's
/// OAuth server URL.
#[server(endpoint = "create_federated_credential")]
pub async fn create_federated_credential(
    tenant_id: String,
    client_id: String,
    issuer_id: String,
    subject: String,
    #[server(default)] audience: Option<String>,
) -> Result<FederatedCredentialRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let audience = audience.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    let new = domain::services::NewFederatedCredential { issuer_id, subject: subject.trim().to_owned(), audience };
    Ok(services.create_federated_credential(&scope, &client_id, new, services.now()).await?.into())
}

#[server(endpoint = "delete_federated_credential")]
pub async fn delete_federated_credential(tenant_id: String, client_id: String, id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_federated_credential(&scope, &client_id, &id, services.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sources_round_trip_through_their_form_values() {
        for source in KeySource::ALL {
            assert_eq!(KeySource::parse(source.as_str()), Some(source));
        }
        assert_eq!(KeySource::parse("x509"), None);
        assert_eq!(KeySource::parse(""), None);
    }
}
