//! The resource owner password credentials grant (RFC 6749 §4.3) for Cloud
//! Directory users: the client authenticates as for any grant, the user's
//! password is verified in the bounded password pool, and the answer adds
//! an ID token and, when the tenant allows them, a refresh token.
//!
//! A wrong password, an unknown user and a disabled or unconfirmed user
//! all get the same `invalid_grant` after the same work (one argon2id
//! verification), so neither the answer nor its timing tells which emails
//! have accounts.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::token_request::PasswordRequest;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::refresh_tokens::{RefreshGrant, refresh_settings, store};
use super::user_tokens::{Proven, user_target};
use super::users::may_sign_in;
use crate::Error;
use crate::entities::directory_user;
use crate::services::Services;
use crate::services::client_credentials::TokenResponse;
use crate::services::clients::{AuthenticatedClient, oauth_failure};
use crate::services::keyring::TenantRuntime;
use crate::services::users::{DUMMY_HASH, normalize_email};

/// The one answer to every failed sign-in.
fn wrong_credentials() -> OAuthError {
    OAuthError::invalid_grant("the username or password is incorrect, or the user cannot sign in")
}

/// The answer to a refused sign-in: throttled, busy, or failed.
pub(super) fn grant_failure(err: &Error) -> OAuthError {
    match err {
        Error::RateLimited { retry_after_secs } => OAuthError::slow_down(
            format!("too many failed sign-ins; retry in {retry_after_secs} seconds"),
            *retry_after_secs,
        ),
        Error::Busy => OAuthError::slow_down("the server is busy verifying passwords; retry shortly", 1),
        other => oauth_failure(other),
    }
}

/// Checks `password` against `stored`, or against a hash nobody knows when
/// there is no such user: the work is the same either way.
fn verify(password: &str, stored: Option<&str>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DUMMY_HASH)) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && stored.is_some()
}

/// The throttle key of a user: per tenant, so one tenant's failures never
/// slow another tenant's user of the same email.
fn throttle_key(tenant_id: &str, email_key: &str) -> String {
    format!("{tenant_id}/{email_key}")
}

impl Services {
    /// Answers a password grant of the authenticated `client`; the access
    /// token is bound to the DPoP key thumbprint `bound_to` if there is one.
    pub(crate) async fn password_grant(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        request: &PasswordRequest,
        client_addr: Option<IpAddr>,
        bound_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let email_key = normalize_email(&request.username);
        let key = throttle_key(&runtime.tenant_id, &email_key);
        let address = client_addr.map(|addr| addr.to_string());
        let throttle = &self.inner.directory_sign_ins;
        throttle.check(&key, address.as_deref(), now).await.map_err(|err| grant_failure(&err))?;
        let delay = throttle.delay(&key, now);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let row = directory_user::Entity::find()
            .filter(directory_user::Column::TenantId.eq(&runtime.tenant_id))
            .filter(directory_user::Column::EmailKey.eq(&email_key))
            .one(self.db())
            .await
            .map_err(|err| oauth_failure(&err.into()))?;
        let stored = row.as_ref().map(|row| row.password_hash.clone());
        let password = request.password.clone();
        let matches = self
            .inner
            .password_work
            .run(move || verify(&password, stored.as_deref()))
            .await
            .map_err(|err| grant_failure(&err))?;
        let user = match row {
            Some(row) if matches && may_sign_in(&row) => row,
            _ => {
                throttle.record_failure(&key, address.as_deref(), now).await;
                tracing::info!(tenant = %runtime.tenant_id, "password grant refused");
                return Err(wrong_credentials());
            }
        };
        throttle.record_success(&key, address.as_deref()).await;
        let grant = user_target(runtime, &client.client_id, &request.audiences, request.scope.clone())?;
        let auth_time = now.timestamp();
        let mut response = self
            .sign_user_tokens(runtime, &client.client_id, &user, &grant, Proven { auth_time, bound_to }, now)
            .await?;
        let (enabled, lifetime_secs) =
            refresh_settings(self.db(), &runtime.tenant_id).await.map_err(|err| oauth_failure(&err))?;
        if enabled {
            let requested = grant.requested.as_ref().map(|scopes| scopes.join(" "));
            let refresh = RefreshGrant {
                tenant_id: &runtime.tenant_id,
                family_id: None,
                user_id: &user.id,
                client_id: &client.client_id,
                scope: requested.as_deref(),
                audience: grant.audience.as_deref(),
                auth_time,
                lifetime_secs,
            };
            let value = store(self.db(), &refresh, now).await.map_err(|err| oauth_failure(&err))?;
            response.refresh_token = Some(value);
        }
        tracing::debug!(tenant = %runtime.tenant_id, client_id = %client.client_id, "user signed in");
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_password_of_an_existing_user_verifies() {
        let hash = {
            use argon2::password_hash::{PasswordHasher, SaltString};
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::default().hash_password(b"violet-harbour-42", &salt).unwrap().to_string()
        };
        assert!(verify("violet-harbour-42", Some(&hash)));
        assert!(!verify("violet-harbour-43", Some(&hash)));
        assert!(!verify("violet-harbour-42", None), "no user: the dummy hash never matches");
    }
}
