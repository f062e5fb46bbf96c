//! The token endpoint (RFC 6749 §3.2) as one service call: the tenant, the
//! request's syntax, client authentication with its throttle, the grant,
//! signing and usage counting. The HTTP handler reads the bytes and writes
//! the answer; everything in between is here.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::request::{OAuthRequest, RawRequest};
use clavis_oauth::token_request::{self, GrantRequest};

use super::Services;
use super::client_credentials::TokenResponse;
use super::ids::could_exist;

impl Services {
    /// Answers a token request to `tenant_id` from `client_addr`.
    ///
    /// The error already carries its HTTP status, its Basic challenge (with
    /// the tenant's realm) and any `Retry-After`.
    pub async fn token(
        &self,
        tenant_id: &str,
        raw: RawRequest<'_>,
        client_addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let mut grant = crate::metrics::grant_label(None);
        let answer = self.answer_token(tenant_id, raw, client_addr, now, &mut grant).await;
        crate::metrics::token_request(grant, &answer);
        answer
    }

    /// [`Services::token`], naming the grant (a fixed label) once it is read.
    async fn answer_token(
        &self,
        tenant_id: &str,
        raw: RawRequest<'_>,
        client_addr: Option<IpAddr>,
        now: DateTime<Utc>,
        grant: &mut &'static str,
    ) -> Result<TokenResponse, OAuthError> {
        let runtime = self.oauth_tenant(tenant_id, now).await?;
        let realm = runtime.issuer.as_str();
        let request = OAuthRequest::parse(&raw).map_err(|err| err.in_realm(realm))?;
        *grant = crate::metrics::grant_label(request.params.get("grant_type"));
        let grant_request = token_request::parse_grant(&request.params, request.basic).map_err(|err| {
            tracing::info!(tenant = %runtime.tenant_id, error = err.code.as_str(), "token request refused");
            err.in_realm(realm)
        })?;
        let credentials = grant_request.credentials();
        let issued = match self.authenticate_throttled(&runtime, credentials, client_addr, now).await {
            Ok(caller) => match self.dpop_binding(&runtime, &caller.client, &raw, now).await {
                Ok(binding) => {
                    let bound_to = binding.as_ref().map(|binding| binding.jkt.as_str());
                    let mut issued = match &grant_request {
                        GrantRequest::ClientCredentials(request) => {
                            self.issue_client_credentials(&runtime, &caller.client, request, bound_to, now)
                        }
                        GrantRequest::Password(request) => {
                            Box::pin(self.password_grant(&runtime, &caller.client, request, client_addr, bound_to, now))
                                .await
                        }
                        GrantRequest::RefreshToken(request) => {
                            Box::pin(self.refresh_grant(&runtime, &caller.client, request, bound_to, now)).await
                        }
                    };
                    if let Ok(token) = &mut issued {
                        token.dpop_nonce = binding.and_then(|binding| binding.nonce);
                        self.record_usage(&caller.usage, now.timestamp());
                    }
                    issued
                }
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        match issued {
            Ok(token) => {
                tracing::debug!(tenant = %runtime.tenant_id, client_id = %credentials.client_id, "token issued");
                Ok(token)
            }
            Err(err) => {
                // The client ID is an identifier, not a credential, and is
                // logged only when it could be one Clavis issued (anything
                // else is attacker-chosen text); the secret is never logged.
                let client_id = if could_exist(&credentials.client_id) { credentials.client_id.as_str() } else { "-" };
                tracing::info!(
                    tenant = %runtime.tenant_id,
                    client_id,
                    error = err.code.as_str(),
                    "token request refused"
                );
                Err(err.in_realm(realm))
            }
        }
    }
}
