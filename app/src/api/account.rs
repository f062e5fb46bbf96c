//! The signed-in account's own password, and operators' reset links.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A one-time link, shown once to whoever asked for it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    pub url: String,
    pub expires_at: String,
}

impl std::fmt::Debug for LinkView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkView").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

#[cfg(feature = "ssr")]
impl From<domain::services::OneTimeLink> for LinkView {
    fn from(link: domain::services::OneTimeLink) -> Self {
        Self { url: link.url, expires_at: crate::ssr::rfc3339(link.expires_at) }
    }
}

/// Changes the signed-in user's password; the user's other sessions end,
/// this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::error::ErrorKind;
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let session = ssr::session().await?;
    let keep = session.id().map(|id| id.to_string());
    let source = ssr::source_addr().await;
    services
        .change_password(&user_id, &current_password, &new_password, keep.as_deref(), source.as_deref(), services.now())
        .await
        .map_err(|err| match err {
            domain::Error::Unauthenticated => {
                AppError::new(ErrorKind::Unauthenticated, "The current password is incorrect.")
            }
            other => AppError::from(other),
        })
}

/// For operators: a one-hour link through which `email`'s account sets a new password.
#[server(endpoint = "create_reset_link")]
pub async fn create_reset_link(email: String) -> Result<LinkView, AppError> {
    use crate::ssr;
    let operator = ssr::operator_scope().await?;
    let services = ssr::services()?;
    Ok(services.create_password_reset(&operator, &email, services.now()).await?.into())
}

/// The email of the account a reset link is for. The token travels in the
/// request body, never in a query string.
#[server(endpoint = "reset_link_email")]
pub async fn reset_link_email(token: String) -> Result<String, AppError> {
    use crate::ssr;
    let services = ssr::services()?;
    Ok(services.password_reset_email(&token, services.now()).await?)
}

/// Sets a new password through a reset link; every session of the account ends.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    use crate::ssr;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    Ok(services.reset_password(&token, &new_password, source.as_deref(), services.now()).await?)
}
