//! Federated workload identity: trusted issuers, federated credentials, and
//! the token requests their tokens authenticate (static keys here; fetched
//! and discovered keys are in the server's tests, against a local issuer).

use clavis_oauth::OAuthError;
use clavis_oauth::jose::Algorithm;
use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::sign::{Signer, generate};
use clavis_oauth::request::RawRequest;
use std::time::{Duration, Instant};

use clavis_types::ManagementAccess;
use domain::services::{
    ClientKeysInput, CredentialKind, MAX_FEDERATED_CREDENTIALS, NewFederatedCredential, NewTrustedIssuer, TokenResponse,
};
use domain::{Error, TenantScope, Write};
use serde_json::json;

use super::invalidation::listening;
use super::support::{SharedDb, TestEnv, envs, payload_of, token};

const ISSUER: &str = "https://k8s.example.test";
const SUBJECT: &str = "system:serviceaccount:payments:api";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Fixture {
    tenant_id: String,
    scope: TenantScope<Write>,
    client_id: String,
    secret: String,
    issuer_id: String,
    signer: Signer,
    /// Another key under the same kid: what an attacker without the issuer's key signs with.
    impostor: Signer,
}

fn jwks_of(jwk: &clavis_oauth::jose::jwk::Jwk) -> String {
    serde_json::to_string(&JwkSet { keys: vec![jwk.clone()] }).unwrap()
}

async fn issuer(env: &TestEnv, scope: &TenantScope<Write>, url: &str, jwks: &str) -> String {
    let new = NewTrustedIssuer { name: "cluster".into(), issuer: url.into(), jwks_uri: None, jwks: Some(jwks.into()) };
    env.services.create_trusted_issuer(scope, new, env.now()).await.unwrap().id
}

/// A tenant, an application with a secret, a static-key issuer, and (if
/// `federate`) a federated credential for [`SUBJECT`] with the default audience.
async fn fixture(env: &TestEnv, federate: bool) -> Fixture {
    let (tenant, scope) = env.tenant("Acme").await;
    let app = env.services.create_application(&scope, "payments", ManagementAccess::None, env.now()).await.unwrap();
    let key = generate(Algorithm::Es256).unwrap();
    let other = generate(Algorithm::Es256).unwrap();
    let signer = Signer::from_pkcs8(&key.kid, key.alg, &key.pkcs8_der).unwrap();
    let impostor = Signer::from_pkcs8(&key.kid, other.alg, &other.pkcs8_der).unwrap();
    let issuer_id = issuer(env, &scope, ISSUER, &jwks_of(&key.public_jwk)).await;
    if federate {
        let new = NewFederatedCredential { issuer_id: issuer_id.clone(), subject: SUBJECT.into(), audience: None };
        env.services.create_federated_credential(&scope, &app.client_id, new, env.now()).await.unwrap();
    }
    Fixture {
        tenant_id: tenant.tenant_id,
        scope,
        client_id: app.client_id,
        secret: app.secret.unwrap(),
        issuer_id,
        signer,
        impostor,
    }
}

impl Fixture {
    fn audience(&self, env: &TestEnv) -> String {
        env.services.oauth_server_url(&self.tenant_id)
    }

    /// Kubernetes' projected service-account claims, issued now.
    fn claims(&self, env: &TestEnv) -> serde_json::Value {
        let now = env.now().timestamp();
        json!({"iss": ISSUER, "sub": SUBJECT, "aud": [self.audience(env)], "exp": now + 3600, "iat": now, "nbf": now})
    }
}

fn sign(signer: &Signer, claims: &serde_json::Value) -> String {
    signer.sign_jwt(claims.to_string().as_bytes()).unwrap()
}

/// A client credentials request authenticated by `assertion` alone.
async fn federated_token(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    assertion: &str,
) -> Result<TokenResponse, OAuthError> {
    let body = format!(
        "grant_type=client_credentials&client_id={client_id}&client_assertion_type={}&client_assertion={assertion}",
        form_urlencoded::byte_serialize(CLIENT_ASSERTION_TYPE.as_bytes()).collect::<String>()
    );
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

async fn refusal(env: &TestEnv, f: &Fixture, assertion: &str) -> String {
    let err = federated_token(env, &f.tenant_id, &f.client_id, assertion).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("invalid_client", 401), "{}: {err:?}", env.backend);
    err.description.into_owned()
}

