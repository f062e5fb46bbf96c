//! The sealed format of secrets at rest: AES-256-GCM whose associated data
//! names the value's kind, tenant and row, and whose text names the master
//! key version it was sealed under.
//!
//! A sealed value reads `v<N>.<base64url(nonce || ciphertext)>`. Values
//! written before versions existed have no prefix; they read as version 1
//! with the old associated data (`client_secret:<id>`, `signing_key:<kid>`)
//! until a rotation re-seals them.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::Error;

const NONCE_LEN: usize = 12;
/// Starts every associated data of the current format, so it can never equal
/// an old `kind:id` string nor a future format's.
const AAD_MAGIC: &[u8] = b"clavis.seal";
const AAD_FORMAT: u8 = 1;

/// What a sealed value is; part of what it is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealKind {
    ClientSecret,
    SigningKey,
    /// A user's TOTP secret; users belong to no one tenant.
    TotpSecret,
}

impl SealKind {
    fn tag(self) -> u8 {
        match self {
            SealKind::ClientSecret => 1,
            SealKind::SigningKey => 2,
            SealKind::TotpSecret => 3,
        }
    }

    fn legacy_name(self) -> &'static str {
        match self {
            SealKind::ClientSecret => "client_secret",
            SealKind::SigningKey => "signing_key",
            SealKind::TotpSecret => "totp_secret",
        }
    }
}

/// The row a sealed value belongs to: a value sealed for one row does not
/// open for another row, another tenant or as another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealContext<'a> {
    pub kind: SealKind,
    pub tenant_id: &'a str,
    pub row_id: &'a str,
}

impl<'a> SealContext<'a> {
    pub const fn client_secret(tenant_id: &'a str, secret_id: &'a str) -> Self {
        Self { kind: SealKind::ClientSecret, tenant_id, row_id: secret_id }
    }

    pub const fn signing_key(tenant_id: &'a str, kid: &'a str) -> Self {
        Self { kind: SealKind::SigningKey, tenant_id, row_id: kid }
    }

    /// A user's TOTP secret; accounts are global, so the tenant part is empty.
    pub const fn totp_secret(user_id: &'a str) -> Self {
        Self { kind: SealKind::TotpSecret, tenant_id: "", row_id: user_id }
    }

    /// Magic, format, kind, then each ID with a length prefix: no two
    /// different contexts encode alike, whatever bytes the IDs hold.
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(AAD_MAGIC.len() + 10 + self.tenant_id.len() + self.row_id.len());
        out.extend_from_slice(AAD_MAGIC);
        out.push(AAD_FORMAT);
        out.push(self.kind.tag());
        for field in [self.tenant_id, self.row_id] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// What values sealed before versions existed were bound to.
    pub(crate) fn legacy_associated_data(&self) -> Vec<u8> {
        format!("{}:{}", self.kind.legacy_name(), self.row_id).into_bytes()
    }
}

/// A sealed value taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealedText<'a> {
    /// Sealed before versions existed: master key version 1, old associated data.
    Legacy(&'a str),
    Versioned {
        version: u32,
        body: &'a str,
    },
}

impl<'a> SealedText<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Self, Error> {
        // The base64url alphabet has no '.', so a dot marks a version prefix.
        let Some((prefix, body)) = text.split_once('.') else {
            return Ok(SealedText::Legacy(text));
        };
        let version = prefix
            .strip_prefix('v')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
            .filter(|version| *version > 0)
            .ok_or_else(|| Error::internal("sealed value has a malformed version prefix"))?;
        Ok(SealedText::Versioned { version, body })
    }

    pub(crate) fn version(&self) -> u32 {
        match self {
            SealedText::Legacy(_) => 1,
            SealedText::Versioned { version, .. } => *version,
        }
    }
}

/// The master key version a sealed value needs, or `None` when it is malformed.
pub fn sealed_key_version(sealed: &str) -> Option<u32> {
    SealedText::parse(sealed).ok().map(|parsed| parsed.version())
}

