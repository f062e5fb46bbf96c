//! Fuzzes the HTTP Basic `Authorization` header parser, and checks that
//! whatever it accepts survives re-encoding (RFC 6749 §2.3.1).
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clavis_oauth::client_auth::parse_basic;
use libfuzzer_sys::fuzz_target;

fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fuzz_target!(|header: &[u8]| {
    // Raw bytes, and the same bytes as a Basic payload so that the decoder
    // behind the base64 layer is reached too.
    let wrapped = format!("Basic {}", STANDARD.encode(header));
    for candidate in [header, wrapped.as_bytes()] {
        match parse_basic(candidate) {
            Err(err) => assert!(err.status == 400 || (err.status == 401 && err.basic_challenge), "{err:?}"),
            Ok(credentials) => {
                assert!(!credentials.client_id.is_empty() && !credentials.client_secret.is_empty());
                let again = format!(
                    "Basic {}",
                    STANDARD.encode(format!(
                        "{}:{}",
                        form_encode(&credentials.client_id),
                        form_encode(&credentials.client_secret)
                    ))
                );
                assert_eq!(parse_basic(again.as_bytes()).ok(), Some(credentials));
            }
        }
    }
});
