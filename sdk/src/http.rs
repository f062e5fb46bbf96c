//! Reading HTTP response bodies with a size cap, so a hostile or broken server cannot grow our memory.

/// Largest response body the SDK reads: discovery documents, JWKS and token
/// responses are a few kilobytes; a megabyte leaves room for many keys.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is (or announces itself as) larger than the cap.
    TooLarge,
    /// The connection failed while reading.
    Http(reqwest::Error),
}

/// Reads `response`'s body, refusing at once a `Content-Length` over `limit`
/// and otherwise stopping as soon as the received bytes pass it, so a body
/// that never ends costs at most `limit` bytes of memory.
pub(crate) async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Http)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The HTTP client the builders make when none is given: `timeout` per
/// request, and redirects followed only to URLs the SDK may use (https, or
/// http to loopback), so a redirect cannot downgrade a request to plain http.
pub(crate) fn default_client(timeout: std::time::Duration) -> Result<reqwest::Client, crate::BuildError> {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if crate::error::is_allowed_url(attempt.url().as_str()) {
            attempt.follow()
        } else {
            attempt.error("redirect to a URL that is not https (nor http to a loopback host)")
        }
    });
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(redirects)
        .build()
        .map_err(|e| crate::BuildError::HttpClient(e.to_string()))
}
