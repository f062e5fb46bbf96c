//! Importing public keys an administrator hands Clavis: a JWKS (an
//! application's `private_key_jwt` keys, a trusted issuer's static keys) or
//! one PEM public key, checked and normalized into a [`JwkSet`].
//!
//! Only public signing keys are taken: RSA of 2048 bits or more, EC P-256,
//! OKP Ed25519. A key carrying any private member is refused outright, with
//! a message that says so, rather than stripped: whoever pasted it has
//! exposed a private key and should know.

use serde_json::{Map, Value};

use super::client_verify::ClientKey;
use super::jwk::{Jwk, JwkSet};

/// The most keys one set may hold.
pub const MAX_KEYS: usize = 10;

/// The longest `kid` kept.
pub const MAX_KID_LEN: usize = 256;

/// RFC 7518 §6.3.2 and §6.4 name the private members of RSA keys (`d`, `p`,
/// `q`, `dp`, `dq`, `qi`, `oth`), §6.2.2 that of EC keys (`d`), §6.4.1 the
/// symmetric key value (`k`); RFC 8037 §2 uses `d` for OKP keys.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a key or set was refused: a message fit for the administrator, which
/// never quotes key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyImportError(pub String);

fn refuse(message: impl Into<String>) -> KeyImportError {
    KeyImportError(message.into())
}

/// Imports a JWKS given as JSON text. See [`import_jwks_value`].
///
/// ```
/// use clavis_oauth::jose::client_keys::import_jwks;
///
/// let err = import_jwks(r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]}"#).unwrap_err();
/// assert!(err.to_string().contains("private member \"d\""));
/// ```
pub fn import_jwks(json: &str) -> Result<JwkSet, KeyImportError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|err| refuse(format!("keys must be a JWKS, {{\"keys\": [...]}}: invalid JSON ({err})")))?;
    import_jwks_value(&value)
}

/// Imports a JWKS (RFC 7517 §5): 1 to [`MAX_KEYS`] public signing keys,
/// each usable, each kid distinct. A key without `kid` gets its RFC 7638
/// thumbprint. Members Clavis does not use (`x5c`, `key_ops`, ...) are
/// dropped.
pub fn import_jwks_value(value: &Value) -> Result<JwkSet, KeyImportError> {
    let keys = value
        .as_object()
        .and_then(|object| object.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| refuse("keys must be a JWKS: an object with a \"keys\" array"))?;
    if keys.is_empty() {
        return Err(refuse("the JWKS has no key"));
    }
    if keys.len() > MAX_KEYS {
        return Err(refuse(format!("at most {MAX_KEYS} keys are allowed, the JWKS has {}", keys.len())));
    }
    let mut imported: Vec<Jwk> = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        let position = index + 1;
        let object = key.as_object().ok_or_else(|| refuse(format!("key {position} is not a JSON object")))?;
        let jwk = import_jwk_object(object).map_err(|why| refuse(format!("key {position}: {why}")))?;
        if let Some(kid) = &jwk.kid
            && imported.iter().any(|other| other.kid.as_ref() == Some(kid))
        {
            return Err(refuse(format!("key {position}: the kid \"{kid}\" is used by another key of the set")));
        }
        imported.push(jwk);
    }
    Ok(JwkSet { keys: imported })
}

fn import_jwk_object(object: &Map<String, Value>) -> Result<Jwk, String> {
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|member| object.contains_key(**member)) {
        return Err(format!(
            "it has the private member \"{member}\": only public keys may be given, never private ones"
        ));
    }
    for member in ["kty", "use", "alg", "kid", "crv", "n", "e", "x", "y"] {
        if object.get(member).is_some_and(|value| !value.is_string()) {
            return Err(format!("\"{member}\" must be a string"));
        }
    }
    let text = |member: &str| object.get(member).and_then(Value::as_str).map(str::to_owned);
    let kty = text("kty").ok_or("it has no \"kty\"")?;
    let public_only = |members: &[&str]| {
        let pick = |member: &str| if members.contains(&member) { text(member) } else { None };
        Jwk {
            kty: kty.clone(),
            use_: text("use"),
            alg: text("alg"),
            kid: text("kid"),
            crv: pick("crv"),
            n: pick("n"),
            e: pick("e"),
            x: pick("x"),
            y: pick("y"),
        }
    };
    let mut jwk = match kty.as_str() {
        "RSA" => public_only(&["n", "e"]),
        "EC" => public_only(&["crv", "x", "y"]),
        "OKP" => public_only(&["crv", "x"]),
        "oct" => return Err("symmetric keys are not accepted: give a public RSA, EC or OKP key".into()),
        _ => return Err("key type must be RSA, EC (P-256) or OKP (Ed25519)".into()),
    };
    finish(&mut jwk)?;
    Ok(jwk)
}

