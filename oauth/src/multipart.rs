//! `multipart/form-data` request bodies (RFC 7578) read as text parameters:
//! the token endpoint takes what `curl -F` and form libraries send, and
//! refuses anything that is not a plain named text field.
//!
//! The byte-level syntax (RFC 2046 §5.1.1 delimiters, part header lines) is
//! `nostd_multipart`'s; the rules about what a part may be are here.

use nostd_multipart::{Event, Parser, content_disposition};

use crate::OAuthError;
use crate::media_type::Boundary;
use crate::params::Params;

/// More parts than any token request has parameters: a body of thousands of
/// empty parts costs nothing to send and something to parse.
pub const MAX_PARTS: usize = 64;
/// The longest part header line, CRLF included. A `Content-Disposition` with
/// a parameter name fits many times over.
pub const MAX_HEADER_LINE: usize = 512;
/// Header lines per part: a text field needs one or two.
pub const MAX_HEADERS: usize = 8;

/// What is known about the part being read.
#[derive(Default)]
struct Part {
    name: Option<String>,
    disposition_seen: bool,
    content_type_seen: bool,
    value: Vec<u8>,
}

/// Parses a `multipart/form-data` body into the same [`Params`] a form body
/// gives, under the same duplicate rules.
pub fn parse(body: &[u8], boundary: Boundary<'_>) -> Result<Params, OAuthError> {
    let mut parser = Parser::<'_, MAX_HEADER_LINE, MAX_HEADERS>::new(boundary.as_str().as_bytes())
        .map_err(|_| OAuthError::invalid_request("invalid multipart boundary"))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut part: Option<Part> = None;
    let mut rest = body;
    loop {
        // The whole body is in memory, so `eof` is true: the parser never
        // waits for bytes and every call makes progress.
        let (used, event) = parser.parse(rest, true).map_err(syntax_error)?;
        rest = rest.get(used..).unwrap_or_default();
        match event {
            None => {}
            Some(Event::PartStart) => {
                if pairs.len() >= MAX_PARTS {
                    return Err(OAuthError::invalid_request("multipart body has too many parts"));
                }
                part = Some(Part::default());
            }
            Some(Event::Header { name, value }) => header(part.as_mut(), name, value)?,
            Some(Event::HeadersEnd) => {}
            Some(Event::Data(data)) => {
                if let Some(part) = part.as_mut() {
                    part.value.extend_from_slice(data);
                }
            }
            Some(Event::PartEnd) => {
                if let Some(done) = part.take() {
                    pairs.push(finish(done)?);
                }
            }
            Some(Event::Finished) => break,
        }
    }
    Params::checked(pairs)
}

fn syntax_error(err: nostd_multipart::Error) -> OAuthError {
    use nostd_multipart::Error;
    OAuthError::invalid_request(match err {
        // RFC 2046 §5.1.1: "The boundary delimiter line following the last
        // body part is a distinguished delimiter".
        Error::UnexpectedEof => "multipart body has no closing delimiter",
        Error::HeaderTooLong => "multipart part header line is too long",
        Error::TooManyHeaders => "multipart part has too many header lines",
        Error::Boundary => "invalid multipart boundary",
        _ => "malformed multipart part header",
    })
}

/// Reads one part header line. Names are case-insensitive (RFC 7578 §4.8
/// refers to RFC 5322's header syntax); only the two headers that decide
/// what the part is are looked at.
fn header(part: Option<&mut Part>, name: &[u8], value: &[u8]) -> Result<(), OAuthError> {
    let Some(part) = part else { return Ok(()) };
    if name.eq_ignore_ascii_case(b"content-disposition") {
        if std::mem::replace(&mut part.disposition_seen, true) {
            return Err(OAuthError::invalid_request("multipart part has two Content-Disposition headers"));
        }
        part.name = Some(field_name(value)?);
    } else if name.eq_ignore_ascii_case(b"content-type") {
        if std::mem::replace(&mut part.content_type_seen, true) {
            return Err(OAuthError::invalid_request("multipart part has two Content-Type headers"));
        }
        check_text_plain(value)?;
    } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
        // RFC 7578 §4.7: "Senders MUST NOT generate any parts with a
        // Content-Transfer-Encoding header field." An encoded value would be
        // read as something else than what was meant.
        let identity = [&b"7bit"[..], b"8bit", b"binary"];
        if !identity.iter().any(|known| value.eq_ignore_ascii_case(known)) {
            return Err(OAuthError::invalid_request("multipart parts must not be transfer-encoded"));
        }
    }
    Ok(())
}

