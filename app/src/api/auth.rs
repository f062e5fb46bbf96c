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

/// Where a right password leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LoginStep {
    /// Signed in; the answer redirects to the user's tenant.
    SignedIn,
    /// The account has a second factor: [`login_second_factor`] comes next.
    SecondFactor,
}

/// The session key of a sign-in waiting for its second factor. It is not
/// the signed-in user's key: such a session is signed in to nothing.
#[cfg(feature = "ssr")]
const SESSION_PENDING_SIGN_IN: &str = "pending_sign_in";

/// Checks the credentials. Without a second factor, starts a fresh session
/// and sends the user to their tenant's Applications page; with one, keeps
/// the pending sign-in in the session for [`login_second_factor`].
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<LoginStep, AppError> {
    use crate::ssr;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    // An account under attack from elsewhere is slowed, never locked: wait
    // here, holding no connection or permit, then check.
    tokio::time::sleep(services.sign_in_delay(&email, services.now())).await;
    let outcome =
        services.authenticate(&email, &password, source.as_deref(), services.now()).await.map_err(|err| match err {
            domain::Error::Unauthenticated => {
                AppError::new(crate::error::ErrorKind::Unauthenticated, "Incorrect email or password.")
            }
            other => AppError::from(other),
        })?;
    let session = ssr::session().await?;
    match outcome {
        domain::services::SignIn::Complete(user) => {
            start_session(&services, &session, &user).await?;
            Ok(LoginStep::SignedIn)
        }
        domain::services::SignIn::SecondFactorRequired(pending) => {
            session.remove::<String>(ssr::SESSION_USER_ID).await.map_err(|_| AppError::internal())?;
            session.insert(SESSION_PENDING_SIGN_IN, pending.as_str()).await.map_err(|_| AppError::internal())?;
            Ok(LoginStep::SecondFactor)
        }
    }
}

/// Finishes a sign-in with the code of the account's authenticator app or
/// one of its recovery codes. A wrong code is 401 (throttled: 429); a
/// pending sign-in that expired is 400 and the password is needed again.
#[server(endpoint = "login_second_factor")]
pub async fn login_second_factor(code: String) -> Result<(), AppError> {
    use crate::error::ErrorKind;
    use crate::ssr;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    let session = ssr::session().await?;
    let Some(reference) = session.get::<String>(SESSION_PENDING_SIGN_IN).await.map_err(|_| AppError::internal())?
    else {
        return Err(AppError::new(ErrorKind::Validation, "This sign-in has expired. Enter your password again."));
    };
    let pending = domain::services::PendingSignIn::from_reference(reference);
    let user = match services.complete_sign_in(&pending, &code, source.as_deref(), services.now()).await {
        Ok(user) => user,
        Err(domain::Error::Unauthenticated) => {
            return Err(AppError::new(ErrorKind::Unauthenticated, "That code is not right."));
        }
        Err(domain::Error::Validation(_)) => {
            session.remove::<String>(SESSION_PENDING_SIGN_IN).await.map_err(|_| AppError::internal())?;
            return Err(AppError::new(ErrorKind::Validation, "This sign-in has expired. Enter your password again."));
        }
        Err(other) => return Err(AppError::from(other)),
    };
    session.remove::<String>(SESSION_PENDING_SIGN_IN).await.map_err(|_| AppError::internal())?;
    start_session(&services, &session, &user).await
}

/// Signs `user` in on a fresh session ID and redirects to their home
/// tenant's Applications page, or to the account page when that tenant
/// requires a second factor of its admins and they have none yet.
#[cfg(feature = "ssr")]
async fn start_session(
    services: &domain::Services,
    session: &tower_sessions::Session,
    user: &domain::services::SessionUser,
) -> Result<(), AppError> {
    // A new session ID at sign-in defeats session fixation.
    session.cycle_id().await.map_err(|_| AppError::internal())?;
    session.insert(crate::ssr::SESSION_USER_ID, &user.id).await.map_err(|_| AppError::internal())?;
    let target = match user.home_tenant() {
        Some(home)
            if home.role == domain::Role::Admin && services.second_factor_blocks(&user.id, &home.tenant_id).await? =>
        {
            "/account".to_owned()
        }
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
