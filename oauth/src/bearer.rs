//! Bearer token usage (RFC 6750): reading the token from the
//! `Authorization` header, and the `WWW-Authenticate` challenge that explains
//! a refusal. Shared by Clavis's own endpoints (userinfo) and the SDK's
//! resource-server layer.

/// The `error` codes of RFC 6750 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerErrorCode {
    /// "The request is missing a required parameter, ... or is otherwise
    /// malformed. The resource server SHOULD respond with the HTTP 400".
    InvalidRequest,
    /// "The access token provided is expired, revoked, malformed, or invalid
    /// for other reasons. The resource SHOULD respond with the HTTP 401".
    InvalidToken,
    /// "The request requires higher privileges than provided by the access
    /// token. The resource server SHOULD respond with the HTTP 403".
    InsufficientScope,
}

impl BearerErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerErrorCode::InvalidRequest => "invalid_request",
            BearerErrorCode::InvalidToken => "invalid_token",
            BearerErrorCode::InsufficientScope => "insufficient_scope",
        }
    }

    pub const fn status(self) -> u16 {
        match self {
            BearerErrorCode::InvalidRequest => 400,
            BearerErrorCode::InvalidToken => 401,
            BearerErrorCode::InsufficientScope => 403,
        }
    }
}

/// Why a bearer-protected request was refused. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerError {
    /// `None` when the request offered no bearer credentials at all: RFC 6750
    /// §3.1, "If the request lacks any authentication information ..., the
    /// resource server SHOULD NOT include an error code".
    pub code: Option<BearerErrorCode>,
    /// Fixed text: a description never quotes the request.
    pub description: &'static str,
    /// The scope the resource needs, for `insufficient_scope`.
    pub scope: Option<String>,
}

impl BearerError {
    /// No `Authorization` header, or one with another scheme.
    pub fn missing() -> Self {
        Self { code: None, description: "a bearer access token is required", scope: None }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self { code: Some(BearerErrorCode::InvalidRequest), description, scope: None }
    }

    pub fn invalid_token(description: &'static str) -> Self {
        Self { code: Some(BearerErrorCode::InvalidToken), description, scope: None }
    }

    /// RFC 6750 §3: "The "scope" attribute is a space-delimited list of
    /// case-sensitive scope values indicating the required scope of the
    /// access token for accessing the requested resource."
    pub fn insufficient_scope(description: &'static str, required: &str) -> Self {
        Self { code: Some(BearerErrorCode::InsufficientScope), description, scope: Some(required.to_owned()) }
    }

    /// The HTTP status: 401 for a missing token, otherwise the code's.
    pub fn status(&self) -> u16 {
        self.code.map_or(401, BearerErrorCode::status)
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3), e.g.
    /// `Bearer realm="x", error="invalid_token", error_description="..."`.
    /// Every value is kept within its quoted-string, whatever it held.
    ///
    /// ```
    /// use clavis_oauth::bearer::BearerError;
    ///
    /// let err = BearerError::invalid_token("the \"token\" expired");
    /// assert_eq!(
    ///     err.www_authenticate(None),
    ///     r#"Bearer error="invalid_token", error_description="the token expired""#
    /// );
    /// assert_eq!(BearerError::missing().www_authenticate(Some("api")), r#"Bearer realm="api""#);
    /// ```
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut params: Vec<String> = Vec::with_capacity(4);
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quoted_string(realm)));
        }
        if let Some(code) = self.code {
            params.push(format!("error=\"{}\"", code.as_str()));
            params.push(format!("error_description=\"{}\"", description_chars(self.description)));
        }
        if let Some(scope) = &self.scope {
            params.push(format!("scope=\"{}\"", scope_chars(scope)));
        }
        if params.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", params.join(", ")) }
    }
}

impl std::fmt::Display for BearerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "{}: {}", code.as_str(), self.description),
            None => f.write_str(self.description),
        }
    }
}

impl std::error::Error for BearerError {}

/// The bearer token of a request, given the values of all its
/// `Authorization` headers.
///
/// RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token` with `b64token =
/// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`; the scheme
/// is case-insensitive (RFC 9110 §11.1). §2: "Clients MUST NOT use more
/// than one method to transmit the token in each request", so a second
/// header is refused rather than one of them picked.
///
/// ```
/// use clavis_oauth::bearer::bearer_token;
///
/// assert_eq!(bearer_token([&b"bearer abc.DEF_-~+/=="[..]]), Ok("abc.DEF_-~+/=="));
/// assert_eq!(bearer_token(Vec::<&[u8]>::new()).unwrap_err().code, None);
/// ```
pub fn bearer_token<'a, I>(authorization: I) -> Result<&'a str, BearerError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = authorization.into_iter();
    let Some(value) = values.next() else { return Err(BearerError::missing()) };
    if values.next().is_some() {
        return Err(BearerError::invalid_request("more than one Authorization header"));
    }
    let value = std::str::from_utf8(value)
        .ok()
        .filter(|value| value.is_ascii())
        .ok_or_else(|| BearerError::invalid_request("the Authorization header is not ASCII"))?;
    let value = value.trim_matches([' ', '\t']);
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme offers no bearer credentials (RFC 6750 §3.1).
        return Err(BearerError::missing());
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::invalid_request("the Bearer authorization has no token"));
    }
    if !is_b64token(token) {
        return Err(BearerError::invalid_token("the bearer token is malformed"));
    }
    Ok(token)
}

fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
}

/// RFC 6750 §3: "Values for the "error_description" attribute MUST NOT
/// include characters outside the set %x20-21 / %x23-5B / %x5D-7E."
fn description_chars(text: &str) -> String {
    text.chars().filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)).collect()
}

/// RFC 6750 §3: scope values are `%x21 / %x23-5B / %x5D-7E`, separated by
/// single spaces.
fn scope_chars(text: &str) -> String {
    let tokens = text.split(' ').map(|token| {
        token.chars().filter(|c| matches!(*c as u32, 0x21 | 0x23..=0x5b | 0x5d..=0x7e)).collect::<String>()
    });
    tokens.filter(|token| !token.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The inside of an RFC 9110 §5.6.4 quoted-string: `"` and `\` escaped,
/// anything but visible ASCII, space and tab dropped.
fn quoted_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            ' ' | '\t' | '!'..='~' => quoted.push(c),
            _ => {}
        }
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(values: &[&str]) -> Result<String, BearerError> {
        bearer_token(values.iter().map(|v| v.as_bytes())).map(str::to_owned)
    }

    #[test]
    fn reads_one_bearer_token_in_any_case_of_the_scheme() {
        for header in ["Bearer abc.def.ghi", "bearer abc.def.ghi", "BEARER   abc.def.ghi", " Bearer abc.def.ghi\t"] {
            assert_eq!(token(&[header]).unwrap(), "abc.def.ghi", "{header:?}");
        }
        assert_eq!(token(&["Bearer YWJj+/=="]).unwrap(), "YWJj+/==");
    }

    #[test]
    fn refusals_have_the_rfc6750_codes() {
        let code = |values: &[&str]| token(values).unwrap_err().code;
        assert_eq!(code(&[]), None);
        assert_eq!(code(&["Basic YTpi"]), None);
        assert_eq!(code(&["Bearerabc"]), None);
        assert_eq!(code(&["Bearer a", "Bearer a"]), Some(BearerErrorCode::InvalidRequest));
        assert_eq!(code(&["Bearer"]), Some(BearerErrorCode::InvalidRequest));
        assert_eq!(code(&["Bearer "]), Some(BearerErrorCode::InvalidRequest));
        assert_eq!(code(&["Bearer t\u{e9}"]), Some(BearerErrorCode::InvalidRequest));
        for malformed in ["Bearer a b", "Bearer a,b", "Bearer ===", "Bearer a=b", "Bearer \"a\"", "Bearer a\tb"] {
            assert_eq!(code(&[malformed]), Some(BearerErrorCode::InvalidToken), "{malformed:?}");
        }
        assert_eq!(bearer_token([&b"Bearer \xff"[..]]).unwrap_err().code, Some(BearerErrorCode::InvalidRequest));
    }

    #[test]
    fn statuses_follow_the_codes() {
        assert_eq!(BearerError::missing().status(), 401);
        assert_eq!(BearerError::invalid_request("x").status(), 400);
        assert_eq!(BearerError::invalid_token("x").status(), 401);
        assert_eq!(BearerError::insufficient_scope("x", "openid").status(), 403);
    }

    #[test]
    fn challenges_stay_within_their_quoted_strings() {
        let err = BearerError::insufficient_scope("needs \\more\\ \"scope\"\r\n\u{e9}", "openid \"x\"  profile");
        assert_eq!(
            err.www_authenticate(Some("ten\"ant\\1\r\n")),
            r#"Bearer realm="ten\"ant\\1", error="insufficient_scope", error_description="needs more scope", scope="openid x profile""#
        );
        assert_eq!(
            BearerError::invalid_token("token expired").www_authenticate(None),
            r#"Bearer error="invalid_token", error_description="token expired""#
        );
        assert_eq!(BearerError::missing().www_authenticate(None), "Bearer");
    }

    #[test]
    fn errors_never_repeat_the_token() {
        let err = token(&["Bearer secret-token value"]).unwrap_err();
        assert!(!err.to_string().contains("secret") && !err.www_authenticate(None).contains("secret"));
    }
}
