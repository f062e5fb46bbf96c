//! Stateless DPoP server nonces (RFC 9449 §8): a nonce names its time
//! window and carries a MAC over the tenant and that window, under a key
//! derived from the master key. Every replica holds the master key, so each
//! accepts the nonces of every other without sharing any state.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::Services;

/// Length of a nonce window in seconds; the current and the previous window
/// are accepted, so a nonce lives between one and two windows.
pub(crate) const NONCE_WINDOW_SECS: i64 = 300;
/// What the derived key is for.
const PURPOSE: &str = "dpop-nonce";
/// MAC bytes kept: 128 bits is beyond guessing within a window.
const MAC_BYTES: usize = 16;

fn window_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(NONCE_WINDOW_SECS)
}

/// `base64url(window (8 bytes, big-endian) || MAC[..16])`, MAC =
/// HMAC-SHA-256(key, len(tenant) || tenant || window).
fn nonce_for(key: &aws_lc_rs::hmac::Key, tenant_id: &str, window: i64) -> String {
    let window_bytes = window.to_be_bytes();
    let mut context = aws_lc_rs::hmac::Context::with_key(key);
    context.update(&(tenant_id.len() as u64).to_be_bytes());
    context.update(tenant_id.as_bytes());
    context.update(&window_bytes);
    let tag = context.sign();
    let mut raw = [0u8; 8 + MAC_BYTES];
    raw[..8].copy_from_slice(&window_bytes);
    raw[8..].copy_from_slice(&tag.as_ref()[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(raw)
}

impl Services {
    fn nonce_key(&self) -> aws_lc_rs::hmac::Key {
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.master_key().derive(PURPOSE))
    }

    /// The nonce to hand out now for `tenant_id`.
    pub(crate) fn dpop_nonce(&self, tenant_id: &str, now: DateTime<Utc>) -> String {
        nonce_for(&self.nonce_key(), tenant_id, window_of(now))
    }

    /// The nonces a proof may carry now: this window's and the previous one's.
    pub(crate) fn accepted_dpop_nonces(&self, tenant_id: &str, now: DateTime<Utc>) -> [String; 2] {
        let key = self.nonce_key();
        let window = window_of(now);
        [nonce_for(&key, tenant_id, window), nonce_for(&key, tenant_id, window - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> aws_lc_rs::hmac::Key {
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[byte; 32])
    }

    #[test]
    fn nonces_differ_per_tenant_window_and_key_and_repeat_otherwise() {
        let base = nonce_for(&key(1), "t1", 100);
        assert_eq!(base, nonce_for(&key(1), "t1", 100));
        assert_ne!(base, nonce_for(&key(1), "t2", 100));
        assert_ne!(base, nonce_for(&key(1), "t1", 101));
        assert_ne!(base, nonce_for(&key(2), "t1", 100));
        // A tenant ID cannot borrow bytes of the window.
        assert_ne!(nonce_for(&key(1), "t", 100), nonce_for(&key(1), "t\0", 100));
        assert_eq!(base.len(), (8 + MAC_BYTES).div_ceil(3) * 4);
    }

    #[test]
    fn windows_follow_the_clock() {
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(window_of(at(0)), 0);
        assert_eq!(window_of(at(NONCE_WINDOW_SECS - 1)), 0);
        assert_eq!(window_of(at(NONCE_WINDOW_SECS)), 1);
    }
}
