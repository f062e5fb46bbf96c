//! Client authentication syntax: `client_secret_basic`, `client_secret_post`
//! and a JWT client assertion (RFC 7523 §2.2: `private_key_jwt`, or a
//! federated workload-identity token). What an assertion must say is
//! `client_assertion`'s; here is only which method a request used.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::OAuthError;
use super::params::Params;

/// How the client presented its credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A JWT assertion (`client_assertion_type` jwt-bearer), signed by the
    /// client's own key or by a trusted workload-identity issuer.
    JwtAssertion,
}

impl AuthMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::JwtAssertion => "private_key_jwt",
        }
    }
}

/// RFC 7523 §2.2: "The value of the "client_assertion_type" is
/// "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"."
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the client presented to prove who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientProof {
    /// A client secret (Basic or in the body).
    Secret(String),
    /// A JWT client assertion, not yet verified.
    Assertion(String),
}

/// A client ID and its proof as presented; the proof is redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The `client_id` sent, or for an assertion sent without one, the
    /// assertion's (unverified) `sub`.
    pub client_id: String,
    pub proof: ClientProof,
    pub method: AuthMethod,
}

impl ClientCredentials {
    /// The secret presented, if the proof is one.
    pub fn secret(&self) -> Option<&str> {
        match &self.proof {
            ClientProof::Secret(secret) => Some(secret),
            ClientProof::Assertion(_) => None,
        }
    }
}

impl std::fmt::Debug for ClientProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientProof::Secret(_) => "Secret(<redacted>)",
            ClientProof::Assertion(_) => "Assertion(<redacted>)",
        })
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("proof", &self.proof)
            .field("method", &self.method)
            .finish()
    }
}

/// Parses an `Authorization` header value carrying HTTP Basic credentials.
///
/// RFC 6749 §2.3.1: "The client identifier is encoded using the
/// "application/x-www-form-urlencoded" encoding algorithm per Appendix B, and
/// the encoded value is used as the username; the client password is encoded
/// using the same algorithm and used as the password."
pub fn parse_basic(header: &[u8]) -> Result<ClientCredentials, OAuthError> {
    let malformed = || OAuthError::invalid_request("malformed Basic authorization header");
    let header = std::str::from_utf8(header).map_err(|_| malformed())?;
    let (scheme, rest) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client("only the Basic authentication scheme is supported here")
            .with_basic_challenge(true));
    }
    let encoded = rest.trim();
    let mut buffer = [0u8; BASIC_BUFFER];
    let mut spilled = Vec::new();
    let decoded = decode_credentials(encoded, &mut buffer, &mut spilled).ok_or_else(malformed)?;
    let decoded = std::str::from_utf8(decoded).map_err(|_| malformed())?;
    let (raw_id, raw_secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let client_id = form_decode(raw_id).ok_or_else(malformed)?;
    let client_secret = form_decode(raw_secret).ok_or_else(malformed)?;
    if client_id.is_empty() || client_secret.is_empty() {
        return Err(OAuthError::invalid_client("client authentication failed").with_basic_challenge(true));
    }
    Ok(ClientCredentials {
        client_id,
        proof: ClientProof::Secret(client_secret),
        method: AuthMethod::ClientSecretBasic,
    })
}

/// Basic credentials up to this many bytes are decoded on the stack.
const BASIC_BUFFER: usize = 256;

