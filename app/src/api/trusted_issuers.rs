//! The tenant's trusted issuers (identity providers whose tokens may stand
//! for an application through its federated credentials) and its DPoP
//! setting, one domain call each, as the REST routes make them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where a trusted issuer's keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuerKeys {
    /// The issuer's OpenID discovery document names its JWKS.
    Discovery,
    /// A JWKS URL given here.
    JwksUri,
    /// A JWKS pasted here (clusters without public discovery).
    Static,
}

impl IssuerKeys {
    pub const ALL: [IssuerKeys; 3] = [IssuerKeys::Discovery, IssuerKeys::JwksUri, IssuerKeys::Static];

    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKeys::Discovery => "discovery",
            IssuerKeys::JwksUri => "jwks_uri",
            IssuerKeys::Static => "jwks",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|keys| keys.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            IssuerKeys::Discovery => "From the issuer's discovery document",
            IssuerKeys::JwksUri => "From a JWKS URL",
            IssuerKeys::Static => "Pasted JWKS",
        }
    }
}

/// A trusted issuer as the page shows it. Times are RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedIssuerRow {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub keys: IssuerKeys,
    pub jwks_uri: Option<String>,
    pub created_at: String,
}

impl TrustedIssuerRow {
    /// What the table's Keys column says.
    pub fn keys_text(&self) -> String {
        match (self.keys, &self.jwks_uri) {
            (IssuerKeys::JwksUri, Some(uri)) => uri.clone(),
            (IssuerKeys::Static, _) => "Static keys".to_owned(),
            _ => "Discovery".to_owned(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::services::TrustedIssuerView> for TrustedIssuerRow {
    fn from(view: domain::services::TrustedIssuerView) -> Self {
        let keys = match (&view.jwks_uri, &view.jwks) {
            (Some(_), _) => IssuerKeys::JwksUri,
            (None, Some(_)) => IssuerKeys::Static,
            (None, None) => IssuerKeys::Discovery,
        };
        Self {
            id: view.id,
            name: view.name,
            issuer: view.issuer,
            keys,
            jwks_uri: view.jwks_uri,
            created_at: crate::ssr::rfc3339(view.created_at),
        }
    }
}

/// The tenant's trusted issuers (viewers may read them).
#[server(endpoint = "list_trusted_issuers")]
pub async fn list_trusted_issuers(tenant_id: String) -> Result<Vec<TrustedIssuerRow>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let list = ssr::services()?.list_trusted_issuers(&scope).await?;
    Ok(list.into_iter().map(TrustedIssuerRow::from).collect())
}

/// Trusts an issuer; `keys` is "discovery", "jwks_uri" (with `value` the
/// URL) or "jwks" (with `value` the pasted JWKS).
#[server(endpoint = "create_trusted_issuer")]
pub async fn create_trusted_issuer(
    tenant_id: String,
    name: String,
    issuer: String,
    keys: String,
    #[server(default)] value: String,
) -> Result<TrustedIssuerRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let value = value.trim().to_owned();
    let (jwks_uri, jwks) = match IssuerKeys::parse(&keys) {
        Some(IssuerKeys::Discovery) => (None, None),
        Some(IssuerKeys::JwksUri) if !value.is_empty() => (Some(value), None),
        Some(IssuerKeys::Static) if !value.is_empty() => (None, Some(value)),
        Some(IssuerKeys::JwksUri) => return Err(domain::Error::validation("enter the JWKS URL").into()),
        Some(IssuerKeys::Static) => return Err(domain::Error::validation("paste the issuer's JWKS").into()),
        None => {
            return Err(domain::Error::validation("keys come from discovery, a JWKS URL or a pasted JWKS").into());
        }
    };
    let new = domain::services::NewTrustedIssuer {
        name: name.trim().to_owned(),
        issuer: issuer.trim().to_owned(),
        jwks_uri,
        jwks,
    };
    Ok(services.create_trusted_issuer(&scope, new, services.now()).await?.into())
}

/// Stops trusting an issuer; the federated credentials naming it go too.
#[server(endpoint = "delete_trusted_issuer")]
pub async fn delete_trusted_issuer(tenant_id: String, id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_trusted_issuer(&scope, &id, services.now()).await?)
}

/// Whether the tenant's token endpoint requires a server nonce in DPoP proofs.
#[server(endpoint = "dpop_nonce_required")]
pub async fn dpop_nonce_required(tenant_id: String) -> Result<bool, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    Ok(ssr::services()?.dpop_config(&scope).await?.nonce_required)
}

#[server(endpoint = "set_dpop_nonce_required")]
pub async fn set_dpop_nonce_required(tenant_id: String, required: bool) -> Result<bool, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let config = domain::services::DpopConfig { nonce_required: required };
    Ok(services.set_dpop_config(&scope, config, services.now()).await?.nonce_required)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: IssuerKeys, jwks_uri: Option<&str>) -> TrustedIssuerRow {
        TrustedIssuerRow {
            id: "i1".into(),
            name: "ci".into(),
            issuer: "https://issuer.example".into(),
            keys,
            jwks_uri: jwks_uri.map(str::to_owned),
            created_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn key_choices_round_trip_and_read_in_the_table() {
        for keys in IssuerKeys::ALL {
            assert_eq!(IssuerKeys::parse(keys.as_str()), Some(keys));
        }
        assert_eq!(IssuerKeys::parse("pem"), None);
        assert_eq!(row(IssuerKeys::JwksUri, Some("https://k.example/jwks")).keys_text(), "https://k.example/jwks");
        assert_eq!(row(IssuerKeys::Static, None).keys_text(), "Static keys");
        assert_eq!(row(IssuerKeys::Discovery, None).keys_text(), "Discovery");
    }
}
