//! Client authentication by a workload-identity token (a Kubernetes
//! projected service-account token, a GitHub Actions OIDC token): a JWT of
//! an issuer the tenant trusts, whose subject and audience match one of the
//! application's federated credentials. No jti single use: such tokens are
//! meant to be presented again until they rotate.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::jose::client_verify::ClientKeySet;
use clavis_oauth::jose::verify::Rejection;
use serde::Deserialize;
use serde_json::Value;

use super::Services;
use super::clients::{AuthenticatedCaller, CachedClient, oauth_failure};
use super::keyring::TenantRuntime;
use super::remote_jwks::KeyFetchError;
use super::trusted_issuers::IssuerKeys;

/// The oldest a federated token may be, by its `iat`.
pub const MAX_FEDERATED_TOKEN_AGE_SECS: i64 = 24 * 3600;

/// How far ahead of this server's clock an issuer's clock may run.
const CLOCK_SKEW_SECS: i64 = 60;

/// One federated credential as the token path holds it (in `CachedClient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FederatedMatch {
    pub(super) id: String,
    pub(super) issuer_id: String,
    pub(super) subject: String,
    pub(super) audience: String,
}

fn fail(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description)
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    sub: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    kid: Option<String>,
}

/// A part of the compact serialization decoded and read as JSON, unverified:
/// only to choose whose keys verify the token.
fn peek<T: serde::de::DeserializeOwned>(token: &str, part: usize) -> Option<T> {
    use base64::Engine as _;
    let segment = token.split('.').nth(part)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&json).ok()
}

/// A NumericDate (RFC 7519 §2), fractions dropped.
fn numeric_date(value: Option<&Value>, wrong: &'static str) -> Result<Option<i64>, OAuthError> {
    let Some(value) = value else { return Ok(None) };
    let seconds = value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64));
    seconds.map(Some).ok_or_else(|| fail(wrong))
}

/// The token's subject and audiences once its times checked out at `now`.
fn check_times_and_read(payload: &str, iss: &str, now: i64) -> Result<(String, Vec<String>), OAuthError> {
    let claims: Claims =
        serde_json::from_str(payload).map_err(|_| fail("the federated token's claims are not a JSON object"))?;
    if claims.iss.as_ref().and_then(Value::as_str) != Some(iss) {
        return Err(fail("the federated token's issuer is not trusted by this tenant"));
    }
    // RFC 7519 §4.1.4: "the current date/time MUST be before the expiration
    // date/time listed in the "exp" claim".
    let exp = numeric_date(claims.exp.as_ref(), "the federated token's exp must be a number")?
        .ok_or_else(|| fail("the federated token has no exp"))?;
    if exp <= now {
        return Err(fail("the federated token expired"));
    }
    let iat = numeric_date(claims.iat.as_ref(), "the federated token's iat must be a number")?
        .ok_or_else(|| fail("the federated token has no iat"))?;
    if iat > now + CLOCK_SKEW_SECS {
        return Err(fail("the federated token is issued in the future"));
    }
    if now - iat > MAX_FEDERATED_TOKEN_AGE_SECS {
        return Err(fail("the federated token was issued more than 24 hours ago"));
    }
    // RFC 7519 §4.1.5: "the current date/time MUST be after or equal to the
    // not-before date/time listed in the "nbf" claim".
    if let Some(nbf) = numeric_date(claims.nbf.as_ref(), "the federated token's nbf must be a number")?
        && nbf > now + CLOCK_SKEW_SECS
    {
        return Err(fail("the federated token is not valid yet"));
    }
    let sub = match claims.sub {
        Some(Value::String(sub)) => sub,
        Some(_) => return Err(fail("the federated token's sub must be a string")),
        None => return Err(fail("the federated token has no sub")),
    };
    // RFC 7519 §4.1.3: "the "aud" value MAY be a single case-sensitive
    // string containing a StringOrURI value", or an array of them.
    let aud = match claims.aud {
        Some(Value::String(aud)) => vec![aud],
        Some(Value::Array(values)) => values.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(_) => return Err(fail("the federated token's aud must be a string or an array of strings")),
        None => return Err(fail("the federated token has no aud")),
    };
    Ok((sub, aud))
}

fn rejection(rejection: Rejection) -> OAuthError {
    match rejection {
        Rejection::UnknownKid => fail(KeyFetchError::UnknownKid.description()),
        Rejection::Malformed(why) | Rejection::Invalid(why) => fail(why),
    }
}

