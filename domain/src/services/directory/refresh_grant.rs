//! The refresh token grant (RFC 6749 §6): a client trades a refresh token
//! of its user for new tokens and a new refresh token (rotation); the old
//! one is spent. Scopes can only narrow, and the user must still be able
//! to sign in.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::token_request::RefreshRequest;

use super::refresh_tokens::{RefreshGrant, refresh_settings, store};
use super::user_tokens::{Proven, user_target};
use super::users::may_sign_in;
use crate::services::Services;
use crate::services::client_credentials::TokenResponse;
use crate::services::clients::{AuthenticatedClient, oauth_failure};
use crate::services::keyring::TenantRuntime;

fn refused() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is invalid, expired or revoked")
}

/// RFC 6749 §6: "The requested scope MUST NOT include any scope not
/// originally granted by the resource owner, and if omitted is treated as
/// equal to the scope originally granted by the resource owner."
fn narrowed(original: Option<&str>, asked: Option<&[String]>) -> Result<Option<Vec<String>>, OAuthError> {
    let original: Option<Vec<String>> =
        original.map(|text| text.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect());
    match (original, asked) {
        (original, None) => Ok(original),
        (None, Some(asked)) => Ok(Some(asked.to_vec())),
        (Some(original), Some(asked)) => {
            if asked.iter().all(|scope| original.contains(scope)) {
                Ok(Some(asked.to_vec()))
            } else {
                Err(OAuthError::invalid_scope("the requested scope exceeds the scope originally granted"))
            }
        }
    }
}

impl Services {
    /// Answers a refresh token grant of the authenticated `client`; the
    /// access token is bound to the DPoP key thumbprint `bound_to` if any.
    pub(crate) async fn refresh_grant(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        request: &RefreshRequest,
        bound_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let failed = |err: crate::Error| oauth_failure(&err);
        let (enabled, lifetime_secs) = refresh_settings(self.db(), &runtime.tenant_id).await.map_err(failed)?;
        if !enabled {
            return Err(refused());
        }
        let txn = self.begin_write().await.map_err(failed)?;
        let spent = self
            .spend_refresh_token(&txn, &runtime.tenant_id, &client.client_id, &request.refresh_token, now)
            .await
            .map_err(failed)?;
        let row = match spent {
            Ok(row) => row,
            Err(refusal) => {
                // A reuse revoked the family in this transaction: keep that.
                txn.commit().await.map_err(|err| failed(err.into()))?;
                tracing::info!(tenant = %runtime.tenant_id, reason = refusal.as_str(), "refresh token refused");
                return Err(refused());
            }
        };
        let user = match self.directory_row(&txn, &runtime.tenant_id, &row.user_id).await {
            Ok(user) if may_sign_in(&user) => user,
            Ok(_) | Err(crate::Error::NotFound(_)) => return Err(refused()),
            Err(err) => return Err(failed(err)),
        };
        let requested = narrowed(row.scope.as_deref(), request.scope.as_deref())?;
        let audiences: Vec<String> = row.audience.iter().cloned().collect();
        let grant = user_target(runtime, &client.client_id, &audiences, requested)?;
        let successor = RefreshGrant {
            tenant_id: &runtime.tenant_id,
            family_id: Some(&row.family_id),
            user_id: &user.id,
            client_id: &client.client_id,
            scope: row.scope.as_deref(),
            audience: row.audience.as_deref(),
            auth_time: row.auth_time,
            lifetime_secs,
        };
        let value = store(&txn, &successor, now).await.map_err(failed)?;
        // Signed before the commit: if the tokens cannot be issued (the
        // audience no longer grants anything), the old token stays unspent.
        let mut response = self
            .sign_user_tokens(
                runtime,
                &client.client_id,
                &user,
                &grant,
                Proven { auth_time: row.auth_time, bound_to },
                now,
            )
            .await?;
        txn.commit().await.map_err(|err| failed(err.into()))?;
        response.refresh_token = Some(value);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_only_narrow() {
        let asked = ["read".to_owned()];
        assert_eq!(narrowed(Some("read write"), Some(&asked)).unwrap(), Some(vec!["read".to_owned()]));
        assert_eq!(narrowed(Some("read write"), None).unwrap(), Some(vec!["read".to_owned(), "write".to_owned()]));
        assert_eq!(narrowed(None, None).unwrap(), None);
        let wider = ["admin".to_owned()];
        assert!(narrowed(Some("read"), Some(&wider)).is_err());
    }
}
