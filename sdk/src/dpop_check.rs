//! The resource server's side of DPoP (RFC 9449 §7): the URL a proof must name, the proof check, and a bounded replay cache of spent `jti`s.

use std::convert::Infallible;
use std::fmt;

use aws_lc_rs::digest;
use axum::http::{HeaderMap, Uri};
use clavis_oauth::dpop::{self, DpopError, Expected, ProofAlg};

use crate::auth_error::AuthError;

/// How many spent proofs a validator remembers by default. A proof's `jti`
/// must be remembered only while the proof is fresh (about a minute), so
/// this covers some 1,600 requests a second with DPoP per validator.
pub(crate) const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// The `algs` of a `DPoP` challenge (RFC 9449 §7.1): the proof algorithms
/// the checker accepts.
pub(crate) fn algs() -> String {
    ProofAlg::ALL.iter().map(|alg| alg.name()).collect::<Vec<_>>().join(" ")
}

/// Proof checking for one validator: where the service is reached from
/// outside, and the proofs already seen.
pub(crate) struct DpopChecker {
    /// The service's external base URL, without a trailing slash.
    public_url: Option<String>,
    /// `SHA-256(jkt, jti)` → (when the entry may be forgotten, who wrote it).
    ///
    /// quick_cache, as Clavis's own caches: bounded, single-entry eviction,
    /// and an atomic get-or-insert, so two copies of a proof racing each
    /// other cannot both pass.
    seen: quick_cache::sync::Cache<[u8; 32], (i64, u64)>,
}

impl fmt::Debug for DpopChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopChecker")
            .field("public_url", &self.public_url)
            .field("replay_capacity", &self.seen.capacity())
            .finish_non_exhaustive()
    }
}

impl DpopChecker {
    pub(crate) fn new(public_url: Option<String>, replay_capacity: usize) -> Self {
        Self { public_url, seen: quick_cache::sync::Cache::new(replay_capacity.max(1)) }
    }

    /// The URL the client addressed: the configured external base URL and
    /// the request's path, or else the request's own scheme (http when it
    /// names none) and host. The full path comes from axum's `OriginalUri`
    /// when a router nested the service.
    pub(crate) fn request_url(&self, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        let path = uri.path();
        if let Some(base) = &self.public_url {
            return Some(format!("{base}{path}"));
        }
        let scheme = uri.scheme_str().unwrap_or("http");
        let host = match uri.authority() {
            Some(authority) => authority.as_str().to_owned(),
            None => headers.get(axum::http::header::HOST)?.to_str().ok()?.to_owned(),
        };
        Some(format!("{scheme}://{host}{path}"))
    }

    /// Checks `proof` for a request of `method` to `url` presenting `token`
    /// bound to `jkt`, at `now` (Unix seconds), and spends its `jti`.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        token: &str,
        jkt: &str,
        now: i64,
    ) -> Result<(), AuthError> {
        let expected = Expected { htm: method, htu: url, nonces: None, access_token: Some(token) };
        let verified = dpop::verify(proof, &expected, now).map_err(|e| AuthError::InvalidDpopProof(describe(e)))?;
        // RFC 9449 §7.1: the resource server must "ensure that the public
        // key to which the access token is bound matches the public key
        // from the DPoP proof".
        if verified.jkt != jkt {
            return Err(AuthError::InvalidDpopProof("DPoP proof key does not match the token's cnf.jkt"));
        }
        // RFC 9449 §11.1: a proof seen before is a replay. Remembered until
        // it would be stale anyway, after which `dpop::verify` refuses it.
        let forget_at = verified.iat.saturating_add(dpop::MAX_AGE_SECS);
        let mut key = digest::Context::new(&digest::SHA256);
        key.update(verified.jkt.as_bytes());
        key.update(&[0]);
        key.update(verified.jti.as_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(key.finish().as_ref());
        let mine = rand::random::<u64>();
        let Ok((seen_until, writer)) = self.seen.get_or_insert_with(&id, || Ok::<_, Infallible>((forget_at, mine)));
        if writer == mine {
            return Ok(());
        }
        if seen_until > now {
            return Err(AuthError::InvalidDpopProof("DPoP proof was already used"));
        }
        self.seen.insert(id, (forget_at, mine));
        Ok(())
    }
}

/// The proof checker's fixed descriptions, as `&'static str` for the answer.
fn describe(error: DpopError) -> &'static str {
    match error {
        DpopError::Multiple => "only one DPoP header is allowed",
        DpopError::TooLarge => "DPoP proof is too large",
        DpopError::Malformed => "DPoP proof is not a JWT",
        DpopError::WrongType => "DPoP proof typ must be dpop+jwt",
        DpopError::AlgNotAllowed => "DPoP proof algorithm not allowed",
        DpopError::Critical => "DPoP proof has an unsupported critical header",
        DpopError::MissingJwk => "DPoP proof has no public jwk",
        DpopError::PrivateKey => "DPoP proof jwk must not contain a private key",
        DpopError::BadKey => "DPoP proof jwk is not a usable public key",
        DpopError::KeyAlgMismatch => "DPoP proof jwk does not match its algorithm",
        DpopError::BadSignature => "DPoP proof signature is invalid",
        DpopError::BadClaims => "DPoP proof claims are malformed",
        DpopError::BadJti => "DPoP proof has no valid jti",
        DpopError::WrongMethod => "DPoP proof htm does not match the request method",
        DpopError::WrongUrl => "DPoP proof htu does not match the request URL",
        DpopError::MissingIat => "DPoP proof has no iat",
        DpopError::Stale => "DPoP proof is too old",
        DpopError::Future => "DPoP proof iat is in the future",
        DpopError::WrongAth => "DPoP proof ath does not match the access token",
        DpopError::UseNonce => "a DPoP nonce is required",
    }
}

/// The one `DPoP` header of a request (RFC 9449 §4.3 point 1).
pub(crate) fn proof_header(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = Vec::with_capacity(1);
    for value in headers.get_all("dpop") {
        values.push(value.to_str().map_err(|_| AuthError::InvalidDpopProof("DPoP proof is not a JWT"))?);
    }
    match dpop::single(values.into_iter()) {
        Ok(Some(proof)) => Ok(proof.trim()),
        Ok(None) => Err(AuthError::InvalidDpopProof("a DPoP proof header is required with the DPoP scheme")),
        Err(e) => Err(AuthError::InvalidDpopProof(describe(e))),
    }
}

/// The request's `Authorization`: `Some(token)` for the `DPoP` scheme
/// (RFC 9449 §7.1: `DPoP token68`, the scheme case-insensitive), `None` for
/// anything else (read as Bearer by the caller).
pub(crate) fn dpop_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return Ok(None) };
    let Ok(value) = value.to_str() else { return Ok(None) };
    let value = value.trim_matches([' ', '\t']);
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("dpop") {
        return Ok(None);
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("the DPoP authorization has no token"));
    }
    let body = token.trim_end_matches('=');
    let token68 = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'));
    if !token68 {
        return Err(AuthError::InvalidDpopToken("the DPoP access token is malformed"));
    }
    Ok(Some(token))
}
