//! Generators shared by the property tests: hostile header and body bytes,
//! and the pieces of valid requests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clavis_oauth::OAuthError;
use proptest::prelude::*;

/// Few enough cases that the whole binary runs in seconds, enough that each
/// run explores new inputs (the seed changes per run).
pub fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, ..ProptestConfig::default() }
}

/// RFC 6749 §5.2: `error_description` is %x20-21 / %x23-5B / %x5D-7E, and
/// every refusal of a client's input is the client's fault (4xx).
pub fn assert_client_error(err: &OAuthError) -> Result<(), TestCaseError> {
    prop_assert!((400..500).contains(&err.status), "status {} for {err}", err.status);
    let allowed = |b: u8| b == 0x20 || b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
    prop_assert!(err.description.bytes().all(allowed), "description outside RFC 6749's charset: {err}");
    prop_assert!(!err.description.is_empty());
    Ok(())
}

/// Text that survives a form round trip: the parser refuses U+FFFD because
/// it is what lossy decoding of a non-UTF-8 escape produces.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>().prop_filter("not U+FFFD", |c| *c != '\u{FFFD}'), 0..max)
        .prop_map(|chars| chars.into_iter().collect())
}

pub fn non_empty_text(max: usize) -> impl Strategy<Value = String> {
    text(max).prop_filter("non-empty", |s| !s.is_empty())
}

/// `application/x-www-form-urlencoded` with every byte escaped, the other
/// spelling a client may send (the serializer prefers literals and `+`).
pub fn percent_encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

pub fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Bytes biased towards the characters form and Basic parsing care about.
fn form_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"&".to_vec()),
        Just(b"=".to_vec()),
        Just(b"+".to_vec()),
        Just(b"%".to_vec()),
        Just(b"%ff".to_vec()),
        Just(b"%C3%A9".to_vec()),
        Just(b"%e2%80".to_vec()),
        Just(b"grant_type".to_vec()),
        Just(b"client_credentials".to_vec()),
        Just(b"client_id".to_vec()),
        Just(b"client_secret".to_vec()),
        Just(b"scope".to_vec()),
        Just(b"resource".to_vec()),
        Just(b"audience".to_vec()),
        Just(b"https://api.example/".to_vec()),
        Just(b"#".to_vec()),
        Just(vec![0xff]),
        Just(vec![0]),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Any JSON document, nested a few levels, with the parameter names the
/// parser knows among its keys.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("grant_type".to_owned()),
        Just("client_id".to_owned()),
        Just("client_secret".to_owned()),
        Just("scope".to_owned()),
        Just("resource".to_owned()),
        Just("audience".to_owned()),
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
        Just(serde_json::Value::String("client_credentials".into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// JSON bodies: whole documents, documents cut short, and documents with
/// trailing bytes.
pub fn json_body() -> impl Strategy<Value = Vec<u8>> {
    (json_value(), any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 0..4), 0..3u8).prop_map(
        |(value, cut, tail, shape)| {
            let mut bytes = serde_json::to_vec(&value).unwrap_or_default();
            match shape {
                0 => {}
                1 => bytes.truncate(cut.index(bytes.len() + 1)),
                _ => bytes.extend(tail),
            }
            bytes
        },
    )
}

/// A parameter name: mostly ones the token endpoint reads.
fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "grant_type", "client_id", "client_secret", "scope", "audience", "resource", "username", "password",
            "refresh_token",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// A parameter value: mostly ones that pass the syntax checks, so the
/// generated requests reach the later rules too.
fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("client_credentials".to_owned()),
        1 => Just("password".to_owned()),
        1 => Just("refresh_token".to_owned()),
        1 => Just(String::new()),
        2 => "[a-z:-]{1,12}",
        2 => "(https?://[a-z.]{1,12}(/[a-z%#]{0,6})?|[a-z]{1,6})",
        1 => "[!#-\\[\\]-~ ]{0,30}",
        2 => any::<String>(),
    ]
}

/// Form, JSON and multipart bodies made of plausible parameters, repeated
/// at times. Multipart ones use the boundary `x`, as [`content_type`] does.
fn plausible_body() -> impl Strategy<Value = Vec<u8>> {
    let pairs = proptest::collection::vec((param_name(), param_value()), 0..8);
    (pairs, 0..3u8, any::<bool>(), multipart_style()).prop_map(|(mut pairs, shape, grant, style)| {
        if grant {
            pairs.insert(0, ("grant_type".to_owned(), "client_credentials".to_owned()));
        }
        if shape == 2 {
            multipart_encode(&pairs, "x", &style)
        } else if shape == 1 {
            let fields: Vec<String> = pairs
                .iter()
                .map(|(name, value)| {
                    let value = match value.len() % 5 {
                        0 => serde_json::json!([value]),
                        1 if value.is_empty() => serde_json::Value::Null,
                        _ => serde_json::json!(value),
                    };
                    format!("{}:{value}", serde_json::json!(name))
                })
                .collect();
            format!("{{{}}}", fields.join(",")).into_bytes()
        } else {
            form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
        }
    })
}

/// Request bodies of every shape: raw bytes, form-like, JSON-like,
/// multipart-like, and plausible parameters.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..256),
        1 => form_like(),
        1 => json_body(),
        1 => multipart_like("x"),
        2 => plausible_body(),
    ]
}

