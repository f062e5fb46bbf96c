//! The tower layer that guards a resource server, and the axum extractor for its claims.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, Response, header};
use tower::{Layer, Service};

use crate::auth_error::AuthError;
use crate::claims::Claims;
use crate::dpop_check;
use crate::validator::TokenValidator;

/// A tower [`Layer`] that lets a request through only with a valid access
/// token, and puts the verified [`Claims`] in the request extensions for the
/// [`Claims`] extractor. Refused requests get RFC 6750 answers: 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` (or bare `Bearer` and
/// `DPoP` challenges when no token was sent), 403 `insufficient_scope`.
///
/// DPoP-bound tokens (RFC 9449) come as `Authorization: DPoP <token>` with
/// exactly one `DPoP` proof header; the layer checks the proof against the
/// request's method and URL (see
/// [`public_url`](crate::TokenValidatorBuilder::public_url) behind a proxy),
/// the token (`ath`) and the token's `cnf.jkt`, its age, and that it was not
/// seen before. A bound token sent as `Bearer`, and an unbound one sent as
/// `DPoP`, are refused; refusals of this kind carry a `DPoP` challenge
/// (`error="invalid_token"` or `error="invalid_dpop_proof"`, with `algs`).
///
/// Scopes per route: [`require_scopes`](Self::require_scopes) gives a layer
/// that also requires those scopes; put it on one route (or one method of a
/// route) with axum's `route_layer`. Here `GET /orders` needs `read` and
/// `POST /orders` needs `write`, and a token with only `read` gets 403
/// `insufficient_scope` from the POST:
///
/// ```no_run
/// use axum::{Router, routing::{get, post}};
/// use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
///
/// # fn run() -> Result<(), clavis_sdk::BuildError> {
/// let validator = TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").audience("orders-api").build()?;
/// let protect = ProtectLayer::new(validator);
/// let app: Router = Router::new()
///     .route("/orders", get(|c: Claims| async move { c.sub }).route_layer(protect.clone().require_scopes(["read"])))
///     .route("/orders", post(|c: Claims| async move { c.sub }).route_layer(protect.clone().require_scopes(["write"])))
///     .route("/health", get(|| async { "ok" }));
/// # Ok(()) }
/// ```
///
/// A layer over the whole router and a stricter one on a route work
/// together: a token that a layer of the same validator already verified for
/// this request is not verified again, only its scopes are checked.
///
/// ```no_run
/// # use axum::{Router, routing::{get, delete}};
/// # use clavis_sdk::{Claims, ProtectLayer};
/// # fn run(protect: ProtectLayer) {
/// let app: Router = Router::new()
///     .route("/orders", get(|c: Claims| async move { c.sub }))
///     .route("/orders/{id}", delete(|c: Claims| async move { c.sub }).route_layer(protect.clone().require_scopes(["admin"])))
///     .layer(protect);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ProtectLayer {
    validator: TokenValidator,
    extra_scopes: Arc<[String]>,
}

impl ProtectLayer {
    /// A layer that validates with `validator` (clones share its key cache)
    /// and requires the validator's scopes.
    ///
    /// ```
    /// # fn run() -> Result<(), clavis_sdk::BuildError> {
    /// let layer = clavis_sdk::ProtectLayer::new(
    ///     clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").audience("api").build()?,
    /// );
    /// # Ok(()) }
    /// ```
    pub fn new(validator: TokenValidator) -> Self {
        Self { validator, extra_scopes: Arc::from(Vec::new()) }
    }

