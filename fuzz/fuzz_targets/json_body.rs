//! Fuzzes the JSON body parser of the token endpoint, and checks that what
//! it accepts was a JSON object whose parameters the grant rules can read.
#![no_main]

use clavis_oauth::params::Params;
use clavis_oauth::token_request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match Params::from_json(body) {
        Err(err) => assert_eq!(err.status, 400, "{err:?}"),
        Ok(params) => {
            assert!(body.trim_ascii_start().starts_with(b"{"), "accepted a body that is not an object");
            if let Err(err) = token_request::parse(&params, None) {
                assert!((400..500).contains(&err.status), "{err:?}");
            }
        }
    }
});
