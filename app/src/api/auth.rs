//! Sign-in, sign-out and who-am-I.

use leptos::prelude::*;

use crate::error::AppError;

/// The signed-in user; `None` when nobody is signed in.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUserView>, AppError> {
    use crate::ssr;
    let session = ssr::session().await?;
    let Some(user_id) = session.get::<String>(ssr::SESSION_USER_ID).await.map_err(|_| AppError::internal())? else {
        return Ok(None);
    };
    let services = ssr::services()?;
    Ok(services.session_user(&user_id).await?.map(SessionUserView::from))
}

/// Checks the credentials, starts a fresh session and sends the user to
/// their tenant's Applications page.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    // An account under attack from elsewhere is slowed, never locked: wait
    // here, holding no connection or permit, then check.
    tokio::time::sleep(services.sign_in_delay(&email, services.now())).await;
    let user =
        services.authenticate(&email, &password, source.as_deref(), services.now()).await.map_err(|err| match err {
            domain::Error::Unauthenticated => {
                AppError::new(crate::error::ErrorKind::Unauthenticated, "Incorrect email or password.")
            }
            other => AppError::from(other),
        })?;
    let session = ssr::session().await?;
    // A new session ID at sign-in defeats session fixation.
    session.cycle_id().await.map_err(|_| AppError::internal())?;
    session.insert(ssr::SESSION_USER_ID, &user.id).await.map_err(|_| AppError::internal())?;
    let target = match user.home_tenant() {
        Some(home) => format!("/t/{}/applications", home.tenant_id),
        None => "/".to_owned(),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr;
    let session = ssr::session().await?;
    session.flush().await.map_err(|_| AppError::internal())?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// A tenant the user can open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TenantLink {
    pub tenant_id: String,
    pub name: String,
    pub role: String,
}

/// What the page chrome needs to know about the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionUserView {
    pub email: String,
    pub is_operator: bool,
    pub tenants: Vec<TenantLink>,
}

#[cfg(feature = "ssr")]
impl From<domain::services::SessionUser> for SessionUserView {
    fn from(user: domain::services::SessionUser) -> Self {
        Self {
            email: user.email,
            is_operator: user.is_operator,
            tenants: user
                .tenants
                .into_iter()
                .map(|m| TenantLink { tenant_id: m.tenant_id, name: m.tenant_name, role: m.role.as_str().to_owned() })
                .collect(),
        }
    }
}
