//! The UserInfo endpoint's claims (OpenID Connect Core §5.3) for a Cloud
//! Directory user's access token.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;

use super::full_name;
use super::user_tokens::OPENID_SCOPE;
use super::users::may_sign_in;
use crate::entities::directory_user;
use crate::services::Services;
use crate::services::clients::oauth_failure;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// What the UserInfo endpoint returns about the token's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
}

impl Services {
    /// The claims of the user `token` was issued to, or `None` when the
    /// token is not an active user token of this tenant with `openid`
    /// (a client's own token, an expired, revoked or foreign one, or one of
    /// a user who has since been disabled, deleted or given a new password).
    pub async fn userinfo(
        &self,
        tenant_id: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserInfo>, OAuthError> {
        let runtime = self.oauth_tenant(tenant_id, now).await?;
        let failed = |err: crate::Error| oauth_failure(&err);
        let Some(claims) = self.active_token(&runtime, token, now).await.map_err(failed)? else {
            return Ok(None);
        };
        if !claims.has_scope(OPENID_SCOPE) {
            return Ok(None);
        }
        let user = directory_user::Entity::find()
            .filter(directory_user::Column::ProfileId.eq(&claims.sub))
            .filter(directory_user::Column::TenantId.eq(&runtime.tenant_id))
            .one(self.db())
            .await
            .map_err(|err| failed(err.into()))?;
        let Some(user) = user.filter(|user| may_sign_in(user) && claims.iat >= user.password_changed_at) else {
            return Ok(None);
        };
        Ok(Some(UserInfo {
            name: full_name(&user.given_name, &user.family_name),
            sub: user.profile_id,
            email: user.email,
            given_name: user.given_name,
            family_name: user.family_name,
        }))
    }
}
