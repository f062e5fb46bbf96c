//! Secret material: the master keys and sealing at rest, client secret
//! generation and constant-time verification.

mod master_key;
mod sealing;

pub use master_key::{MasterKey, MasterKeyError, MasterKeySource};
pub use sealing::{SealContext, SealKind, sealed_key_version};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A fresh client secret: 32 random bytes, base64url without padding.
pub fn generate_client_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password for a new user, readable and long enough to be strong.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The digest stored for a client secret. Secrets carry 256 bits of entropy,
/// so a fast hash is as safe as a slow one and keeps the token endpoint fast.
/// SHA-256 by aws-lc (as for signing): its assembly is several times
/// faster here than the portable code of `sha2`, on every token request.
pub fn secret_digest(secret: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

pub fn secret_digest_hex(secret: &str) -> String {
    hex_encode(&secret_digest(secret))
}

/// Compares a presented secret with a stored digest in constant time.
pub fn secret_matches(presented: &str, stored_digest: &[u8; 32]) -> bool {
    digests_match(&secret_digest(presented), stored_digest)
}

/// Compares two secret digests in constant time; hash the presented secret
/// once with [`secret_digest`] when checking it against several.
pub fn digests_match(presented_digest: &[u8; 32], stored_digest: &[u8; 32]) -> bool {
    presented_digest.ct_eq(stored_digest).into()
}

pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

pub fn hex_decode_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_digest_round_trips_through_hex() {
        let secret = generate_client_secret();
        assert_eq!(secret.len(), 43);
        let stored = hex_decode_32(&secret_digest_hex(&secret)).unwrap();
        assert!(secret_matches(&secret, &stored));
        assert!(!secret_matches("not-it", &stored));
    }

    #[test]
    fn secret_digest_is_sha256() {
        // FIPS 180-2, appendix B.1: the digests already stored stay valid.
        assert_eq!(secret_digest_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