/// Checks that `jwk` is usable (which parses it) and names it by its
/// thumbprint when it has no kid.
fn finish(jwk: &mut Jwk) -> Result<(), String> {
    if let Some(kid) = &jwk.kid
        && (kid.is_empty() || kid.chars().count() > MAX_KID_LEN)
    {
        return Err(format!("a kid must have 1 to {MAX_KID_LEN} characters"));
    }
    if jwk.kty == "RSA"
        && let Some(bits) = jwk.n.as_deref().and_then(rsa_bits)
        && bits < 2048
    {
        return Err(format!("RSA keys must have at least 2048 bits, this one has {bits}"));
    }
    ClientKey::from_jwk(jwk).map_err(str::to_owned)?;
    if jwk.kid.is_none() {
        jwk.kid = jwk.thumbprint();
    }
    Ok(())
}

fn rsa_bits(n: &str) -> Option<usize> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(n.trim_end_matches('=')).ok()?;
    Some(super::client_verify::bit_length(&bytes))
}

/// Imports one PEM public key (`-----BEGIN PUBLIC KEY-----`, an X.509
/// SubjectPublicKeyInfo, RFC 5280 §4.1.2.7) as a JWK named by its RFC 7638
/// thumbprint.
///
/// ```
/// use clavis_oauth::jose::client_keys::import_pem;
///
/// // An Ed25519 public key (RFC 8410 §10.1's example).
/// let jwk = import_pem(
///     "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
/// )
/// .unwrap();
/// assert_eq!((jwk.kty.as_str(), jwk.crv.as_deref()), ("OKP", Some("Ed25519")));
/// assert_eq!(jwk.kid, jwk.thumbprint());
/// ```
pub fn import_pem(pem_text: &str) -> Result<Jwk, KeyImportError> {
    use const_oid::db::{rfc5912, rfc8410};
    use spki::SubjectPublicKeyInfoRef;

    let block = pem::parse(pem_text.trim()).map_err(|_| {
        refuse("not a PEM public key: expected -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----")
    })?;
    match block.tag() {
        "PUBLIC KEY" => {}
        tag if tag.contains("PRIVATE KEY") => {
            return Err(refuse(
                "this is a private key: give the public key (-----BEGIN PUBLIC KEY-----), never the private one",
            ));
        }
        "CERTIFICATE" => return Err(refuse("this is a certificate: give its public key (-----BEGIN PUBLIC KEY-----)")),
        "RSA PUBLIC KEY" => {
            return Err(refuse(
                "this is a PKCS#1 RSA key: give it as -----BEGIN PUBLIC KEY----- (openssl rsa -RSAPublicKey_in -pubout)",
            ));
        }
        _ => return Err(refuse("not a PEM public key: expected -----BEGIN PUBLIC KEY-----")),
    }
    let info = SubjectPublicKeyInfoRef::try_from(block.contents())
        .map_err(|_| refuse("the PEM public key is not a valid SubjectPublicKeyInfo"))?;
    let bits = info.subject_public_key.as_bytes().ok_or_else(|| refuse("the PEM public key is malformed"))?;
    let oid = info.algorithm.oid;
    let blank = |kty: &str| Jwk {
        kty: kty.into(),
        use_: None,
        alg: None,
        kid: None,
        crv: None,
        n: None,
        e: None,
        x: None,
        y: None,
    };
    let mut jwk = if oid == rfc5912::RSA_ENCRYPTION {
        let key = pkcs1::RsaPublicKey::try_from(bits).map_err(|_| refuse("the PEM RSA public key is malformed"))?;
        Jwk {
            n: Some(super::b64(key.modulus.as_bytes())),
            e: Some(super::b64(key.public_exponent.as_bytes())),
            ..blank("RSA")
        }
    } else if oid == rfc5912::ID_EC_PUBLIC_KEY {
        if info.algorithm.parameters_oid().ok() != Some(rfc5912::SECP_256_R_1) {
            return Err(refuse("EC keys must be on P-256"));
        }
        // SEC 1 §2.3.3: 0x04 then x and y; the compressed forms are not taken.
        let (Some(4), 65) = (bits.first().copied(), bits.len()) else {
            return Err(refuse("the P-256 key must be an uncompressed point"));
        };
        Jwk {
            crv: Some("P-256".into()),
            x: Some(super::b64(&bits[1..33])),
            y: Some(super::b64(&bits[33..65])),
            ..blank("EC")
        }
    } else if oid == rfc8410::ID_ED_25519 {
        Jwk { crv: Some("Ed25519".into()), x: Some(super::b64(bits)), ..blank("OKP") }
    } else {
        return Err(refuse("key type must be RSA, EC (P-256) or Ed25519"));
    };
    finish(&mut jwk).map_err(refuse)?;
    Ok(jwk)
}
