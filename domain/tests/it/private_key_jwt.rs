//! `private_key_jwt` (RFC 7523 §2.2): an application's keys, set and
//! removed, and token requests authenticated by assertions it signs, with
//! one test per assertion rule.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_oauth::OAuthError;
use clavis_oauth::request::RawRequest;
use clavis_types::ManagementAccess;
use domain::services::{ClientKeysInput, CredentialKind, TokenResponse};
use domain::{Error, TenantScope, Write};
use serde_json::{Value, json};

use super::support::{SharedDb, TestEnv, envs, payload_of, token};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A client key: the pair that signs, its public JWK.
struct TestKey {
    pair: Pair,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key(kid: &str) -> TestKey {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = pair.public_key();
    let jwk = json!({"kty": "RSA", "kid": kid, "n": b64(public.modulus().big_endian_without_leading_zero()),
                     "e": b64(public.exponent().big_endian_without_leading_zero())});
    TestKey { pair: Pair::Rsa(pair), jwk }
}

fn ec_key(kid: &str) -> TestKey {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    TestKey { pair: Pair::Ec(pair), jwk }
}

fn ed_key(kid: &str) -> TestKey {
    let pair = Ed25519KeyPair::generate().unwrap();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(pair.public_key().as_ref())});
    TestKey { pair: Pair::Ed(pair), jwk }
}

impl TestKey {
    /// A JWS of `claims` with header `{alg, kid}` (`kid` left out when `None`).
    fn sign(&self, alg: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let rng = SystemRandom::new();
        let signature = match (&self.pair, alg) {
            (Pair::Rsa(pair), "RS256" | "PS256") => {
                let mut sig = vec![0; pair.public_modulus_len()];
                let padding = if alg == "PS256" { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
                pair.sign(padding, &rng, input.as_bytes(), &mut sig).unwrap();
                sig
            }
            (Pair::Ec(pair), "ES256") => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            (Pair::Ed(pair), "EdDSA") => pair.sign(input.as_bytes()).as_ref().to_vec(),
            _ => panic!("{alg} does not go with this key"),
        };
        format!("{input}.{}", b64(&signature))
    }

    fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap()
    }
}

struct Fixture {
    tenant_id: String,
    scope: TenantScope<Write>,
    client_id: String,
    secret: String,
    token_endpoint: String,
}

fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

/// A tenant and an application (with its first secret), keyed with `keys`.
async fn fixture(env: &TestEnv, keys: &[&TestKey]) -> Fixture {
    let (tenant, scope) = env.tenant("Acme").await;
    let app = env.services.create_application(&scope, "payments", ManagementAccess::None, env.now()).await.unwrap();
    if !keys.is_empty() {
        let input = ClientKeysInput::Jwks(jwks(keys));
        env.services.set_client_keys(&scope, &app.client_id, input, env.now()).await.unwrap();
    }
    Fixture {
        token_endpoint: format!("{}/token", env.services.oauth_server_url(&tenant.tenant_id)),
        tenant_id: tenant.tenant_id,
        scope,
        client_id: app.client_id,
        secret: app.secret.unwrap(),
    }
}

impl Fixture {
    /// Good claims: issued now, for five minutes less a second.
    fn claims(&self, env: &TestEnv, jti: &str) -> Value {
        let now = env.now().timestamp();
        json!({"iss": self.client_id, "sub": self.client_id, "aud": self.token_endpoint,
               "iat": now, "exp": now + 299, "jti": jti})
    }
}

/// A client credentials request authenticated by `assertion`, naming
/// `client_id` when it is given.
async fn assertion_token(
    env: &TestEnv,
    tenant_id: &str,
    client_id: Option<&str>,
    assertion: &str,
) -> Result<TokenResponse, OAuthError> {
    let mut body = format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
        form_urlencoded::byte_serialize(ASSERTION_TYPE.as_bytes()).collect::<String>()
    );
    if let Some(client_id) = client_id {
        body.push_str(&format!("&client_id={client_id}"));
    }
    let raw = RawRequest {
        authorization: None,
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(body.as_bytes()),
        dpop: None,
        several_dpops: false,
    };
    env.services.token(tenant_id, raw, None, env.now()).await
}

/// The description of the 401 `invalid_client` that `assertion` gets.
async fn refusal(env: &TestEnv, f: &Fixture, assertion: &str) -> String {
    let err = assertion_token(env, &f.tenant_id, Some(&f.client_id), assertion).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("invalid_client", 401), "{}: {err:?}", env.backend);
    err.description.into_owned()
}

