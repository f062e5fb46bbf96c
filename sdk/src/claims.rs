//! The verified claims of a Clavis access token, as handlers read them.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The `aud` claim: a list of audiences (a single string is accepted too).
///
/// ```
/// use clavis_sdk::Audience;
///
/// let aud = Audience(vec!["client-1".into(), "https://api.example".into()]);
/// assert!(aud.contains("https://api.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Audience(pub Vec<String>);

impl Audience {
    /// Whether `audience` is one of the audiences.
    ///
    /// ```
    /// let aud = clavis_sdk::Audience(vec!["a".into()]);
    /// assert!(!aud.contains("b"));
    /// ```
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|a| a == audience)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudVisitor;
        impl<'de> Visitor<'de> for AudVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(16));
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(Audience(out))
            }
        }
        deserializer.deserialize_any(AudVisitor)
    }
}

/// The `cnf` claim of a sender-constrained token.
///
/// ```
/// let cnf: clavis_sdk::Confirmation = serde_json::from_str(r#"{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}"#).unwrap();
/// assert!(cnf.jkt.is_some());
/// ```
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

/// The verified claims of a Clavis access token.
///
/// In a handler behind [`ProtectLayer`](crate::ProtectLayer), take `Claims` as
/// an argument (it is an axum extractor). Claims this struct does not name can
/// be read with [`Claims::custom`].
///
/// ```no_run
/// use clavis_sdk::Claims;
///
/// async fn handler(claims: Claims) -> String {
///     format!("client {} of tenant {:?} with scopes {:?}", claims.sub, claims.tenant, claims.scopes().collect::<Vec<_>>())
/// }
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: the tenant's `oAuthServerUrl`.
    pub iss: String,
    /// Subject: the caller's client ID.
    #[serde(default)]
    pub sub: String,
    /// The caller's client ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Authorized party (the client ID).
    #[serde(default)]
    pub azp: Option<String>,
    /// Audiences.
    #[serde(default)]
    pub aud: Audience,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: Option<u64>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// Token ID.
    #[serde(default)]
    pub jti: Option<String>,
    /// Tenant ID.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: String,
    /// Authentication methods, `["appid_client_credentials"]`.
    #[serde(default)]
    pub amr: Vec<String>,
    /// Grant type, `client-credentials`.
    #[serde(default)]
    pub gty: Option<String>,
    /// Confirmation (RFC 7800): for a DPoP-bound token, the thumbprint of
    /// the key its holder must prove (RFC 9449 §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    #[serde(skip)]
    raw: Arc<str>,
}

impl Claims {
    /// The granted scopes.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) {
    /// let scopes: Vec<&str> = claims.scopes().collect();
    /// # }
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }

    /// Whether `scope` was granted.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) {
    /// if claims.has_scope("write") { /* ... */ }
    /// # }
    /// ```
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// The thumbprint of the key a DPoP-bound token is bound to (`cnf.jkt`),
    /// `None` for a plain bearer token.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) {
    /// if let Some(jkt) = claims.dpop_jkt() { println!("bound to {jkt}"); }
    /// # }
    /// ```
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.cnf.as_ref()?.jkt.as_deref()
    }

    /// Deserializes the whole verified payload into `T`, for claims this
    /// struct does not name.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Extra { department: Option<String> }
    /// let extra: Extra = claims.custom()?;
    /// # Ok(()) }
    /// ```
    pub fn custom<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.raw)
    }
}

impl Claims {
    /// Decodes a verified payload, keeping it whole for [`Claims::custom`].
    pub(crate) fn from_payload(payload: String) -> Result<Self, serde_json::Error> {
        let mut claims: Claims = serde_json::from_str(&payload)?;
        claims.raw = Arc::from(payload);
        Ok(claims)
    }
}