/// Decodes the base64 of Basic credentials, padded or not: into `buffer`
/// when they fit (a client ID and a generated secret do, so the usual
/// request allocates nothing here), else into `spilled`.
fn decode_credentials<'b>(
    encoded: &str,
    buffer: &'b mut [u8; BASIC_BUFFER],
    spilled: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    if base64::decoded_len_estimate(encoded.len()) <= BASIC_BUFFER {
        let len =
            STANDARD.decode_slice(encoded, buffer).or_else(|_| STANDARD_NO_PAD.decode_slice(encoded, buffer)).ok()?;
        return buffer.get(..len);
    }
    *spilled = STANDARD.decode(encoded).or_else(|_| STANDARD_NO_PAD.decode(encoded)).ok()?;
    Some(spilled)
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(component: &str) -> Option<String> {
    // The form encoding of an ASCII component with no escape, no `+` and no
    // `&` is the component itself (the usual client ID and secret), and
    // holds no replacement character: no decoding, one pass that vectorises.
    let plain = component
        .bytes()
        .fold(true, |plain, byte| plain & byte.is_ascii() & (byte != b'%') & (byte != b'+') & (byte != b'&'));
    if plain {
        return Some(component.to_owned());
    }
    let bytes: Vec<u8> = form_urlencoded::parse(format!("v={component}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned().into_bytes())
        .unwrap_or_default();
    let text = String::from_utf8(bytes).ok()?;
    (!text.contains('\u{FFFD}')).then_some(text)
}

/// Picks the one authentication method a request used.
///
/// RFC 6749 §2.3: "The client MUST NOT use more than one authentication
/// method in each request." A refusal of a request that carried Basic
/// credentials carries the Basic challenge (RFC 6749 §5.2).
pub fn authenticate_request(
    basic: Option<ClientCredentials>,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let used_basic = basic.is_some();
    pick_method(basic, params).map_err(|err| err.with_basic_challenge(used_basic))
}

fn pick_method(basic: Option<ClientCredentials>, params: &Params) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let assertion_type = params.get("client_assertion_type");
    let assertion = params.get("client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        if basic.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client used more than one authentication method (a client assertion and a secret)",
            ));
        }
        return assertion_credentials(body_id, assertion_type, assertion);
    }
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "the client used more than one authentication method (Basic and client_secret in the body)",
        )),
        (Some(basic), Some(id), None) if id != basic.client_id => {
            Err(OAuthError::invalid_request("client_id in the body does not match the Basic credentials"))
        }
        (Some(basic), _, None) => Ok(basic),
        (None, Some(id), Some(secret)) => Ok(ClientCredentials {
            client_id: id.to_owned(),
            proof: ClientProof::Secret(secret.to_owned()),
            method: AuthMethod::ClientSecretPost,
        }),
        (None, Some(_), None) => Err(OAuthError::invalid_client("client_secret is missing")),
        (None, None, Some(_)) => Err(OAuthError::invalid_request("client_id is missing")),
        (None, None, None) => Err(OAuthError::invalid_client(
            "client authentication is required (HTTP Basic or client_id and client_secret)",
        )),
    }
}

