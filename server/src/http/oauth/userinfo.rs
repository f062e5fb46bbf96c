//! `GET`/`POST /userinfo` (OpenID Connect Core §5.3): the claims of the
//! Cloud Directory user an access token was issued to.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clavis_oauth::bearer::{BearerError, bearer_token};
use clavis_oauth::id_token::UserinfoResponse;
use domain::Services;

use super::response;

/// RFC 6750 §3: "If the protected resource request does not include
/// authentication credentials or does not contain an access token that
/// enables access to the protected resource, the resource server MUST
/// include the HTTP "WWW-Authenticate" response header field".
fn challenge(err: &BearerError, realm: &str) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut answer = status.into_response();
    if let Ok(value) = HeaderValue::from_str(&err.www_authenticate(Some(realm))) {
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    answer.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

/// The token travels only in the `Authorization` header (RFC 6750 §2.1),
/// for both methods: a body or query parameter would put it in logs.
pub(super) async fn userinfo(
    State(services): State<Services>,
    Path(tenant_id): Path<String>,
    request: Request,
) -> Response {
    let now = services.now();
    let realm = services.oauth_server_url(&tenant_id);
    let token = match bearer_token(request.headers().get_all(header::AUTHORIZATION).iter().map(HeaderValue::as_bytes)) {
        Ok(token) => token,
        Err(err) => return challenge(&err, &realm),
    };
    match services.userinfo(&tenant_id, token, now).await {
        Ok(Some(user)) => {
            let body = UserinfoResponse {
                sub: &user.sub,
                email: &user.email,
                name: &user.name,
                given_name: &user.given_name,
                family_name: &user.family_name,
            };
            response::no_store_json(StatusCode::OK, &body)
        }
        Ok(None) => {
            challenge(&BearerError::invalid_token("the access token is invalid, expired or not a user's"), &realm)
        }
        Err(err) => response::oauth_error(&err),
    }
}