/// Seals `plaintext` under `key`, naming `version` in the result.
pub(crate) fn seal_with(
    key: &[u8; 32],
    version: u32,
    context: &SealContext<'_>,
    plaintext: &[u8],
) -> Result<String, Error> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(Error::internal)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = context.associated_data();
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| Error::internal("sealing failed"))?;
    let mut raw = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&ciphertext);
    Ok(format!("v{version}.{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Opens a parsed sealed value with the key of its version.
pub(crate) fn open_with(key: &[u8; 32], context: &SealContext<'_>, sealed: SealedText<'_>) -> Result<Vec<u8>, Error> {
    let (body, aad) = match sealed {
        SealedText::Legacy(body) => (body, context.legacy_associated_data()),
        SealedText::Versioned { body, .. } => (body, context.associated_data()),
    };
    let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| Error::internal("sealed value is not base64url"))?;
    if raw.len() <= NONCE_LEN {
        return Err(Error::internal("sealed value too short"));
    }
    let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(key).map_err(Error::internal)?;
    cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad }).map_err(|_| {
        Error::internal(format!(
            "a sealed {} of tenant {} (row {}) does not open: wrong master key, or the value was moved from another row",
            context.kind.legacy_name(),
            context.tenant_id,
            context.row_id
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn a_sealed_value_opens_only_for_its_row_tenant_and_kind() {
        let here = SealContext::client_secret("tenant-t", "row-a");
        let sealed = seal_with(&KEY, 3, &here, b"hello").unwrap();
        assert!(sealed.starts_with("v3."), "{sealed}");
        let parsed = SealedText::parse(&sealed).unwrap();
        assert_eq!(parsed.version(), 3);
        assert_eq!(open_with(&KEY, &here, parsed).unwrap(), b"hello");
        for elsewhere in [
            SealContext::client_secret("tenant-t", "row-b"),
            SealContext::client_secret("tenant-u", "row-a"),
            SealContext::signing_key("tenant-t", "row-a"),
        ] {
            let err = open_with(&KEY, &elsewhere, parsed).unwrap_err();
            assert!(matches!(err, Error::Internal(_)), "{err:?}");
        }
        assert!(open_with(&[8u8; 32], &here, parsed).is_err());
    }

    #[test]
    fn associated_data_cannot_collide_across_fields() {
        let a = SealContext::client_secret("ab", "c").associated_data();
        let b = SealContext::client_secret("a", "bc").associated_data();
        assert_ne!(a, b);
        let c = SealContext::client_secret("a\0\0\0\0\0\0\0\x01b", "").associated_data();
        let d = SealContext::client_secret("a", "b").associated_data();
        assert_ne!(c, d);
        assert_ne!(
            SealContext::client_secret("t", "r").associated_data(),
            SealContext::signing_key("t", "r").associated_data()
        );
    }

    #[test]
    fn unprefixed_values_read_as_version_one_with_the_old_binding() {
        // Built the way values were sealed before versions existed.
        let cipher = Aes256Gcm::new_from_slice(&KEY).unwrap();
        let nonce = [1u8; NONCE_LEN];
        let ct =
            cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: b"old", aad: b"client_secret:row-a" }).unwrap();
        let legacy = URL_SAFE_NO_PAD.encode([nonce.as_slice(), &ct].concat());
        assert_eq!(sealed_key_version(&legacy), Some(1));
        let parsed = SealedText::parse(&legacy).unwrap();
        assert_eq!(open_with(&KEY, &SealContext::client_secret("any", "row-a"), parsed).unwrap(), b"old");
        assert!(open_with(&KEY, &SealContext::client_secret("any", "row-b"), parsed).is_err());
        assert!(open_with(&KEY, &SealContext::signing_key("any", "row-a"), parsed).is_err());
    }

    #[test]
    fn malformed_prefixes_are_errors_not_panics() {
        for text in ["v.abc", "x1.abc", "v0.abc", "v-1.abc", "v99999999999.abc", "v1.", "v1.!!"] {
            let outcome = SealedText::parse(text)
                .and_then(|parsed| open_with(&KEY, &SealContext::client_secret("t", "r"), parsed));
            assert!(outcome.is_err(), "{text}");
        }
    }
}
