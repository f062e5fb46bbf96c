//! The tower layer that guards a resource server, and the axum extractor for its claims.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request, Response, header};
use tower::{Layer, Service};

use crate::claims::Claims;
use crate::validator::{AuthError, TokenValidator};

/// A tower [`Layer`] that lets a request through only with a valid bearer
/// token, and puts the verified [`Claims`] in the request extensions for the
/// [`Claims`] extractor. Refused requests get RFC 6750 answers: 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` (or a bare `Bearer`
/// challenge when no token was sent), 403 `insufficient_scope`.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
///
/// # fn run() -> Result<(), clavis_sdk::BuildError> {
/// let validator = TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").build()?;
/// let protect = ProtectLayer::new(validator);
/// let app: Router = Router::new()
///     .route("/read", get(|c: Claims| async move { c.sub }))
///     .route(
///         "/write",
///         get(|c: Claims| async move { c.sub }).route_layer(protect.clone().require_scopes(["write"])),
///     )
///     .layer(protect);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ProtectLayer {
    validator: TokenValidator,
    extra_scopes: Arc<[String]>,
}

impl ProtectLayer {
    /// A layer that validates with `validator` (clones share its key cache).
    ///
    /// ```
    /// # fn run() -> Result<(), clavis_sdk::BuildError> {
    /// let layer = clavis_sdk::ProtectLayer::new(
    ///     clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").build()?,
    /// );
    /// # Ok(()) }
    /// ```
    pub fn new(validator: TokenValidator) -> Self {
        Self { validator, extra_scopes: Arc::from(Vec::new()) }
    }

    /// The same layer, also requiring `scopes` (on top of the validator's).
    ///
    /// ```
    /// # fn run(layer: clavis_sdk::ProtectLayer) {
    /// let admin_only = layer.require_scopes(["admin"]);
    /// # }
    /// ```
    pub fn require_scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = self.extra_scopes.to_vec();
        all.extend(scopes.into_iter().map(Into::into));
        Self { validator: self.validator, extra_scopes: Arc::from(all) }
    }
}

impl<S> Layer<S> for ProtectLayer {
    type Service = Protect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Protect { inner, validator: self.validator.clone(), extra_scopes: Arc::clone(&self.extra_scopes) }
    }
}

/// The service made by [`ProtectLayer`].
///
/// ```no_run
/// use tower::Layer;
/// # fn run(layer: clavis_sdk::ProtectLayer) {
/// let service: clavis_sdk::Protect<_> = layer.layer(tower::service_fn(|_req: axum::http::Request<axum::body::Body>| async {
///     Ok::<_, std::convert::Infallible>(axum::http::Response::new(axum::body::Body::empty()))
/// }));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Protect<S> {
    inner: S,
    validator: TokenValidator,
    extra_scopes: Arc<[String]>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Protect<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let extra_scopes = Arc::clone(&self.extra_scopes);
        Box::pin(async move {
            let outcome = match bearer_token(request.headers()) {
                Ok(token) => validator.validate_with_scopes(token, &extra_scopes).await,
                Err(err) => Err(err),
            };
            match outcome {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(err) => {
                    tracing::debug!(error = %err, "refused request");
                    Ok(err.to_response(validator.realm()))
                }
            }
        })
    }
}

/// The bearer token of the `Authorization` header (RFC 6750 §2.1).
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthError::MissingToken);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest("more than one Authorization header"));
    }
    let value = value.to_str().map_err(|_| AuthError::InvalidRequest("Authorization header is not ASCII"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Some other scheme: no bearer credentials were offered.
        return Err(AuthError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("empty bearer token"));
    }
    Ok(token)
}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Claims>() {
            Some(claims) => Ok(claims.clone()),
            None => {
                tracing::error!("Claims extracted in a handler that is not behind ProtectLayer");
                Err(AuthError::LayerMissing)
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}