/// How a client spells a multipart body: the escapes of its field names,
/// the case of header names, an explicit `Content-Type` per part, and a
/// preamble and epilogue around the parts.
#[derive(Debug, Clone)]
pub struct MultipartStyle {
    /// WHATWG's `%22` for a quote (browsers, Node's fetch) or RFC 822's `\"`.
    pub percent_escapes: bool,
    pub lower_case_headers: bool,
    pub text_plain: bool,
    pub preamble: bool,
    pub epilogue: bool,
}

pub fn multipart_style() -> impl Strategy<Value = MultipartStyle> {
    (any::<bool>(), any::<bool>(), any::<bool>(), proptest::bool::weighted(0.2), proptest::bool::weighted(0.3))
        .prop_map(|(percent_escapes, lower_case_headers, text_plain, preamble, epilogue)| MultipartStyle {
            percent_escapes,
            lower_case_headers,
            text_plain,
            preamble,
            epilogue,
        })
}

/// A `multipart/form-data` body of text fields, as RFC 7578 clients build it.
pub fn multipart_encode(pairs: &[(String, String)], boundary: &str, style: &MultipartStyle) -> Vec<u8> {
    let disposition = if style.lower_case_headers { "content-disposition" } else { "Content-Disposition" };
    let mut body = String::new();
    if style.preamble {
        body.push_str("This is a preamble.\r\n");
    }
    for (name, value) in pairs {
        let quote = if style.percent_escapes { "%22" } else { "\\\"" };
        let name = name.replace('\\', "\\\\").replace('"', quote);
        body.push_str(&format!("--{boundary}\r\n{disposition}: form-data; name=\"{name}\"\r\n"));
        if style.text_plain {
            body.push_str("Content-Type: text/plain; charset=UTF-8\r\n");
        }
        body.push_str(&format!("\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--"));
    if style.epilogue {
        body.push_str("\r\nepilogue\r\n");
    }
    body.into_bytes()
}

/// Bytes biased towards the pieces multipart parsing cares about, for the
/// boundary `boundary`.
pub fn multipart_like(boundary: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => Just(format!("--{boundary}\r\n").into_bytes()),
        1 => Just(format!("--{boundary}--").into_bytes()),
        1 => Just(format!("\r\n--{boundary}").into_bytes()),
        1 => Just(format!("--{boundary}").into_bytes()),
        4 => Just(b"Content-Disposition: form-data; name=\"grant_type\"\r\n".to_vec()),
        2 => Just(b"Content-Disposition: form-data; name=".to_vec()),
        1 => Just(b"Content-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n".to_vec()),
        1 => Just(b"Content-Type: text/plain; charset=utf-8\r\n".to_vec()),
        1 => Just(b"Content-Type: application/octet-stream\r\n".to_vec()),
        1 => Just(b"Content-Transfer-Encoding: base64\r\n".to_vec()),
        4 => Just(b"\r\n".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\"".to_vec()),
        1 => Just(b"\\".to_vec()),
        1 => Just(b";".to_vec()),
        2 => Just(b"client_credentials".to_vec()),
        1 => Just(vec![0xff]),
        2 => proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// `Content-Type` values: the accepted ones in any case with parameters,
/// other media types, and raw bytes.
pub fn content_type() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (known_media_type(), "[ \t]{0,2}", "(;[ -~]{0,20}){0,2}")
            .prop_map(|(essence, space, params)| format!("{space}{essence}{space}{params}").into_bytes()),
        2 => (prop::sample::select(vec!["multipart/form-data", "Multipart/Form-Data", "MULTIPART/FORM-DATA"]),
              prop::sample::select(vec!["; boundary=x", ";boundary=\"x\"", "; charset=utf-8; BOUNDARY=x", "", "; boundary=", "; boundary=\"x"]))
            .prop_map(|(essence, params)| format!("{essence}{params}").into_bytes()),
        1 => Just(b"text/plain".to_vec()),
        1 => "[ -~]{0,40}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

/// One of the two accepted media types, letters in random case.
pub fn known_media_type() -> impl Strategy<Value = String> {
    let essence = prop_oneof![Just("application/json"), Just("application/x-www-form-urlencoded")];
    (essence, proptest::collection::vec(any::<bool>(), 33)).prop_map(|(essence, upper)| {
        essence.chars().zip(upper.iter().cycle()).map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c }).collect()
    })
}

/// `Authorization` values: Basic with well- and ill-formed payloads, other
/// schemes, and raw bytes.
pub fn authorization() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => (scheme(), proptest::collection::vec(any::<u8>(), 0..48))
            .prop_map(|(scheme, payload)| format!("{scheme} {}", STANDARD.encode(payload)).into_bytes()),
        1 => (scheme(), form_like()).prop_map(|(scheme, payload)| format!("{scheme} {}", STANDARD.encode(payload)).into_bytes()),
        1 => (scheme(), "[ -~]{0,40}").prop_map(|(scheme, rest)| format!("{scheme} {rest}").into_bytes()),
        2 => (scheme(), param_value(), param_value()).prop_map(|(scheme, id, secret)| {
            format!("{scheme} {}", STANDARD.encode(format!("{}:{}", form_encode(&id), form_encode(&secret)))).into_bytes()
        }),
    ]
}

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("Basic".to_owned()),
        1 => Just("basic".to_owned()),
        1 => Just("Bearer".to_owned()),
        1 => "[A-Za-z]{0,8}",
    ]
}