/// RFC 7578 §4.2: "Each part MUST contain a Content-Disposition header
/// field where the disposition type is "form-data". The Content-Disposition
/// header field MUST also contain an additional parameter of "name"". A
/// `filename` makes it a file, which no token request parameter is.
fn field_name(value: &[u8]) -> Result<String, OAuthError> {
    let disposition = content_disposition(value)
        .map_err(|_| OAuthError::invalid_request("malformed Content-Disposition in a multipart part"))?;
    if !disposition.is_form_data() {
        return Err(OAuthError::invalid_request("multipart parts must have the form-data disposition"));
    }
    if disposition.filename().is_some() || disposition.filename_star().is_some() {
        return Err(OAuthError::invalid_request("file parts are not accepted"));
    }
    let name = disposition
        .name()
        .ok_or_else(|| OAuthError::invalid_request("multipart part has no name"))?
        .bytes()
        .collect::<Vec<u8>>();
    String::from_utf8(name).map_err(|_| OAuthError::invalid_request("multipart part name is not valid UTF-8"))
}

/// RFC 7578 §4.4: a part's "default is "text/plain"", and a text field in
/// another charset than UTF-8 (or its subset US-ASCII) would be misread.
fn check_text_plain(value: &[u8]) -> Result<(), OAuthError> {
    let not_text = || OAuthError::invalid_request("multipart parts must be text/plain fields");
    let value = std::str::from_utf8(value).map_err(|_| not_text())?;
    let mut pieces = value.split(';');
    let essence = pieces.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("text/plain") {
        return Err(not_text());
    }
    for parameter in pieces {
        let Some((name, charset)) = parameter.split_once('=') else { continue };
        if name.trim().eq_ignore_ascii_case("charset") {
            let charset = charset.trim().trim_matches('"');
            if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("us-ascii") {
                return Err(OAuthError::invalid_request("multipart text fields must be UTF-8"));
            }
        }
    }
    Ok(())
}

