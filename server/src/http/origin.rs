//! Cross-site request forgery defence for the dashboard: a state-changing
//! request that names an origin must name ours.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn require_same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    // Browsers send Origin on every cross-origin POST; when it is absent
    // (older browsers, same-origin form posts) fall back to Referer.
    let claimed = request
        .headers()
        .get(header::ORIGIN)
        .or_else(|| request.headers().get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    if let Some(claimed) = claimed
        && !same_origin(claimed, &state.public_origin)
    {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    next.run(request).await
}

fn same_origin(claimed: &str, ours: &str) -> bool {
    match url::Url::parse(claimed) {
        Ok(url) => url.origin().ascii_serialization() == ours,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn compares_scheme_host_and_port() {
        assert!(same_origin("http://127.0.0.1:3000", "http://127.0.0.1:3000"));
        assert!(same_origin("http://127.0.0.1:3000/login?x", "http://127.0.0.1:3000"));
        assert!(!same_origin("http://evil.example", "http://127.0.0.1:3000"));
        assert!(!same_origin("https://127.0.0.1:3000", "http://127.0.0.1:3000"));
        assert!(!same_origin("null", "http://127.0.0.1:3000"));
    }
}
