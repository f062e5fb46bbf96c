//! JOSE for Clavis: the one JWS implementation of the project. The access
//! tokens Clavis signs ([`sign`]), the JWKs it publishes ([`jwk`]), and the
//! verification the server (introspection, the management API) and the SDK's
//! resource-server layer share ([`verify`]). One reader of a JWK's public
//! key (`public_key`) serves every verifier, each adding its own policy.
//!
//! RFC 8725 §3.1: "Libraries MUST enable the caller to specify a supported
//! set of algorithms and MUST NOT use any other algorithms when performing
//! cryptographic operations." The set here is closed: RS256, ES256, EdDSA;
//! never `none`, never HMAC. Client assertions may also use PS256, which
//! Clavis verifies ([`client_verify`]) but never signs with.
//!
//! Signing and verification use aws-lc-rs, a C library; on
//! `wasm32-unknown-unknown` (the dashboard) only the data types build.

#[cfg(not(target_arch = "wasm32"))]
pub mod client_keys;
#[cfg(not(target_arch = "wasm32"))]
pub mod client_verify;
pub mod jwk;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod public_key;
#[cfg(not(target_arch = "wasm32"))]
pub mod sign;
#[cfg(not(target_arch = "wasm32"))]
pub mod verify;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The JWS algorithms Clavis signs and accepts.
///
/// ```
/// use clavis_oauth::jose::Algorithm;
///
/// assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
/// assert_eq!(Algorithm::from_name("none"), None);
/// assert_eq!(Algorithm::from_name("HS256"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of 2048 bits or more).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Algorithm {
    /// Every algorithm, in the order the dashboard and the CLI offer them.
    pub const ALL: [Algorithm; 3] = [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa];

    /// Parses a JOSE `alg` name; `None` for anything outside the allow-list.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The JOSE `alg` name.
    ///
    /// ```
    /// assert_eq!(clavis_oauth::jose::Algorithm::Es256.name(), "ES256");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
