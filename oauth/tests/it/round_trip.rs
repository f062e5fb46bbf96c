//! Valid requests built by generators parse back to exactly what was sent,
//! whichever body format and client authentication method carried them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use clavis_oauth::client_auth::{AuthMethod, ClientCredentials, ClientProof, parse_basic};
use clavis_oauth::params::Params;
use clavis_oauth::request::{OAuthRequest, RawRequest};
use clavis_oauth::token_request::{self, GrantRequest, PasswordRequest, RefreshRequest, TokenRequest};
use proptest::prelude::*;

use crate::strategies::{
    MultipartStyle, config, form_encode, known_media_type, multipart_encode, multipart_style, non_empty_text,
    percent_encode_all, text,
};

/// A form body in one of the spellings a client may choose.
fn form_body(pairs: &[(String, String)], escape_everything: bool) -> Vec<u8> {
    if escape_everything {
        let parts: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", percent_encode_all(name), percent_encode_all(value)))
            .collect();
        parts.join("&").into_bytes()
    } else {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
    }
}

/// A JSON object body, keys in the order given (repeated names become one
/// array, the form RFC 8707's repeatable `resource` takes in JSON).
fn json_body(pairs: &[(String, String)]) -> Vec<u8> {
    let mut members: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in pairs {
        match members.iter_mut().find(|(known, _)| known == name) {
            Some((_, values)) => values.push(value.clone()),
            None => members.push((name.clone(), vec![value.clone()])),
        }
    }
    let fields: Vec<String> = members
        .iter()
        .map(|(name, values)| {
            let value = match values.as_slice() {
                [one] if name != "resource" => serde_json::to_string(one).unwrap(),
                many => serde_json::to_string(many).unwrap(),
            };
            format!("{}:{value}", serde_json::to_string(name).unwrap())
        })
        .collect();
    format!("{{{}}}", fields.join(",")).into_bytes()
}

fn basic_header(client_id: &str, client_secret: &str, escape_everything: bool, padded: bool, scheme: &str) -> Vec<u8> {
    let encode = if escape_everything { percent_encode_all } else { form_encode };
    let user_pass = format!("{}:{}", encode(client_id), encode(client_secret));
    let payload = if padded { STANDARD.encode(user_pass) } else { STANDARD_NO_PAD.encode(user_pass) };
    format!("{scheme} {payload}").into_bytes()
}

/// Distinct parameter names with any values, the empty value included.
fn distinct_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::hash_map(text(12), text(40), 0..12).prop_map(|map| map.into_iter().collect())
}

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![Just("Basic".to_owned()), Just("basic".to_owned()), Just("BASIC".to_owned())]
}

fn client_id() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", non_empty_text(40)]
}

/// RFC 6749 §3.3's `scope-token`.
fn scope_token() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,20}"
}

/// An `audience` value: any text without control characters.
fn audience() -> impl Strategy<Value = String> {
    "\\PC{1,40}".prop_filter("no U+FFFD, not one of the resources", |value| {
        !value.contains('\u{FFFD}') && !value.starts_with("https://r-")
    })
}

fn resources() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::hash_set("https://r-[a-z]{1,8}\\.example/[a-z0-9]{0,8}", 0..9)
        .prop_map(|set| set.into_iter().collect())
}

/// Distinct parameter names that a multipart field name can carry: no line
/// breaks (a header line cannot hold them) and no `%`, which WHATWG's
/// escaping makes ambiguous (`%22` is a quote).
fn multipart_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = non_empty_text(12).prop_filter("fits in a header line", |name| !name.contains(['\r', '\n', '%']));
    proptest::collection::hash_map(name, text(40), 0..12).prop_map(|map| map.into_iter().collect())
}

/// RFC 2046 §5.1.1: `boundary := 0*69<bchars> bcharsnospace`.
fn boundary() -> impl Strategy<Value = String> {
    "[0-9A-Za-z'()+_,./:=? -]{0,40}[0-9A-Za-z'()+_,./:=?-]"
}

/// The `Content-Type` of a multipart body: the boundary quoted when it
/// must be, and at times when it need not.
fn multipart_content_type(boundary: &str, quote: bool) -> String {
    let token = boundary.bytes().all(|b| b.is_ascii_alphanumeric() || b"'+_.-".contains(&b));
    if quote || !token {
        format!("multipart/form-data; boundary=\"{boundary}\"")
    } else {
        format!("multipart/form-data; boundary={boundary}")
    }
}

/// A body in the chosen format: 0 form, 1 JSON, 2 multipart; with its
/// `Content-Type`.
fn encode(pairs: &[(String, String)], format: u8, style: &MultipartStyle) -> (String, Vec<u8>) {
    match format {
        0 => ("application/x-www-form-urlencoded".to_owned(), form_body(pairs, style.percent_escapes)),
        1 => ("application/json".to_owned(), json_body(pairs)),
        _ => {
            let boundary = "------------------------c0ffee0ddba11";
            (multipart_content_type(boundary, style.preamble), multipart_encode(pairs, boundary, style))
        }
    }
}