impl Services {
    /// Authenticates `client_id` by a token of one of the tenant's trusted
    /// issuers (`assertion`'s `iss` is not the client ID). The token must be
    /// signed by that issuer's keys (static, from its `jwks_uri`, or from
    /// its discovery document), with `alg` RS256, PS256, ES256 or EdDSA; its
    /// `sub` must equal one of the application's federated credentials'
    /// subject for that issuer, exactly, and its `aud` contain that
    /// credential's audience; `exp` in the future, `iat` present and at most
    /// 24 hours old, `nbf` honoured. Every failure is `invalid_client` with a
    /// fixed description that quotes nothing of the token.
    pub(super) async fn authenticate_federated(
        &self,
        runtime: &TenantRuntime,
        client_id: &str,
        client: &CachedClient,
        assertion: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthenticatedCaller, OAuthError> {
        #[derive(Deserialize)]
        struct Issuer {
            iss: String,
        }
        let iss = peek::<Issuer>(assertion, 1).ok_or_else(|| fail("the federated token is malformed"))?.iss;
        let issuer = self
            .trusted_issuer_for(&runtime.tenant_id, &iss, now)
            .await
            .map_err(|err| oauth_failure(&err))?
            .ok_or_else(|| fail("the federated token's issuer is not trusted by this tenant"))?;
        // Checked before any key is fetched: a client that federates with
        // no such issuer costs no request to it.
        let credentials: Vec<&FederatedMatch> =
            client.federated.iter().filter(|credential| credential.issuer_id == issuer.id).collect();
        if credentials.is_empty() {
            return Err(fail("the application has no federated credential for this issuer"));
        }
        let verified = match &issuer.keys {
            IssuerKeys::Static(keys) => keys.verify(assertion).map_err(rejection)?,
            IssuerKeys::JwksUri(uri) => self.verify_with_remote(uri, assertion, now).await?,
            IssuerKeys::Discovery => {
                let uri = self.discovered_jwks_uri(&iss, now).await.map_err(|err| fail(err.description()))?.to_string();
                self.verify_with_remote(&uri, assertion, now).await?
            }
        };
        let (sub, aud) = check_times_and_read(&verified.payload, &iss, now.timestamp())?;
        let same_subject: Vec<&&FederatedMatch> =
            credentials.iter().filter(|credential| credential.subject == sub).collect();
        if same_subject.is_empty() {
            return Err(fail("the federated token's subject matches no federated credential of the application"));
        }
        let matched =
            same_subject.into_iter().find(|credential| aud.iter().any(|aud| aud == &credential.audience)).ok_or_else(
                || fail("the federated token's audience does not include the federated credential's audience"),
            )?;
        Ok(AuthenticatedCaller {
            client: client.authenticated(client_id),
            // Usage is counted per credential, as it is per secret.
            secret_id: matched.id.clone(),
        })
    }

    async fn verify_with_remote(
        &self,
        jwks_uri: &str,
        assertion: &str,
        now: DateTime<Utc>,
    ) -> Result<clavis_oauth::jose::client_verify::Verified, OAuthError> {
        let kid = peek::<Header>(assertion, 0)
            .ok_or_else(|| fail("the federated token is malformed"))?
            .kid
            .ok_or_else(|| fail("the federated token names no key (kid)"))?;
        let keys: std::sync::Arc<ClientKeySet> =
            self.remote_key_set(jwks_uri, &kid, now).await.map_err(|err| fail(err.description()))?;
        keys.verify(assertion).map_err(rejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn read(claims: serde_json::Value) -> Result<(String, Vec<String>), String> {
        check_times_and_read(&claims.to_string(), "https://k8s.example", NOW).map_err(|err| err.description.into())
    }

    fn base() -> serde_json::Value {
        json!({"iss": "https://k8s.example", "sub": "system:serviceaccount:ns:sa", "aud": ["a", "b"],
               "exp": NOW + 600, "iat": NOW - 10, "nbf": NOW - 10})
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut claims = base();
        claims[key] = value;
        claims
    }

    #[test]
    fn times_and_claims_are_checked() {
        assert_eq!(read(base()), Ok(("system:serviceaccount:ns:sa".to_owned(), vec!["a".into(), "b".into()])));
        assert_eq!(read(with("aud", json!("a"))).map(|(_, aud)| aud), Ok(vec!["a".to_owned()]));
        assert!(read(with("exp", json!(NOW))).is_err());
        assert!(read(with("iat", json!(NOW - MAX_FEDERATED_TOKEN_AGE_SECS - 1))).is_err());
        assert!(read(with("iat", json!(NOW - MAX_FEDERATED_TOKEN_AGE_SECS))).is_ok());
        assert!(read(with("iat", json!(NOW + CLOCK_SKEW_SECS + 1))).is_err());
        assert!(read(with("nbf", json!(NOW + CLOCK_SKEW_SECS + 1))).is_err());
        assert!(read(with("iss", json!("https://other.example"))).is_err());
        assert!(read(with("sub", json!(42))).is_err());
        assert!(read(with("aud", json!({"a": 1}))).is_err());
        let mut no_iat = base();
        no_iat.as_object_mut().map(|claims| claims.remove("iat"));
        assert!(read(no_iat).is_err());
    }
}