#[tokio::test]
async fn a_federated_token_authenticates_the_application_and_its_secret_is_gone() {
    for env in envs().await {
        let f = fixture(&env, false).await;
        assert!(token(&env, &f.tenant_id, &f.client_id, &f.secret).await.is_ok(), "{}", env.backend);
        let new = NewFederatedCredential { issuer_id: f.issuer_id.clone(), subject: SUBJECT.into(), audience: None };
        let view = env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.unwrap();
        assert_eq!(view.audience, f.audience(&env), "the audience defaults to the tenant's oAuthServerUrl");
        assert_eq!(view.issuer, ISSUER);
        // The first federated credential deleted the secrets.
        assert!(token(&env, &f.tenant_id, &f.client_id, &f.secret).await.is_err(), "{}", env.backend);
        let issued = federated_token(&env, &f.tenant_id, &f.client_id, &sign(&f.signer, &f.claims(&env))).await;
        let access = issued.unwrap_or_else(|err| panic!("{}: {err:?}", env.backend)).access_token;
        let claims = payload_of(&access);
        assert_eq!(claims["sub"], f.client_id.as_str());
        assert_eq!(claims["iss"], f.audience(&env).as_str());
        // The same token again: workload tokens are reused until they rotate.
        let again = federated_token(&env, &f.tenant_id, &f.client_id, &sign(&f.signer, &f.claims(&env))).await;
        assert!(again.is_ok(), "{}", env.backend);
        let listed = env.services.list_federated_credentials(&f.scope, &f.client_id).await.unwrap();
        assert_eq!(listed, vec![view]);
        // No secret can be minted for a federated application.
        let rotated = env.services.rotate_secret(&f.scope, &f.client_id, 0, env.now()).await;
        assert!(matches!(rotated, Err(domain::Error::Conflict(_))), "{}: {rotated:?}", env.backend);
        let actions = env.audit_actions(&f.tenant_id).await;
        for action in ["trusted_issuer.create", "federated_credential.create"] {
            assert!(actions.iter().any(|a| a == action), "{}: {actions:?}", env.backend);
        }
    }
}

#[tokio::test]
async fn tokens_that_break_a_rule_are_refused_each_with_its_reason() {
    for env in envs().await {
        let f = fixture(&env, true).await;
        let now = env.now().timestamp();
        let with = |key: &str, value: serde_json::Value| {
            let mut claims = f.claims(&env);
            claims[key] = value;
            claims
        };
        let cases = [
            (sign(&f.signer, &with("sub", json!("system:serviceaccount:payments:other"))), "subject"),
            (sign(&f.signer, &with("sub", json!("system:serviceaccount:payments:API"))), "subject"),
            (sign(&f.signer, &with("aud", json!(["https://elsewhere.example"]))), "audience"),
            (sign(&f.signer, &with("aud", json!("https://elsewhere.example"))), "audience"),
            (sign(&f.signer, &with("exp", json!(now - 1))), "expired"),
            (sign(&f.signer, &with("iat", json!(now - 24 * 3600 - 1))), "24 hours"),
            (sign(&f.signer, &with("iat", json!(now + 600))), "future"),
            (sign(&f.signer, &with("nbf", json!(now + 600))), "not valid yet"),
            (sign(&f.signer, &with("iss", json!("https://unknown.example"))), "not trusted"),
            (sign(&f.impostor, &f.claims(&env)), "signature"),
        ];
        for (assertion, why) in cases {
            let description = refusal(&env, &f, &assertion).await;
            assert!(description.contains(why), "{}: {why}: {description}", env.backend);
        }
        let mut no_iat = f.claims(&env);
        no_iat.as_object_mut().unwrap().remove("iat");
        assert!(refusal(&env, &f, &sign(&f.signer, &no_iat)).await.contains("no iat"));
        // Attacker-controlled claim values are never echoed.
        let marker = with("sub", json!("system:serviceaccount:evil:marker-value"));
        assert!(!refusal(&env, &f, &sign(&f.signer, &marker)).await.contains("marker-value"));
        // The token still works once the rules are met.
        assert!(federated_token(&env, &f.tenant_id, &f.client_id, &sign(&f.signer, &f.claims(&env))).await.is_ok());
    }
}

