//! DPoP at the token endpoint (RFC 9449 §5): the proof of an authenticated
//! client's request, checked against the tenant's public token endpoint URL,
//! its `jti` spent across replicas, the tenant's nonce rule, and the
//! application's "DPoP required" flag. The result is the key thumbprint the
//! token is bound to.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::dpop::{self, DpopError, Expected};
use clavis_oauth::request::RawRequest;

use super::Services;
use super::clients::{AuthenticatedClient, oauth_failure};
use super::keyring::TenantRuntime;
use super::replay::JtiKind;

/// A token request's DPoP outcome, for a request that carried a good proof.
#[derive(Debug)]
pub(crate) struct DpopBinding {
    /// RFC 7638 thumbprint of the proof's key: the token's `cnf.jkt`.
    pub(crate) jkt: String,
    /// A fresh nonce for the response's `DPoP-Nonce` header, when the tenant
    /// requires nonces.
    pub(crate) nonce: Option<String>,
}

impl Services {
    /// Checks the request's `DPoP` header for `client`; `Ok(None)` for a
    /// request without one (a Bearer token), unless the application must
    /// have DPoP-bound tokens.
    pub(crate) async fn dpop_binding(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        raw: &RawRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<DpopBinding>, OAuthError> {
        if raw.several_dpops {
            return Err(OAuthError::invalid_dpop_proof(DpopError::Multiple.to_string()));
        }
        let Some(header) = raw.dpop else {
            return if client.dpop_required {
                Err(OAuthError::invalid_request("this application's tokens must be DPoP-bound"))
            } else {
                Ok(None)
            };
        };
        // Boxed: a Bearer request (the common case) does not carry the
        // proof check's state in its future.
        Box::pin(self.bind_to_proof(runtime, client, header, now)).await
    }

    /// Verifies the proof in a `DPoP` header and spends its `jti`.
    async fn bind_to_proof(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        header: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<DpopBinding>, OAuthError> {
        let proof = std::str::from_utf8(header)
            .map_err(|_| OAuthError::invalid_dpop_proof(DpopError::Malformed.to_string()))?;
        // The URL the client addressed, as the tenant publishes it: a proxy
        // or another path to the same handler does not change what is signed.
        let htu = format!("{}/token", runtime.issuer);
        let accepted = runtime.dpop_nonce_required.then(|| self.accepted_dpop_nonces(&runtime.tenant_id, now));
        let accepted_refs = accepted.as_ref().map(|[current, previous]| [current.as_str(), previous.as_str()]);
        let expected =
            Expected { htm: "POST", htu: &htu, nonces: accepted_refs.as_ref().map(|n| &n[..]), access_token: None };
        let verified = dpop::verify(proof, &expected, now.timestamp()).map_err(|err| {
            tracing::info!(tenant = %runtime.tenant_id, client_id = %client.client_id, reason = %err, "DPoP proof refused");
            if err.is_nonce() {
                OAuthError::use_dpop_nonce(self.dpop_nonce(&runtime.tenant_id, now))
            } else {
                OAuthError::invalid_dpop_proof(err.to_string())
            }
        })?;
        let expires_at = verified.iat + dpop::MAX_AGE_SECS;
        let first_use = self
            .spend_jti(JtiKind::DpopProof, &runtime.tenant_id, &verified.jkt, &verified.jti, expires_at, now)
            .await
            .map_err(|err| oauth_failure(&err))?;
        if !first_use {
            return Err(OAuthError::invalid_dpop_proof("DPoP proof was already used"));
        }
        let nonce = runtime.dpop_nonce_required.then(|| self.dpop_nonce(&runtime.tenant_id, now));
        Ok(Some(DpopBinding { jkt: verified.jkt, nonce }))
    }
}
