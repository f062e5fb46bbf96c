//! Client authentication by a workload-identity token (a Kubernetes
//! projected service-account token, a GitHub Actions OIDC token): a JWT of
//! an issuer the tenant trusts, whose subject and audience match one of the
//! application's federated credentials. No jti single use: such tokens are
//! meant to be presented again until they rotate.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::jose::client_verify::ClientKeySet;
use clavis_oauth::jose::verify::Rejection;
use clavis_oauth::jwt_claims::{Audience, ClaimError, RegisteredClaims};
use serde::Deserialize;
use serde_json::Value;

use super::Services;
use super::clients::{AuthenticatedCaller, CachedClient, oauth_failure};
use super::keyring::TenantRuntime;
use super::remote_jwks::KeyFetchError;
use super::trusted_issuers::IssuerKeys;
use super::usage_counts::UsageCell;

/// The oldest a federated token may be, by its `iat`.
pub const MAX_FEDERATED_TOKEN_AGE_SECS: i64 = 24 * 3600;

/// How far ahead of this server's clock an issuer's clock may run.
const CLOCK_SKEW_SECS: i64 = 60;

/// One federated credential as the token path holds it (in `CachedClient`).
#[derive(Debug)]
pub(super) struct FederatedMatch {
    pub(super) issuer_id: String,
    pub(super) subject: String,
    pub(super) audience: String,
    /// Its tokens' counts: usage is counted per credential, as it is per secret.
    pub(super) usage: Arc<UsageCell>,
}

fn fail(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description)
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

/// A broken shared rule in this path's words, which quote nothing of the token.
fn refused(err: ClaimError) -> OAuthError {
    fail(match err {
        ClaimError::NotAnObject => "the federated token's claims are not a JSON object",
        ClaimError::MissingExp => "the federated token has no exp",
        ClaimError::ExpNotANumber => "the federated token's exp must be a number",
        ClaimError::Expired => "the federated token expired",
        ClaimError::NbfNotANumber => "the federated token's nbf must be a number",
        ClaimError::NotYetValid => "the federated token is not valid yet",
        ClaimError::IatNotANumber => "the federated token's iat must be a number",
        ClaimError::IssuedInFuture => "the federated token is issued in the future",
        ClaimError::MissingAud => "the federated token has no aud",
        ClaimError::AudNotStrings => "the federated token's aud must be a string or an array of strings",
    })
}

/// The token's subject and audience once its times checked out at `now`:
/// the shared rules of [`clavis_oauth::jwt_claims`], and this path's own (the
/// trusted issuer, an `iat` required and at most 24 hours old, a string
/// subject).
fn check_times_and_read(payload: &str, iss: &str, now: i64) -> Result<(String, Audience), OAuthError> {
    let claims = RegisteredClaims::parse(payload).map_err(refused)?;
    if claims.iss.as_ref().and_then(Value::as_str) != Some(iss) {
        return Err(fail("the federated token's issuer is not trusted by this tenant"));
    }
    claims.expiry(now).map_err(refused)?;
    let iat = claims
        .issued_at(now, CLOCK_SKEW_SECS)
        .map_err(refused)?
        .ok_or_else(|| fail("the federated token has no iat"))?;
    if now - iat > MAX_FEDERATED_TOKEN_AGE_SECS {
        return Err(fail("the federated token was issued more than 24 hours ago"));
    }
    claims.not_before(now, CLOCK_SKEW_SECS).map_err(refused)?;
    let sub = match &claims.sub {
        Some(Value::String(sub)) => sub.clone(),
        Some(_) => return Err(fail("the federated token's sub must be a string")),
        None => return Err(fail("the federated token has no sub")),
    };
    Ok((sub, claims.audience().map_err(refused)?))
}

fn rejection(rejection: Rejection) -> OAuthError {
    match rejection {
        Rejection::UnknownKid => fail(KeyFetchError::UnknownKid.description()),
        Rejection::Malformed(why) | Rejection::Invalid(why) => fail(why),
    }
}

impl Services {
    /// Authenticates `client` by a token of one of the tenant's trusted
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
            same_subject.into_iter().find(|credential| aud.contains(&credential.audience)).ok_or_else(|| {
                fail("the federated token's audience does not include the federated credential's audience")
            })?;
        Ok(AuthenticatedCaller { client: client.authenticated(), usage: matched.usage.clone() })
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
        check_times_and_read(&claims.to_string(), "https://k8s.example", NOW)
            .map(|(sub, aud)| (sub, aud.values().to_vec()))
            .map_err(|err| err.description.into())
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
        assert!(read(with("iat", json!(NOW - MAX_FEDERATED_TOKEN_AGE_SECS))).is_ok());
        let without = |key: &str| {
            let mut claims = base();
            claims.as_object_mut().map(|claims| claims.remove(key));
            claims
        };
        // Each rule answers in this path's words, none quoting the token.
        for (claims, why) in [
            (json!("claims"), "the federated token's claims are not a JSON object"),
            (with("iss", json!("https://other.example")), "the federated token's issuer is not trusted by this tenant"),
            (without("exp"), "the federated token has no exp"),
            (with("exp", json!("later")), "the federated token's exp must be a number"),
            (with("exp", json!(NOW)), "the federated token expired"),
            (without("iat"), "the federated token has no iat"),
            (with("iat", json!("now")), "the federated token's iat must be a number"),
            (with("iat", json!(NOW + CLOCK_SKEW_SECS + 1)), "the federated token is issued in the future"),
            (
                with("iat", json!(NOW - MAX_FEDERATED_TOKEN_AGE_SECS - 1)),
                "the federated token was issued more than 24 hours ago",
            ),
            (with("nbf", json!("soon")), "the federated token's nbf must be a number"),
            (with("nbf", json!(NOW + CLOCK_SKEW_SECS + 1)), "the federated token is not valid yet"),
            (without("sub"), "the federated token has no sub"),
            (with("sub", json!(42)), "the federated token's sub must be a string"),
            (without("aud"), "the federated token has no aud"),
            (with("aud", json!({"a": 1})), "the federated token's aud must be a string or an array of strings"),
        ] {
            assert_eq!(read(claims.clone()), Err(why.to_owned()), "{claims}");
        }
    }
}
