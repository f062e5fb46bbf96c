//! RFC 6749 §5.1, the successful token response, as the JSON Clavis sends.

use crate::json_out::JsonObject;

/// Room beyond the tokens and the scope for the member names and the rest.
const MEMBERS_BYTES: usize = 128;

/// "The parameters are included in the entity-body of the HTTP response
/// using the "application/json" media type": `access_token`, `token_type`,
/// `expires_in`, `scope`, and the ID and refresh tokens when a grant gives
/// them.
#[derive(Clone, Copy)]
pub struct TokenAnswer<'a> {
    pub access_token: &'a str,
    pub token_type: &'a str,
    pub expires_in: i64,
    pub scope: &'a str,
    pub id_token: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
}

impl std::fmt::Debug for TokenAnswer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.map(|_| "<redacted>"))
            .field("refresh_token", &self.refresh_token.map(|_| "<redacted>"))
            .finish()
    }
}

impl TokenAnswer<'_> {
    /// The response body, in one allocation of the right size.
    pub fn to_json(&self) -> Vec<u8> {
        let tokens =
            self.access_token.len() + self.id_token.map_or(0, str::len) + self.refresh_token.map_or(0, str::len);
        let mut out = Vec::with_capacity(tokens + self.scope.len() + MEMBERS_BYTES);
        let mut answer = JsonObject::begin(&mut out);
        answer
            .string("access_token", self.access_token)
            .string("token_type", self.token_type)
            .integer("expires_in", self.expires_in)
            .string("scope", self.scope)
            .optional_string("id_token", self.id_token)
            .optional_string("refresh_token", self.refresh_token);
        answer.end();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_has_the_rfc_members_and_only_the_tokens_given() {
        let answer = TokenAnswer {
            access_token: "a.b.c",
            token_type: "Bearer",
            expires_in: 3600,
            scope: "x y",
            id_token: None,
            refresh_token: None,
        };
        assert_eq!(
            String::from_utf8(answer.to_json()).unwrap(),
            r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":3600,"scope":"x y"}"#
        );
        let full = TokenAnswer { id_token: Some("i.d.t"), refresh_token: Some("r-t"), token_type: "DPoP", ..answer };
        assert_eq!(
            String::from_utf8(full.to_json()).unwrap(),
            r#"{"access_token":"a.b.c","token_type":"DPoP","expires_in":3600,"scope":"x y","id_token":"i.d.t","refresh_token":"r-t"}"#
        );
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let answer = TokenAnswer {
            access_token: "secret-access",
            token_type: "Bearer",
            expires_in: 1,
            scope: "",
            id_token: Some("secret-id"),
            refresh_token: Some("secret-refresh"),
        };
        let debug = format!("{answer:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}
