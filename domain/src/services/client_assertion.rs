//! Client authentication by JWT assertion (RFC 7523 §2.2): an assertion the
//! application signed with its own key (`private_key_jwt`), or a
//! workload-identity token of an issuer the tenant trusts.
//!
//! The unverified `iss` only chooses the path: the application's own keys
//! when it is the client ID, the tenant's trusted issuers otherwise. Either
//! way nothing is believed until a signature checks out.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::client_assertion::{self, Expected};
use clavis_oauth::jose::client_verify::{ClientKeySet, Verified};
use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::verify::Rejection;

use super::Services;
use super::clients::{AuthenticatedCaller, CachedClient, oauth_failure};
use super::keyring::TenantRuntime;
use super::replay::JtiKind;
use super::usage_counts::UsageCell;
use crate::entities::application;

/// Where a key-authenticated application's keys are.
#[derive(Debug)]
pub(super) enum AssertionKeys {
    /// Stored with it, parsed once when the client is loaded.
    Static(Arc<ClientKeySet>),
    /// Fetched from its `jwks_uri` (and cached per URL).
    Uri(String),
}

/// A key-authenticated application's keys, and the counts of the tokens
/// they get.
#[derive(Debug)]
pub(super) struct ClientKeys {
    pub(super) source: AssertionKeys,
    pub(super) usage: Arc<UsageCell>,
}

impl ClientKeys {
    /// The keys of a stored application: `None` when it has none (it then
    /// authenticates with a secret or a federated credential).
    pub(super) fn of(app: &application::Model, client_id: &Arc<str>) -> Option<Self> {
        let source = AssertionKeys::of(app)?;
        Some(Self { source, usage: UsageCell::new(keys_usage_key(client_id).into(), client_id.clone()) })
    }
}

impl AssertionKeys {
    fn of(app: &application::Model) -> Option<Self> {
        if let Some(uri) = &app.jwks_uri {
            return Some(Self::Uri(uri.clone()));
        }
        let stored = app.jwks.as_deref()?;
        // Stored keys were checked when they were set; a row that no longer
        // parses still makes the application key-authenticated, with no
        // usable key, so it can never fall back to a secret.
        let keys = serde_json::from_str::<JwkSet>(stored)
            .ok()
            .and_then(|jwks| ClientKeySet::from_jwks(&jwks).ok())
            .unwrap_or_else(|| {
                tracing::error!(client_id = %app.client_id, "stored client keys do not parse");
                ClientKeySet::default()
            });
        Some(Self::Static(Arc::new(keys)))
    }
}

/// The usage key of a key-authenticated caller: stable per client, and no
/// `client_secrets` row has it (their IDs are UUIDs).
fn keys_usage_key(client_id: &str) -> String {
    format!("keys:{client_id}")
}

fn fail(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description)
}

fn rejection(why: Rejection) -> OAuthError {
    match why {
        Rejection::UnknownKid => fail("the assertion is signed with an unknown key"),
        Rejection::Malformed(why) | Rejection::Invalid(why) => fail(why),
    }
}

impl Services {
    /// Authenticates `client_id` by `assertion`.
    pub(super) async fn authenticate_assertion(
        &self,
        runtime: &TenantRuntime,
        client_id: &str,
        client: &CachedClient,
        assertion: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthenticatedCaller, OAuthError> {
        let issuer = client_assertion::unverified_issuer(assertion);
        if issuer.as_deref() != Some(client_id) {
            return self.authenticate_federated(runtime, client, assertion, now).await;
        }
        let Some(keys) = &client.keys else {
            return Err(fail("the application has no keys for private_key_jwt"));
        };
        let verified = match &keys.source {
            AssertionKeys::Static(keys) => keys.verify(assertion).map_err(rejection)?,
            AssertionKeys::Uri(uri) => self.verify_with_jwks_uri(uri, assertion, now).await?,
        };
        let token_endpoint = format!("{}/token", runtime.issuer);
        let expected = Expected { client_id, token_endpoint: &token_endpoint, issuer: &runtime.issuer };
        let accepted = client_assertion::check_claims(&verified.payload, &expected, now.timestamp())?;
        let first_use = self
            .spend_jti(JtiKind::ClientAssertion, &runtime.tenant_id, client_id, &accepted.jti, accepted.exp, now)
            .await
            .map_err(|err| oauth_failure(&err))?;
        if !first_use {
            return Err(fail("assertion jti was already used"));
        }
        Ok(AuthenticatedCaller { client: client.authenticated(), usage: keys.usage.clone() })
    }

    async fn verify_with_jwks_uri(
        &self,
        uri: &str,
        assertion: &str,
        now: DateTime<Utc>,
    ) -> Result<Verified, OAuthError> {
        let kid = assertion_kid(assertion)
            .ok_or_else(|| fail("an assertion checked against a jwks_uri must name its key (kid)"))?;
        let keys = self.remote_key_set(uri, &kid, now).await.map_err(|err| fail(err.description()))?;
        keys.verify(assertion).map_err(rejection)
    }
}

/// The `kid` of a JWS's header, unverified: it only picks the key.
fn assertion_kid(assertion: &str) -> Option<String> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Header {
        kid: String,
    }
    let header = assertion.split('.').next()?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice::<Header>(&json).ok().map(|header| header.kid)
}
