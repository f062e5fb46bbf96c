//! Secret material: the master key, AES-256-GCM sealing at rest, client
//! secret generation and constant-time verification.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const NONCE_LEN: usize = 12;
const MASTER_KEY_FILE: &str = "master.key";

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("CLAVIS_MASTER_KEY must be the base64 encoding of exactly 32 bytes")]
    BadEncoding,
    #[error("cannot read the master key file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot create the master key file {path}: {reason}")]
    Uncreatable { path: String, reason: String },
}

/// The 256-bit key that seals client secrets and signing keys at rest.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Where a master key came from, so start-up can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterKeySource {
    Environment,
    ExistingFile,
    NewFile,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim()))
            .map_err(|_| MasterKeyError::BadEncoding)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| MasterKeyError::BadEncoding)?;
        Ok(Self(bytes))
    }

    /// Uses `configured` when given; otherwise reads `master.key` in the data
    /// directory, creating it (mode 0600) on first start.
    pub fn load_or_create(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, MasterKeySource), MasterKeyError> {
        if let Some(text) = configured {
            return Ok((Self::from_base64(text)?, MasterKeySource::Environment));
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match Self::from_base64(&text) {
                Ok(key) => Ok((key, MasterKeySource::ExistingFile)),
                Err(_) => Err(MasterKeyError::Unreadable {
                    path: shown,
                    reason: "it does not hold the base64 encoding of 32 bytes".into(),
                }),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private_file(&path, STANDARD.encode(key.0).as_bytes())
                    .map_err(|err| MasterKeyError::Uncreatable { path: shown, reason: err.to_string() })?;
                Ok((key, MasterKeySource::NewFile))
            }
            Err(err) => Err(MasterKeyError::Unreadable { path: shown, reason: err.to_string() }),
        }
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the row it belongs
    /// to) so a sealed value copied into another row fails to open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, crate::Error> {
        let cipher = Aes256Gcm::new_from_slice(&self.0).map_err(crate::Error::internal)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| crate::Error::internal("sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, crate::Error> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| crate::Error::internal("sealed value is not base64"))?;
        if raw.len() <= NONCE_LEN {
            return Err(crate::Error::internal("sealed value too short"));
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new_from_slice(&self.0).map_err(crate::Error::internal)?;
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| crate::Error::internal("sealed value does not open under this master key"))
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

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
pub fn secret_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
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
    fn sealed_value_opens_only_in_its_context() {
        let key = MasterKey::generate();
        let sealed = key.seal("secret:a", b"hello").unwrap();
        assert_eq!(key.open("secret:a", &sealed).unwrap(), b"hello");
        assert!(key.open("secret:b", &sealed).is_err());
        assert!(MasterKey::generate().open("secret:a", &sealed).is_err());
    }

    #[test]
    fn secret_digest_round_trips_through_hex() {
        let secret = generate_client_secret();
        assert_eq!(secret.len(), 43);
        let stored = hex_decode_32(&secret_digest_hex(&secret)).unwrap();
        assert!(secret_matches(&secret, &stored));
        assert!(!secret_matches("not-it", &stored));
    }

    #[test]
    fn master_key_rejects_wrong_lengths() {
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }

    #[test]
    fn master_key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("clavis-mk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, source) = MasterKey::load_or_create(None, &dir).unwrap();
        assert_eq!(source, MasterKeySource::NewFile);
        let (second, source) = MasterKey::load_or_create(None, &dir).unwrap();
        assert_eq!(source, MasterKeySource::ExistingFile);
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
