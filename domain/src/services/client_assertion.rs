//! Client authentication by JWT assertion (RFC 7523 §2.2): an assertion the
//! application signed with its own key (`private_key_jwt`), or a
//! workload-identity token of an issuer the tenant trusts.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;

use super::Services;
use super::clients::{AuthenticatedCaller, CachedClient};
use super::keyring::TenantRuntime;

impl Services {
    /// Authenticates `client_id` by `assertion`.
    pub(super) async fn authenticate_assertion(
        &self,
        _runtime: &TenantRuntime,
        _client_id: &str,
        _client: &CachedClient,
        _assertion: &str,
        _now: DateTime<Utc>,
    ) -> Result<AuthenticatedCaller, OAuthError> {
        Err(OAuthError::invalid_client("client assertions are not accepted yet"))
    }
}