fn client_pairs(grant: &str, client_id: &str, client_secret: &str, use_basic: bool) -> Vec<(String, String)> {
    let mut pairs = vec![("grant_type".to_owned(), grant.to_owned())];
    if !use_basic {
        pairs.push(("client_id".to_owned(), client_id.to_owned()));
        pairs.push(("client_secret".to_owned(), client_secret.to_owned()));
    }
    pairs
}

fn parse_grant(
    pairs: &[(String, String)],
    format: u8,
    style: &MultipartStyle,
    basic: Option<(&str, &str)>,
) -> Result<GrantRequest, clavis_oauth::OAuthError> {
    let (content_type, body) = encode(pairs, format, style);
    let authorization = basic.map(|(id, secret)| basic_header(id, secret, false, true, "Basic"));
    let raw = RawRequest {
        authorization: authorization.as_deref(),
        several_authorizations: false,
        content_type: Some(content_type.as_bytes()),
        body: Some(&body),
        dpop: None,
        several_dpops: false,
    };
    let request = OAuthRequest::parse(&raw)?;
    token_request::parse_grant(&request.params, request.basic)
}

/// A username the password grant accepts: no control characters.
fn username() -> impl Strategy<Value = String> {
    "\\PC{1,60}".prop_filter("no U+FFFD", |name| !name.contains('\u{FFFD}'))
}