#[tokio::test]
async fn an_issuer_removed_takes_its_credentials_with_it() {
    for env in envs().await {
        let f = fixture(&env, true).await;
        let assertion = sign(&f.signer, &f.claims(&env));
        assert!(federated_token(&env, &f.tenant_id, &f.client_id, &assertion).await.is_ok(), "{}", env.backend);
        env.services.delete_trusted_issuer(&f.scope, &f.issuer_id, env.now()).await.unwrap();
        assert!(refusal(&env, &f, &assertion).await.contains("not trusted"), "{}", env.backend);
        assert!(env.services.list_federated_credentials(&f.scope, &f.client_id).await.unwrap().is_empty());
        assert!(env.services.list_trusted_issuers(&f.scope).await.unwrap().is_empty());
        let err = env.services.delete_trusted_issuer(&f.scope, &f.issuer_id, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        assert!(env.audit_actions(&f.tenant_id).await.iter().any(|a| a == "trusted_issuer.delete"));
    }
}

/// Two processes on one database (replicas on PostgreSQL; a server and the
/// command line on SQLite), each with its invalidation listener and a clock
/// that stands still: only the `issuers:<tenant>` notice can make the other
/// one stop trusting the issuer it has cached.
#[tokio::test]
async fn an_issuer_removed_through_one_process_is_refused_by_another_within_a_second() {
    for db in SharedDb::all().await {
        let (here, there) = (db.instance().await, db.instance().await);
        let listeners = [listening(&here).await, listening(&there).await];
        let f = fixture(&here, true).await;
        let assertion = sign(&f.signer, &f.claims(&here));
        // Both accept it, so both hold the tenant's issuers and the client.
        for env in [&here, &there] {
            let issued = federated_token(env, &f.tenant_id, &f.client_id, &assertion).await;
            assert!(issued.is_ok(), "{}: {issued:?}", db.backend);
        }
        here.services.delete_trusted_issuer(&f.scope, &f.issuer_id, here.now()).await.unwrap();
        assert!(refusal(&here, &f, &assertion).await.contains("not trusted"), "{}: here", db.backend);
        // "Not trusted" is the issuer cache's answer: the client's notice
        // alone would leave the issuer cached there, and the refusal would
        // name the missing credential instead.
        let start = Instant::now();
        loop {
            match federated_token(&there, &f.tenant_id, &f.client_id, &assertion).await {
                Err(err) if err.description.contains("not trusted") => break,
                other => assert!(
                    start.elapsed() < Duration::from_secs(1),
                    "{}: the removal is not honoured elsewhere within a second: {other:?}",
                    db.backend
                ),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for listener in listeners {
            listener.abort();
        }
    }
}

/// An application authenticates one way: one with public keys gets no
/// federated credential until its keys are removed.
#[tokio::test]
async fn an_application_with_public_keys_gets_no_federated_credential() {
    for env in envs().await {
        let f = fixture(&env, false).await;
        let key = generate(Algorithm::Es256).unwrap();
        let input = ClientKeysInput::Jwks(jwks_of(&key.public_jwk));
        env.services.set_client_keys(&f.scope, &f.client_id, input, env.now()).await.unwrap();
        let new = NewFederatedCredential { issuer_id: f.issuer_id.clone(), subject: SUBJECT.into(), audience: None };
        match env.services.create_federated_credential(&f.scope, &f.client_id, new.clone(), env.now()).await {
            Err(Error::Conflict(message)) => assert!(message.contains("public keys"), "{}: {message}", env.backend),
            other => panic!("{}: {other:?}", env.backend),
        }
        // Nothing was added; the keys still authenticate the application.
        assert!(env.services.list_federated_credentials(&f.scope, &f.client_id).await.unwrap().is_empty());
        let view = env.services.get_application(&f.scope, &f.client_id, env.now()).await.unwrap();
        assert_eq!(view.credential, CredentialKind::Keys, "{}", env.backend);
        assert!(!env.audit_actions(&f.tenant_id).await.iter().any(|a| a == "federated_credential.create"));
        // Once the keys are removed, the credential can be added.
        env.services.delete_client_keys(&f.scope, &f.client_id, env.now()).await.unwrap();
        let added = env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await;
        assert!(added.is_ok(), "{}: {added:?}", env.backend);
    }
}

#[tokio::test]
async fn an_application_has_at_most_twenty_federated_credentials() {
    for env in envs().await {
        let f = fixture(&env, false).await;
        for i in 0..MAX_FEDERATED_CREDENTIALS {
            let new = NewFederatedCredential {
                issuer_id: f.issuer_id.clone(),
                subject: format!("system:serviceaccount:ns:sa-{i}"),
                audience: Some("api://clavis".into()),
            };
            env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.unwrap();
        }
        let new = NewFederatedCredential { issuer_id: f.issuer_id.clone(), subject: "one-more".into(), audience: None };
        let err = env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.unwrap_err();
        let Error::Conflict(message) = err else { panic!("{}: {err:?}", env.backend) };
        assert!(message.contains("at most 20"), "{message}");
        let listed = env.services.list_federated_credentials(&f.scope, &f.client_id).await.unwrap();
        assert_eq!(listed.len() as u64, MAX_FEDERATED_CREDENTIALS);
        // Removing one makes room again.
        env.services.delete_federated_credential(&f.scope, &f.client_id, &listed[0].id, env.now()).await.unwrap();
        let new = NewFederatedCredential { issuer_id: f.issuer_id.clone(), subject: "one-more".into(), audience: None };
        assert!(env.services.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.is_ok());
    }
}

#[tokio::test]
async fn another_tenants_issuers_and_credentials_are_not_found() {
    for env in envs().await {
        let a = fixture(&env, true).await;
        let b = fixture(&env, false).await;
        let s = &env.services;
        // B cannot see, delete or use A's issuer; A's application is not B's.
        assert!(s.list_trusted_issuers(&b.scope).await.unwrap().iter().all(|i| i.id != a.issuer_id));
        let err = s.delete_trusted_issuer(&b.scope, &a.issuer_id, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        let new = NewFederatedCredential { issuer_id: a.issuer_id.clone(), subject: SUBJECT.into(), audience: None };
        let err = s.create_federated_credential(&b.scope, &b.client_id, new.clone(), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound("trusted issuer")), "{err:?}");
        let err = s.create_federated_credential(&b.scope, &a.client_id, new, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound("application")), "{err:?}");
        let err = s.list_federated_credentials(&b.scope, &a.client_id).await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        let id = s.list_federated_credentials(&a.scope, &a.client_id).await.unwrap()[0].id.clone();
        let err = s.delete_federated_credential(&b.scope, &a.client_id, &id, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        // A's token at B's token endpoint: B trusts the same issuer URL, but
        // A's application is not B's.
        let assertion = sign(&a.signer, &a.claims(&env));
        assert!(federated_token(&env, &b.tenant_id, &a.client_id, &assertion).await.is_err());
        assert!(federated_token(&env, &a.tenant_id, &a.client_id, &assertion).await.is_ok(), "{}", env.backend);
    }
}

#[tokio::test]
async fn trusted_issuers_are_checked_and_unique_per_tenant() {
    for env in envs().await {
        let f = fixture(&env, false).await;
        let s = &env.services;
        let new = |issuer: &str, jwks_uri: Option<&str>, jwks: Option<&str>| NewTrustedIssuer {
            name: "ci".into(),
            issuer: issuer.into(),
            jwks_uri: jwks_uri.map(Into::into),
            jwks: jwks.map(Into::into),
        };
        let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}]}"#;
        for (bad, why) in [
            (new("http://ci.example", None, None), "https"),
            (new("https://ci.example?x=1", None, None), "query"),
            (new("not a url", None, None), "URL"),
            (new("https://ci.example", Some("http://keys.example/jwks"), None), "https"),
            (new("https://ci.example", Some("https://k.example/jwks"), Some(r#"{"keys":[]}"#)), "not both"),
            (new("https://ci.example", None, Some(private)), "private"),
            (new("https://ci.example", None, Some("{")), "jwks"),
            (NewTrustedIssuer { name: "x".repeat(51), ..new("https://ci.example", None, None) }, "name"),
        ] {
            match s.create_trusted_issuer(&f.scope, bad.clone(), env.now()).await {
                Err(Error::Validation(message)) => assert!(message.contains(why), "{bad:?}: {message}"),
                other => panic!("{}: {bad:?}: {other:?}", env.backend),
            }
        }
        let err = s.create_trusted_issuer(&f.scope, new(ISSUER, None, None), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{}: {err:?}", env.backend);
        let github = "https://token.actions.githubusercontent.com";
        let created = s.create_trusted_issuer(&f.scope, new(github, None, None), env.now()).await.unwrap();
        assert_eq!((created.jwks_uri.as_deref(), created.jwks.as_ref()), (None, None), "discovery");
        let uri = "http://127.0.0.1:9/jwks";
        let created = s.create_trusted_issuer(&f.scope, new("http://localhost:9", Some(uri), None), env.now()).await;
        assert_eq!(created.unwrap().jwks_uri.as_deref(), Some(uri));
        let mut listed: Vec<String> =
            s.list_trusted_issuers(&f.scope).await.unwrap().into_iter().map(|i| i.issuer).collect();
        listed.sort();
        assert_eq!(listed, ["http://localhost:9", ISSUER, github]);
        // Subjects and audiences are checked too.
        for (subject, audience) in [("", None), (&*"s".repeat(513), None), ("ok", Some("a\u{7}b"))] {
            let new = NewFederatedCredential {
                issuer_id: f.issuer_id.clone(),
                subject: subject.into(),
                audience: audience.map(Into::into),
            };
            let err = s.create_federated_credential(&f.scope, &f.client_id, new, env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Validation(_)), "{err:?}");
        }
    }
}