#[tokio::test]
async fn private_key_jwt_each_algorithm_authenticates_and_the_old_secret_is_gone() {
    for env in envs().await {
        let (rsa, ec, ed) = (rsa_key("rsa"), ec_key("ec"), ed_key("ed"));
        let f = fixture(&env, &[]).await;
        assert!(token(&env, &f.tenant_id, &f.client_id, &f.secret).await.is_ok(), "{}", env.backend);
        let set = env
            .services
            .set_client_keys(&f.scope, &f.client_id, ClientKeysInput::Jwks(jwks(&[&rsa, &ec, &ed])), env.now())
            .await
            .unwrap();
        assert_eq!(set.keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["rsa", "ec", "ed"]);
        assert_eq!(set.keys[1].thumbprint.len(), 43);
        assert_eq!(
            token(&env, &f.tenant_id, &f.client_id, &f.secret).await,
            Err(clavis_oauth::ErrorCode::InvalidClient),
            "{}: a key-authenticated application has no secret",
            env.backend
        );
        for (i, (key, alg, kid)) in [
            (&rsa, "RS256", Some("rsa")),
            (&rsa, "PS256", Some("rsa")),
            (&ec, "ES256", Some("ec")),
            (&ed, "EdDSA", Some("ed")),
            (&ec, "ES256", None),
        ]
        .into_iter()
        .enumerate()
        {
            let assertion = key.sign(alg, kid, &f.claims(&env, &format!("jti-{i}")));
            let issued = assertion_token(&env, &f.tenant_id, Some(&f.client_id), &assertion).await;
            let access = issued.unwrap_or_else(|err| panic!("{} {alg}: {err:?}", env.backend)).access_token;
            assert_eq!(payload_of(&access)["sub"], f.client_id.as_str());
        }
        // The issuer URL is an audience too, and client_id may be left out.
        let mut claims = f.claims(&env, "no-client-id");
        claims["aud"] = json!(["https://other.example", env.services.oauth_server_url(&f.tenant_id)]);
        let issued = assertion_token(&env, &f.tenant_id, None, &ec.sign("ES256", Some("ec"), &claims)).await;
        assert!(issued.is_ok(), "{}: client_id comes from sub: {issued:?}", env.backend);
        let view = env.services.get_application(&f.scope, &f.client_id, env.now()).await.unwrap();
        assert_eq!(view.credential, CredentialKind::Keys);
        assert_eq!(view.secret_last_four, "", "{}: the secrets were deleted", env.backend);
        // No secret can be minted for it either: it would never authenticate.
        let rotated = env.services.rotate_secret(&f.scope, &f.client_id, 0, env.now()).await;
        assert!(matches!(rotated, Err(domain::Error::Conflict(_))), "{}: {rotated:?}", env.backend);
        let actions = env.audit_actions(&f.tenant_id).await;
        assert!(actions.iter().any(|a| a == "application.keys.set"), "{}: {actions:?}", env.backend);
        // Once its keys are removed it has no credential, and a secret can be made again.
        env.services.delete_client_keys(&f.scope, &f.client_id, env.now()).await.unwrap();
        let rotated = env.services.rotate_secret(&f.scope, &f.client_id, 0, env.now()).await.unwrap();
        assert!(token(&env, &f.tenant_id, &f.client_id, &rotated.secret).await.is_ok(), "{}", env.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_assertions_breaking_a_rule_are_refused_each_with_its_reason() {
    for env in envs().await {
        let (ec, rsa) = (ec_key("ec"), rsa_key("rsa"));
        let f = fixture(&env, &[&ec, &rsa]).await;
        let now = env.now().timestamp();
        let with = |member: &str, value: Value| {
            let mut claims = f.claims(&env, &format!("jti-{member}"));
            claims[member] = value;
            claims
        };
        let mut no_jti = f.claims(&env, "x");
        no_jti.as_object_mut().unwrap().remove("jti");
        let cases = [
            (
                with("aud", json!("https://id.example.test/oauth/v4/other/token")),
                "assertion audience does not name this token endpoint",
            ),
            (with("exp", json!(now - 1)), "assertion expired"),
            (with("exp", json!(now + 301)), "assertion lives too long: exp must be at most 5 minutes after iat"),
            (no_jti, "assertion has no jti"),
            (with("sub", json!("someone-else")), "assertion sub must be the client ID"),
            (with("iat", json!(now + 120)), "assertion iat is in the future"),
            (with("nbf", json!(now + 120)), "assertion is not valid yet (nbf)"),
        ];
        for (claims, why) in cases {
            assert_eq!(refusal(&env, &f, &ec.sign("ES256", Some("ec"), &claims)).await, why, "{}", env.backend);
        }
        let claims = f.claims(&env, "keys");
        // Wrong key: another pair under the application's kid.
        let impostor = ec_key("ec");
        assert_eq!(
            refusal(&env, &f, &impostor.sign("ES256", Some("ec"), &claims)).await,
            "assertion signature verification failed"
        );
        // An alg that does not match the key the kid names.
        assert_eq!(
            refusal(&env, &f, &rsa.sign("RS256", Some("ec"), &claims)).await,
            "assertion alg does not match the key"
        );
        assert_eq!(
            refusal(&env, &f, &rsa.sign("RS256", Some("nope"), &claims)).await,
            "the assertion is signed with an unknown key"
        );
        // none and HMAC are never accepted.
        let payload = b64(claims.to_string().as_bytes());
        let none = format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"ec"}"#));
        let refused = "assertion alg must be RS256, PS256, ES256 or EdDSA";
        assert_eq!(refusal(&env, &f, &none).await, refused);
        let hs = format!("{}.{payload}.{}", b64(br#"{"alg":"HS256","kid":"ec"}"#), b64(&[7; 32]));
        assert_eq!(refusal(&env, &f, &hs).await, refused);
        // The good assertion still works after all of that.
        assert!(
            assertion_token(&env, &f.tenant_id, Some(&f.client_id), &ec.sign("ES256", Some("ec"), &claims))
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn private_key_jwt_an_rsa_key_naming_its_alg_verifies_only_that_one() {
    for env in envs().await {
        let mut rsa = rsa_key("rsa");
        rsa.jwk["alg"] = json!("RS256");
        let f = fixture(&env, &[&rsa]).await;
        let ps = rsa.sign("PS256", Some("rsa"), &f.claims(&env, "ps"));
        assert_eq!(refusal(&env, &f, &ps).await, "assertion alg does not match the key", "{}", env.backend);
        let rs = rsa.sign("RS256", Some("rsa"), &f.claims(&env, "rs"));
        assert!(assertion_token(&env, &f.tenant_id, Some(&f.client_id), &rs).await.is_ok(), "{}", env.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_a_jti_is_spent_once_across_replicas() {
    for db in SharedDb::all().await {
        let (a, b) = (db.instance().await, db.instance().await);
        let ec = ec_key("ec");
        let f = fixture(&a, &[&ec]).await;
        let assertion = ec.sign("ES256", Some("ec"), &f.claims(&a, "once"));
        assert!(assertion_token(&a, &f.tenant_id, Some(&f.client_id), &assertion).await.is_ok(), "{}", db.backend);
        assert_eq!(refusal(&b, &f, &assertion).await, "assertion jti was already used", "{}", db.backend);
        assert_eq!(refusal(&a, &f, &assertion).await, "assertion jti was already used", "{}", db.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_a_client_id_naming_another_application_is_refused() {
    for env in envs().await {
        let ec = ec_key("ec");
        let f = fixture(&env, &[&ec]).await;
        let other =
            env.services.create_application(&f.scope, "other", ManagementAccess::None, env.now()).await.unwrap();
        // Signed by the first application, for its own client ID, sent as the other's.
        let assertion = ec.sign("ES256", Some("ec"), &f.claims(&env, "other"));
        let err = assertion_token(&env, &f.tenant_id, Some(&other.client_id), &assertion).await.unwrap_err();
        assert_eq!((err.code.as_str(), err.status), ("invalid_client", 401), "{}", env.backend);
        // An application without keys gets nothing from an assertion naming itself.
        let mut claims = f.claims(&env, "self");
        claims["iss"] = json!(other.client_id);
        claims["sub"] = json!(other.client_id);
        let err = assertion_token(&env, &f.tenant_id, None, &ec.sign("ES256", Some("ec"), &claims)).await.unwrap_err();
        assert_eq!(err.description, "the application has no keys for private_key_jwt", "{}", env.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_keys_are_checked_at_import_and_can_be_removed() {
    for env in envs().await {
        let (ec, ed) = (ec_key("ec"), ed_key("ed"));
        let f = fixture(&env, &[]).await;
        let mut private = ec.jwk.clone();
        private["d"] = json!("c2VjcmV0");
        let rsa = rsa_key("rsa");
        let n = URL_SAFE_NO_PAD.decode(rsa.jwk["n"].as_str().unwrap()).unwrap();
        let mut rsa_1024 = rsa.jwk.clone();
        rsa_1024["n"] = json!(b64(&n[..128]));
        for (keys, why) in
            [(json!({"keys": [private]}), "private member \"d\""), (json!({"keys": [rsa_1024]}), "at least 2048 bits")]
        {
            let input = ClientKeysInput::Jwks(keys.to_string());
            match env.services.set_client_keys(&f.scope, &f.client_id, input, env.now()).await {
                Err(Error::Validation(message)) => assert!(message.contains(why), "{}: {message}", env.backend),
                other => panic!("{}: {other:?}", env.backend),
            }
        }
        assert!(matches!(env.services.client_keys(&f.scope, &f.client_id).await, Err(Error::NotFound(_))));
        assert!(token(&env, &f.tenant_id, &f.client_id, &f.secret).await.is_ok(), "a refused import changes nothing");

        let input = ClientKeysInput::Jwks(jwks(&[&ec, &ed]));
        env.services.set_client_keys(&f.scope, &f.client_id, input, env.now()).await.unwrap();
        let left = env.services.delete_client_key(&f.scope, &f.client_id, "ec", env.now()).await.unwrap();
        assert_eq!(left.keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["ed"]);
        assert_eq!(
            refusal(&env, &f, &ec.sign("ES256", Some("ec"), &f.claims(&env, "removed"))).await,
            "the assertion is signed with an unknown key",
            "{}: a removed key no longer verifies",
            env.backend
        );
        assert!(matches!(
            env.services.delete_client_key(&f.scope, &f.client_id, "ec", env.now()).await,
            Err(Error::NotFound(_))
        ));
        // Another tenant sees no such application.
        let (_, elsewhere) = env.tenant("Elsewhere").await;
        assert!(matches!(env.services.client_keys(&elsewhere, &f.client_id).await, Err(Error::NotFound(_))));
        env.services.delete_client_keys(&f.scope, &f.client_id, env.now()).await.unwrap();
        assert_eq!(
            refusal(&env, &f, &ed.sign("EdDSA", Some("ed"), &f.claims(&env, "gone"))).await,
            "the application has no keys for private_key_jwt"
        );
        let view = env.services.get_application(&f.scope, &f.client_id, env.now()).await.unwrap();
        assert_eq!(view.credential, CredentialKind::Secret);
        assert!(token(&env, &f.tenant_id, &f.client_id, &f.secret).await.is_err(), "its old secret stays gone");
    }
}

#[tokio::test]
async fn private_key_jwt_one_pem_public_key_is_accepted() {
    use aws_lc_rs::encoding::AsDer;
    for env in envs().await {
        let f = fixture(&env, &[]).await;
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.public_key().as_der().unwrap();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der.as_ref())
        );
        let set =
            env.services.set_client_keys(&f.scope, &f.client_id, ClientKeysInput::Pem(pem), env.now()).await.unwrap();
        let kid = set.keys[0].kid.clone();
        assert_eq!(kid, set.keys[0].thumbprint, "a PEM key is named by its thumbprint");
        let key = TestKey { pair: Pair::Ec(pair), jwk: json!({"kid": kid}) };
        let assertion = key.sign("ES256", Some(key.kid()), &f.claims(&env, "pem"));
        assert!(assertion_token(&env, &f.tenant_id, Some(&f.client_id), &assertion).await.is_ok(), "{}", env.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_an_application_with_federated_credentials_cannot_get_keys() {
    use domain::services::{NewFederatedCredential, NewTrustedIssuer};
    for env in envs().await {
        let ec = ec_key("ec");
        let f = fixture(&env, &[]).await;
        let issuer = NewTrustedIssuer {
            name: "cluster".into(),
            issuer: "https://k8s.example.test".into(),
            jwks_uri: None,
            jwks: Some(jwks(&[&ec_key("cluster")])),
        };
        let issuer_id = env.services.create_trusted_issuer(&f.scope, issuer, env.now()).await.unwrap().id;
        let new = NewFederatedCredential { issuer_id, subject: "system:serviceaccount:ns:sa".into(), audience: None };
        env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.unwrap();
        let view = env.services.get_application(&f.scope, &f.client_id, env.now()).await.unwrap();
        assert_eq!(view.credential, CredentialKind::Federated, "{}", env.backend);
        let input = ClientKeysInput::Jwks(jwks(&[&ec]));
        match env.services.set_client_keys(&f.scope, &f.client_id, input, env.now()).await {
            Err(Error::Conflict(message)) => assert!(message.contains("federated"), "{}: {message}", env.backend),
            other => panic!("{}: {other:?}", env.backend),
        }
        assert!(matches!(env.services.client_keys(&f.scope, &f.client_id).await, Err(Error::NotFound(_))));
    }
}