proptest! {
    #![proptest_config(config())]

    /// RFC 7578 bodies, in the spellings of curl, browsers and Node, give
    /// exactly the parameters the same fields give as a form.
    #[test]
    fn parameters_round_trip_through_multipart(
        pairs in multipart_pairs(),
        boundary in boundary(),
        quote in any::<bool>(),
        style in multipart_style(),
    ) {
        let delimiter = format!("\r\n--{boundary}");
        prop_assume!(pairs.iter().all(|(_, value)| !value.contains(&delimiter)));
        let content_type = multipart_content_type(&boundary, quote);
        let body = multipart_encode(&pairs, &boundary, &style);
        let raw = RawRequest { authorization: None, several_authorizations: false, content_type: Some(content_type.as_bytes()), body: Some(&body), dpop: None, several_dpops: false };
        let multipart = OAuthRequest::parse(&raw).unwrap().params;
        prop_assert_eq!(multipart, Params::from_form(&form_body(&pairs, false)).unwrap());
    }

    #[test]
    fn password_requests_round_trip(
        client_id in client_id(),
        client_secret in non_empty_text(60),
        username in username(),
        password in non_empty_text(80),
        scope in proptest::option::of(proptest::collection::hash_set(scope_token(), 1..6)),
        audience in proptest::option::of(audience()),
        use_basic in any::<bool>(),
        format in 0..3u8,
        style in multipart_style(),
    ) {
        let scope: Option<Vec<String>> = scope.map(|set| set.into_iter().collect());
        let mut pairs = client_pairs("password", &client_id, &client_secret, use_basic);
        pairs.push(("username".to_owned(), username.clone()));
        pairs.push(("password".to_owned(), password.clone()));
        if let Some(scope) = &scope {
            pairs.push(("scope".to_owned(), scope.join(" ")));
        }
        if let Some(audience) = &audience {
            pairs.push(("audience".to_owned(), audience.clone()));
        }
        let basic = use_basic.then_some((client_id.as_str(), client_secret.as_str()));
        let parsed = parse_grant(&pairs, format, &style, basic).unwrap();
        let method = if use_basic { AuthMethod::ClientSecretBasic } else { AuthMethod::ClientSecretPost };
        let expected = PasswordRequest {
            credentials: ClientCredentials { client_id, proof: ClientProof::Secret(client_secret), method },
            username,
            password,
            scope,
            audiences: audience.into_iter().collect(),
        };
        prop_assert_eq!(parsed, GrantRequest::Password(expected));
    }

    #[test]
    fn refresh_requests_round_trip(
        client_id in client_id(),
        client_secret in non_empty_text(60),
        refresh_token in "[ -~]{1,120}",
        scope in proptest::option::of(proptest::collection::hash_set(scope_token(), 1..6)),
        use_basic in any::<bool>(),
        format in 0..3u8,
        style in multipart_style(),
    ) {
        let scope: Option<Vec<String>> = scope.map(|set| set.into_iter().collect());
        let mut pairs = client_pairs("refresh_token", &client_id, &client_secret, use_basic);
        pairs.push(("refresh_token".to_owned(), refresh_token.clone()));
        if let Some(scope) = &scope {
            pairs.push(("scope".to_owned(), scope.join(" ")));
        }
        let basic = use_basic.then_some((client_id.as_str(), client_secret.as_str()));
        let parsed = parse_grant(&pairs, format, &style, basic).unwrap();
        let method = if use_basic { AuthMethod::ClientSecretBasic } else { AuthMethod::ClientSecretPost };
        let credentials = ClientCredentials { client_id, proof: ClientProof::Secret(client_secret), method };
        prop_assert_eq!(parsed, GrantRequest::RefreshToken(RefreshRequest { credentials, refresh_token, scope }));
    }

    #[test]
    fn parameters_round_trip_through_form_and_json(pairs in distinct_pairs()) {
        let plain = Params::from_form(&form_body(&pairs, false)).unwrap();
        let escaped = Params::from_form(&form_body(&pairs, true)).unwrap();
        let json = Params::from_json(&json_body(&pairs)).unwrap();
        prop_assert_eq!(&plain, &escaped);
        prop_assert_eq!(&plain, &json);
        for (name, value) in &pairs {
            // RFC 6749 §3.1: a parameter without a value counts as omitted.
            let expected = (!value.is_empty()).then_some(value.as_str());
            prop_assert_eq!(plain.get(name), expected, "{:?}", name);
        }
    }

    #[test]
    fn repeated_resources_round_trip_in_order(resources in resources()) {
        let pairs: Vec<(String, String)> = resources.iter().map(|r| ("resource".to_owned(), r.clone())).collect();
        for params in [Params::from_form(&form_body(&pairs, false)).unwrap(), Params::from_json(&json_body(&pairs)).unwrap()] {
            prop_assert_eq!(params.all("resource").collect::<Vec<_>>(), resources.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    /// RFC 6749 §2.3.1: id and secret are form-encoded before Basic joins
    /// them, so a `:` or `%` or any non-ASCII character in either survives.
    #[test]
    fn basic_credentials_round_trip(
        client_id in non_empty_text(40),
        client_secret in non_empty_text(60),
        escape_everything in any::<bool>(),
        padded in any::<bool>(),
        scheme in scheme(),
    ) {
        let header = basic_header(&client_id, &client_secret, escape_everything, padded, &scheme);
        let parsed = parse_basic(&header).unwrap();
        prop_assert_eq!(parsed, ClientCredentials { client_id, proof: ClientProof::Secret(client_secret), method: AuthMethod::ClientSecretBasic });
    }

    #[test]
    fn token_requests_round_trip(
        client_id in client_id(),
        client_secret in non_empty_text(60),
        scope in proptest::option::of(proptest::collection::hash_set(scope_token(), 1..6)),
        audience in proptest::option::of(audience()),
        resources in resources(),
        use_basic in any::<bool>(),
        use_json in any::<bool>(),
        escape_everything in any::<bool>(),
        media_type in known_media_type(),
    ) {
        let scope: Option<Vec<String>> = scope.map(|set| set.into_iter().collect());
        let mut pairs = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
        if !use_basic {
            pairs.push(("client_id".to_owned(), client_id.clone()));
            pairs.push(("client_secret".to_owned(), client_secret.clone()));
        }
        if let Some(scope) = &scope {
            pairs.push(("scope".to_owned(), scope.join(" ")));
        }
        if let Some(audience) = &audience {
            pairs.push(("audience".to_owned(), audience.clone()));
        }
        pairs.extend(resources.iter().map(|r| ("resource".to_owned(), r.clone())));

        let body = if use_json { json_body(&pairs) } else { form_body(&pairs, escape_everything) };
        // The media type's letters are in random case; only its essence
        // must match the body.
        let wanted = if use_json { "application/json" } else { "application/x-www-form-urlencoded" };
        let content_type = if media_type.eq_ignore_ascii_case(wanted) { media_type } else { wanted.to_owned() };
        let authorization = use_basic.then(|| basic_header(&client_id, &client_secret, escape_everything, true, "Basic"));
        let raw = RawRequest {
            authorization: authorization.as_deref(),
            several_authorizations: false,
            content_type: Some(content_type.as_bytes()),
            body: Some(&body), dpop: None, several_dpops: false
        };
        let request = OAuthRequest::parse(&raw).unwrap();
        let parsed = token_request::parse(&request.params, request.basic).unwrap();

        let method = if use_basic { AuthMethod::ClientSecretBasic } else { AuthMethod::ClientSecretPost };
        let audiences = audience.into_iter().chain(resources).collect();
        let expected = TokenRequest { credentials: ClientCredentials { client_id, proof: ClientProof::Secret(client_secret), method }, scope, audiences };
        prop_assert_eq!(parsed, expected);
    }
}