/// RFC 7521 §4.2: "client_assertion_type REQUIRED ... client_assertion
/// REQUIRED ... client_id OPTIONAL", and RFC 7523 §3: for client
/// authentication the "sub" "MUST be the "client_id" of the OAuth client",
/// which names the client when `client_id` was left out.
fn assertion_credentials(
    body_id: Option<&str>,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    match assertion_type {
        Some(CLIENT_ASSERTION_TYPE_JWT_BEARER) => {}
        Some(_) => {
            return Err(OAuthError::invalid_client(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        None => return Err(OAuthError::invalid_client("client_assertion_type is missing")),
    }
    let assertion = assertion
        .filter(|assertion| !assertion.is_empty())
        .ok_or_else(|| OAuthError::invalid_client("client_assertion is missing"))?;
    let client_id = match body_id {
        Some(id) => id.to_owned(),
        None => unverified_subject(assertion)
            .ok_or_else(|| OAuthError::invalid_client("client_id is missing and the assertion names no sub"))?,
    };
    Ok(ClientCredentials {
        client_id,
        proof: ClientProof::Assertion(assertion.to_owned()),
        method: AuthMethod::JwtAssertion,
    })
}

/// The `sub` of a JWS's payload, read without verifying anything: it only
/// says which client's keys to verify with.
fn unverified_subject(assertion: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Subject {
        sub: String,
    }
    let payload = assertion.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let subject: Subject = serde_json::from_slice(&json).ok()?;
    (!subject.sub.is_empty()).then_some(subject.sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(value: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(value)).into_bytes()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let creds = parse_basic(&basic("my%20app:s3cr%2Bt+x")).unwrap();
        assert_eq!(creds.client_id, "my app");
        assert_eq!(creds.proof, ClientProof::Secret("s3cr+t x".to_owned()));
        assert_eq!(creds.method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn short_and_long_credentials_decode_padded_or_not() {
        // Around the stack buffer's size, and far past it.
        for secret_len in [1, 40, 200, 250, 251, 252, 253, 254, 255, 256, 300, 4000] {
            let secret = "s".repeat(secret_len);
            let padded = basic(&format!("id:{secret}"));
            let unpadded = format!("Basic {}", STANDARD_NO_PAD.encode(format!("id:{secret}")));
            for header in [padded, unpadded.into_bytes()] {
                let creds = parse_basic(&header).unwrap();
                assert_eq!(creds.client_id, "id");
                assert_eq!(creds.proof, ClientProof::Secret(secret.clone()), "{secret_len}");
            }
        }
        // A non-ASCII component takes the decoder, and keeps its text.
        let creds = parse_basic(&basic("app:sécret")).unwrap();
        assert_eq!(creds.proof, ClientProof::Secret("sécret".to_owned()));
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let header = format!("bAsIc {}", STANDARD.encode("a:b"));
        assert_eq!(parse_basic(header.as_bytes()).unwrap().client_id, "a");
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [&b"Basic"[..], b"Basic !!!", b"Basic \xff", b"Basic YWJj", b"Bearer abc"] {
            let err = parse_basic(header).unwrap_err();
            assert!(err.status == 400 || err.status == 401, "{header:?}");
        }
        assert_eq!(parse_basic(&basic(":secret")).unwrap_err().status, 401);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let creds = parse_basic(&basic("id:topsecretvalue")).unwrap();
        assert!(!format!("{creds:?}").contains("topsecretvalue"));
    }

    #[test]
    fn only_one_method_per_request() {
        let params = Params::from_form(b"client_id=a&client_secret=b").unwrap();
        let basic_creds = parse_basic(&basic("a:b")).ok();
        assert_eq!(authenticate_request(basic_creds.clone(), &params).unwrap_err().code.as_str(), "invalid_request");
        let id_only = Params::from_form(b"client_id=a").unwrap();
        assert!(authenticate_request(basic_creds.clone(), &id_only).is_ok());
        let other_id = Params::from_form(b"client_id=z").unwrap();
        assert!(authenticate_request(basic_creds, &other_id).is_err());
        assert_eq!(authenticate_request(None, &Params::default()).unwrap_err().status, 401);
        let post = authenticate_request(None, &params).unwrap();
        assert_eq!(post.method, AuthMethod::ClientSecretPost);
    }

    #[test]
    fn a_client_assertion_is_one_method_and_names_its_client() {
        const TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
        // {"sub":"app-1"} as a payload; header and signature are not read here.
        let jwt =
            format!("e30.{}.c2ln", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"app-1"}"#));
        let form = |extra: &str| {
            Params::from_form(format!("client_assertion_type={TYPE}&client_assertion={jwt}{extra}").as_bytes()).unwrap()
        };
        let creds = authenticate_request(None, &form("")).unwrap();
        assert_eq!((creds.client_id.as_str(), creds.method), ("app-1", AuthMethod::JwtAssertion));
        assert_eq!(creds.proof, ClientProof::Assertion(jwt.clone()));
        assert_eq!(authenticate_request(None, &form("&client_id=other")).unwrap().client_id, "other");
        assert!(!format!("{creds:?}").contains(&jwt));
        let both = authenticate_request(None, &form("&client_secret=s")).unwrap_err();
        assert_eq!(both.code.as_str(), "invalid_request");
        assert_eq!(
            authenticate_request(parse_basic(&basic("a:b")).ok(), &form("")).unwrap_err().code.as_str(),
            "invalid_request"
        );
        for body in [
            format!("client_assertion={jwt}"),
            format!("client_assertion_type=urn%3Aother&client_assertion={jwt}"),
            format!("client_assertion_type={TYPE}"),
            format!("client_assertion_type={TYPE}&client_assertion=not-a-jwt"),
        ] {
            let err = authenticate_request(None, &Params::from_form(body.as_bytes()).unwrap()).unwrap_err();
            assert_eq!((err.status, err.code.as_str()), (401, "invalid_client"), "{body}");
        }
    }
}
