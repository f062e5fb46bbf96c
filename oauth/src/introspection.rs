//! Token introspection (RFC 7662) and revocation (RFC 7009) request and
//! response shapes.

use serde::Serialize;

use super::OAuthError;
use super::params::Params;

/// RFC 7662 §2.1 and RFC 7009 §2.1: "token REQUIRED".
pub fn token_param(params: &Params) -> Result<&str, OAuthError> {
    params.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))
}

/// RFC 7662 §2.2. An inactive token reveals nothing else: "the authorization
/// server ... SHOULD NOT include any additional information about an inactive
/// token".
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// RFC 9449 §6.2: a DPoP-bound token's confirmation (`{"jkt": ...}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<crate::access_token::VerifiedConfirmation>,
}

impl IntrospectionResponse {
    pub fn inactive() -> Self {
        Self::default()
    }
}
