//! The signed-in account's TOTP second factor, and a tenant's rule that its
//! admins must have one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Whether the account's second factor is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorView {
    pub enabled: bool,
    pub recovery_codes_left: u64,
    /// A tenant the account administers requires a second factor it lacks.
    pub setup_required: bool,
}

/// What an authenticator app needs, shown while the enrolment waits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentView {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_data_url: String,
}

impl std::fmt::Debug for EnrolmentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentView(<redacted>)")
    }
}

/// Recovery codes, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesView(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodesView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodesView(<{} redacted>)", self.0.len())
    }
}

/// A wrong code (or password) is 401 with words that say which it was;
/// everything else keeps its own kind.
#[cfg(feature = "ssr")]
fn refused(message: &'static str) -> impl Fn(domain::Error) -> AppError {
    move |err| match err {
        domain::Error::Unauthenticated => AppError::new(crate::error::ErrorKind::Unauthenticated, message),
        other => AppError::from(other),
    }
}

#[server(endpoint = "second_factor")]
pub async fn second_factor_status() -> Result<SecondFactorView, AppError> {
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let status = services.second_factor_status(&user_id).await?;
    let setup_required = services.second_factor_setup_required(&user_id).await?;
    Ok(SecondFactorView { enabled: status.enabled, recovery_codes_left: status.recovery_codes_left, setup_required })
}

/// Starts an enrolment; the current password is needed (401 when wrong,
/// counted as a failed sign-in), so a stolen session cannot turn it on.
#[server(endpoint = "begin_totp")]
pub async fn begin_totp_enrolment(password: String) -> Result<EnrolmentView, AppError> {
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    let enrolment = services
        .begin_totp_enrolment(&user_id, &password, source.as_deref(), services.now())
        .await
        .map_err(refused("The current password is incorrect."))?;
    Ok(EnrolmentView {
        secret_base32: enrolment.secret_base32.clone(),
        otpauth_uri: enrolment.otpauth_uri.clone(),
        qr_data_url: enrolment.qr_data_url.clone(),
    })
}

#[server(endpoint = "confirm_totp")]
pub async fn confirm_totp_enrolment(code: String) -> Result<RecoveryCodesView, AppError> {
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    let codes = services
        .confirm_totp_enrolment(&user_id, &code, source.as_deref(), services.now())
        .await
        .map_err(refused("That code is not right. Check the time on your device and try the next one."))?;
    Ok(RecoveryCodesView(codes.0))
}

#[server(endpoint = "disable_totp")]
pub async fn disable_totp(password: String, code: String) -> Result<(), AppError> {
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    services
        .disable_totp(&user_id, &password, &code, source.as_deref(), services.now())
        .await
        .map_err(refused("The password or the code is not right."))
}

#[server(endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(code: String) -> Result<RecoveryCodesView, AppError> {
    use crate::ssr;
    let user_id = ssr::user_id().await?;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    let codes = services
        .regenerate_recovery_codes(&user_id, &code, source.as_deref(), services.now())
        .await
        .map_err(refused("That code is not right."))?;
    Ok(RecoveryCodesView(codes.0))
}

/// Whether the tenant requires a second factor of its admins.
#[server(endpoint = "tenant_security")]
pub async fn tenant_security(tenant_id: String) -> Result<bool, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    Ok(ssr::services()?.tenant_security(&scope).await?.require_admin_second_factor)
}

/// Sets the requirement (admins only; to turn it on, the admin needs a
/// second factor of their own).
#[server(endpoint = "set_tenant_security")]
pub async fn set_tenant_security(tenant_id: String, required: bool) -> Result<bool, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let security = domain::services::TenantSecurity { require_admin_second_factor: required };
    Ok(services.set_tenant_security(&scope, security, services.now()).await?.require_admin_second_factor)
}