fn finish(part: Part) -> Result<(String, String), OAuthError> {
    let Some(name) = part.name else {
        return Err(OAuthError::invalid_request("multipart part has no Content-Disposition name"));
    };
    if name.is_empty() {
        return Err(OAuthError::invalid_request("multipart part has no name"));
    }
    let value =
        String::from_utf8(part.value).map_err(|_| OAuthError::invalid_request("multipart value is not valid UTF-8"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::media_type::{BodyKind, body_kind};

    fn parse_with(content_type: &str, body: &[u8]) -> Result<Params, OAuthError> {
        match body_kind(content_type.as_bytes()) {
            Some(BodyKind::Multipart(Some(boundary))) => parse(body, boundary),
            other => panic!("{other:?}"),
        }
    }

    fn refused(content_type: &str, body: &[u8]) -> String {
        let err = parse_with(content_type, body).unwrap_err();
        assert_eq!((err.status, err.code), (400, ErrorCode::InvalidRequest), "{err}");
        err.description.into_owned()
    }

    const CT: &str = "multipart/form-data; boundary=XyZ";

    fn field(name: &str, value: &str) -> String {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    }

    /// The bytes curl 7.88 sends for seed 002's `curl -F grant_type=password
    /// -F username=... -F password=...` (captured off the wire).
    #[test]
    fn curl_dash_f_parses() {
        let content_type = "multipart/form-data; boundary=------------------------e557ccf27310eec7";
        let body = b"--------------------------e557ccf27310eec7\r\n\
Content-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n\
--------------------------e557ccf27310eec7\r\n\
Content-Disposition: form-data; name=\"username\"\r\n\r\ntestuser@test.com\r\n\
--------------------------e557ccf27310eec7\r\n\
Content-Disposition: form-data; name=\"password\"\r\n\r\ntestuser\r\n\
--------------------------e557ccf27310eec7--\r\n";
        let params = parse_with(content_type, body).unwrap();
        assert_eq!(params.get("grant_type"), Some("password"));
        assert_eq!(params.get("username"), Some("testuser@test.com"));
        assert_eq!(params.get("password"), Some("testuser"));
    }

    /// Node 20's built-in `FormData` through `fetch` (captured off the wire):
    /// raw UTF-8 values, and a line feed in a value sent as CRLF.
    #[test]
    fn node_fetch_form_data_parses() {
        let content_type = "multipart/form-data; boundary=----formdata-undici-055800023552";
        let body = b"------formdata-undici-055800023552\r\n\
Content-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n\
------formdata-undici-055800023552\r\n\
Content-Disposition: form-data; name=\"username\"\r\n\r\nt\xc3\xa9st@x.y\r\n\
------formdata-undici-055800023552\r\n\
Content-Disposition: form-data; name=\"password\"\r\n\r\np\"w\r\nd\r\n\
------formdata-undici-055800023552--\r\n";
        let params = parse_with(content_type, body).unwrap();
        assert_eq!(params.get("username"), Some("t\u{e9}st@x.y"));
        assert_eq!(params.get("password"), Some("p\"w\r\nd"));
    }

    /// Node's `form-data` package: 26 dashes and 24 digits, a CRLF after
    /// each part's value, and the closing delimiter followed by a CRLF.
    #[test]
    fn node_form_data_parses() {
        let content_type = "multipart/form-data; boundary=--------------------------515890814546601021194782";
        let b = "----------------------------515890814546601021194782";
        let body = format!(
            "{b}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh_token\r\n\
{b}\r\nContent-Disposition: form-data; name=\"refresh_token\"\r\n\r\nabc.def\r\n{b}--\r\n"
        );
        let params = parse_with(content_type, body.as_bytes()).unwrap();
        assert_eq!(params.get("grant_type"), Some("refresh_token"));
        assert_eq!(params.get("refresh_token"), Some("abc.def"));
    }

    #[test]
    fn preamble_epilogue_header_case_and_quoted_names_are_understood() {
        let body = format!(
            "ignored preamble\r\n--XyZ\r\ncontent-disposition:FORM-DATA;NAME=\"say \\\"hi\\\"\"\r\nX-Other: x\r\n\
content-type: text/plain; charset=UTF-8\r\n\r\nline one\r\nline two\r\n{}--XyZ--\r\nepilogue",
            field("scope", "a b")
        );
        let params = parse_with(CT, body.as_bytes()).unwrap();
        assert_eq!(params.get("say \"hi\""), Some("line one\r\nline two"));
        assert_eq!(params.get("scope"), Some("a b"));
    }

    #[test]
    fn same_duplicate_and_empty_rules_as_forms() {
        let twice = format!("{}{}--XyZ--", field("scope", "a"), field("scope", "b"));
        assert!(refused(CT, twice.as_bytes()).contains("more than once"));
        let resources = format!("{}{}--XyZ--", field("resource", "https://a"), field("resource", "https://b"));
        assert_eq!(parse_with(CT, resources.as_bytes()).unwrap().all("resource").count(), 2);
        let empty = format!("{}{}--XyZ--", field("scope", ""), field("grant_type", "password"));
        let params = parse_with(CT, empty.as_bytes()).unwrap();
        assert_eq!(params.get("scope"), None);
        assert_eq!(parse_with(CT, b"--XyZ--").unwrap(), Params::default());
    }

    #[test]
    fn file_parts_and_other_media_types_are_refused() {
        let file = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nx\r\n--XyZ--";
        assert_eq!(refused(CT, file.as_bytes()), "file parts are not accepted");
        let star = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=utf-8''a\r\n\r\nx\r\n--XyZ--";
        assert_eq!(refused(CT, star.as_bytes()), "file parts are not accepted");
        for content_type in ["application/octet-stream", "text/plain; charset=iso-8859-1", "text/html", "\u{e9}"] {
            let body = format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\nContent-Type: {content_type}\r\n\r\nx\r\n--XyZ--"
            );
            refused(CT, body.as_bytes());
        }
        let encoded = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\nContent-Transfer-Encoding: base64\r\n\r\neA==\r\n--XyZ--";
        refused(CT, encoded.as_bytes());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let cases: Vec<Vec<u8>> = vec![
            // No closing delimiter, or no body at all.
            field("a", "b").into_bytes(),
            b"".to_vec(),
            format!("{}--XyZ", field("a", "b")).into_bytes(),
            // A part without Content-Disposition, without a name, with an empty name.
            b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--".to_vec(),
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--".to_vec(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--XyZ--".to_vec(),
            b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--".to_vec(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--".to_vec(),
            // Two dispositions; bare LF line ends in the headers.
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--XyZ--"
                .to_vec(),
            b"--XyZ\nContent-Disposition: form-data; name=a\n\nx\n--XyZ--".to_vec(),
            // Values and names that are not UTF-8.
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\xff\r\n--XyZ--".to_vec(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"\xc3\"\r\n\r\nx\r\n--XyZ--".to_vec(),
            // A header line over the limit, too many header lines.
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\nx\r\n--XyZ--", "n".repeat(600))
                .into_bytes(),
            format!("--XyZ\r\n{}Content-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--", "X-A: b\r\n".repeat(9))
                .into_bytes(),
        ];
        for body in cases {
            refused(CT, &body);
        }
    }

    #[test]
    fn the_part_count_is_bounded() {
        let fields = |n: usize| (0..n).map(|i| field(&format!("p{i}"), "v")).collect::<String>() + "--XyZ--";
        assert!(parse_with(CT, fields(MAX_PARTS).as_bytes()).is_ok());
        assert_eq!(refused(CT, fields(MAX_PARTS + 1).as_bytes()), "multipart body has too many parts");
    }

    #[test]
    fn a_boundary_inside_a_value_needs_its_line_break_to_end_the_part() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx--XyZ\r\n--XyZy\r\n--XyZ--";
        assert_eq!(parse_with(CT, body.as_bytes()).unwrap().get("a"), Some("x--XyZ\r\n--XyZy"));
    }

    #[test]
    fn errors_never_echo_the_values() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\nContent-Type: text/html\r\n\r\nhunter2\r\n--XyZ--";
        assert!(!refused(CT, body.as_bytes()).contains("hunter2"));
    }
}