    /// The same layer, also requiring every one of `scopes` (on top of the
    /// validator's and of those required before), for the routes it is put
    /// on. A token that lacks one gets 403 `insufficient_scope` naming the
    /// scopes the route needs.
    ///
    /// ```
    /// # fn run(layer: clavis_sdk::ProtectLayer) {
    /// let writers = layer.clone().require_scopes(["write"]);
    /// assert_eq!(writers.required_scopes(), ["write"]);
    /// # }
    /// ```
    pub fn require_scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = self.extra_scopes.to_vec();
        for scope in scopes.into_iter().map(Into::into) {
            if !all.contains(&scope) {
                all.push(scope);
            }
        }
        Self { validator: self.validator, extra_scopes: Arc::from(all) }
    }

    /// The scopes this layer requires on top of its validator's.
    ///
    /// ```
    /// # fn run(layer: clavis_sdk::ProtectLayer) {
    /// assert!(layer.required_scopes().is_empty());
    /// # }
    /// ```
    pub fn required_scopes(&self) -> &[String] {
        &self.extra_scopes
    }

    /// The validator this layer checks tokens with.
    ///
    /// ```
    /// # fn run(layer: clavis_sdk::ProtectLayer) {
    /// println!("tokens of {}", layer.validator().issuer());
    /// # }
    /// ```
    pub fn validator(&self) -> &TokenValidator {
        &self.validator
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
            let outcome = match request.extensions().get::<Verified>() {
                // An outer layer of this validator verified the token for this
                // request: the signature and claims hold, only scopes differ.
                Some(verified) if verified.by.is_same(&validator) => {
                    validator.check_scopes(&verified.claims, &extra_scopes).map(|()| None)
                }
                _ => match dpop_check::dpop_token(request.headers()) {
                    Ok(Some(token)) => match dpop_request(&validator, &request) {
                        Ok((proof, method, url)) => {
                            let token = token.to_owned();
                            validator.validate_dpop(&token, &proof, &method, &url, &extra_scopes).await.map(Some)
                        }
                        Err(err) => Err(err),
                    },
                    Ok(None) => match bearer_token(request.headers()) {
                        Ok(token) => validator.validate_with_scopes(token, &extra_scopes).await.map(Some),
                        Err(err) => Err(err),
                    },
                    Err(err) => Err(err),
                },
            };
            match outcome {
                Ok(fresh) => {
                    if let Some(claims) = fresh {
                        request.extensions_mut().insert(claims.clone());
                        request.extensions_mut().insert(Verified { by: validator, claims });
                    }
                    inner.call(request).await
                }
                Err(err) => {
                    tracing::debug!(error = %err, "refused request");
                    let dpop = matches!(err, AuthError::InvalidDpopProof(_) | AuthError::InvalidDpopToken(_))
                        || matches!(dpop_check::dpop_token(request.headers()), Ok(Some(_)));
                    Ok(err.respond(validator.realm(), dpop, true))
                }
            }
        })
    }
}

/// What a [`Protect`] verified for this request, kept apart from the public
/// [`Claims`] extension (which any middleware may replace) so that an inner
/// layer trusts only what a layer of the same validator checked.
#[derive(Clone)]
struct Verified {
    by: TokenValidator,
    claims: Claims,
}

/// What a DPoP-bound token is checked against: the request's one proof,
/// its method and its URL (the full path, also under a nested router).
/// Read before any await, so that the request body need not be `Sync`.
fn dpop_request<B>(validator: &TokenValidator, request: &Request<B>) -> Result<(String, String, String), AuthError> {
    let proof = dpop_check::proof_header(request.headers())?.to_owned();
    let uri = request.extensions().get::<OriginalUri>().map_or(request.uri(), |original| &original.0);
    let url = validator
        .dpop_checker()
        .request_url(uri, request.headers())
        .ok_or(AuthError::InvalidDpopProof("the request URL is unknown: no Host header"))?;
    Ok((proof, request.method().as_str().to_owned(), url))
}

/// The bearer token of the `Authorization` header (RFC 6750 §2.1), by the
/// same rules as Clavis's own endpoints.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let values = headers.get_all(header::AUTHORIZATION).iter().map(HeaderValue::as_bytes);
    clavis_oauth::bearer::bearer_token(values).map_err(AuthError::from)
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
