//! TokenManager with a DPoP key: proofs on token requests, the server nonce, `token_type: DPoP`, and proofs for API requests.

use std::time::{SystemTime, UNIX_EPOCH};

use clavis_oauth::dpop::{self, Expected};
use clavis_sdk::{PrivateKey, SigningAlgorithm, TokenError, TokenManager};

use crate::support::quick_retries;
use crate::support::stub::{Script, StubTokenEndpoint, jwt_claims, jwt_header};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn manager(stub: &StubTokenEndpoint, alg: SigningAlgorithm) -> TokenManager {
    TokenManager::builder(stub.oauth_server_url(), "client-1", "secret-1")
        .dpop_key(PrivateKey::generate(alg).unwrap())
        .retry_policy(quick_retries(2))
        .build()
        .unwrap()
}

fn nonce_demanding(nonce: &str) -> Script {
    Script { token_type: "DPoP", required_nonce: Some(nonce.into()), always_demand_nonce: false }
}

#[tokio::test]
async fn token_requests_carry_a_proof_and_follow_the_servers_nonce_once() {
    for alg in SigningAlgorithm::ALL {
        let stub = StubTokenEndpoint::start(nonce_demanding("nonce-1")).await;
        let tokens = manager(&stub, alg);
        let token = tokens.access_token().await.unwrap();
        assert_eq!(token.token_type(), "DPoP");
        let received = stub.received();
        assert_eq!(received.len(), 2, "{alg}: one retry with the nonce");
        let proofs: Vec<String> = received.iter().map(|r| r.header_values("dpop").concat()).collect();
        let mut jtis = Vec::new();
        for (proof, nonce) in proofs.iter().zip([None, Some("nonce-1")]) {
            assert_eq!(jwt_header(proof)["typ"], "dpop+jwt");
            assert_eq!(jwt_header(proof)["alg"], alg.name());
            assert_eq!(jwt_claims(proof)["nonce"].as_str(), nonce, "{alg}");
            let expected = Expected { htm: "POST", htu: &stub.token_url(), nonces: None, access_token: None };
            let verified = dpop::verify(proof, &expected, now()).unwrap();
            assert_eq!(Some(verified.jkt.as_str()), tokens.dpop_thumbprint(), "{alg}");
            assert!(jwt_claims(proof).get("ath").is_none(), "no token yet, no ath");
            jtis.push(verified.jti);
        }
        assert_ne!(jtis[0], jtis[1]);
        // The nonce is remembered: the next token request sends it at once.
        tokens.invalidate();
        tokens.access_token().await.unwrap();
        let received = stub.received();
        assert_eq!(received.len(), 3, "{alg}");
        assert_eq!(jwt_claims(&received[2].header_values("dpop")[0])["nonce"], "nonce-1");
    }
    // A new nonce replaces the old one.
    let stub = StubTokenEndpoint::start(nonce_demanding("nonce-1")).await;
    let tokens = manager(&stub, SigningAlgorithm::Es256);
    tokens.access_token().await.unwrap();
    stub.set_script(nonce_demanding("nonce-2"));
    tokens.invalidate();
    tokens.access_token().await.unwrap();
    let received = stub.received();
    assert_eq!(received.len(), 4);
    assert_eq!(jwt_claims(&received[3].header_values("dpop")[0])["nonce"], "nonce-2");
}

#[tokio::test]
async fn a_second_nonce_demand_or_a_bearer_answer_is_an_error() {
    let stub = StubTokenEndpoint::start(Script { always_demand_nonce: true, ..nonce_demanding("nonce-1") }).await;
    let tokens = manager(&stub, SigningAlgorithm::EdDsa);
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::Refused { status: 400, error, .. } if error == "use_dpop_nonce"), "{err:?}");
    assert_eq!(stub.received().len(), 2, "one retry with the nonce, no more");

    // A server that ignores the proof and answers Bearer gave an unbound token.
    let stub = StubTokenEndpoint::start(Script::default()).await;
    let err = manager(&stub, SigningAlgorithm::Es256).access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::InvalidResponse(why) if why.contains("not DPoP")), "{err:?}");
    // Without a DPoP key, a DPoP answer is as wrong.
    let stub = StubTokenEndpoint::start(Script { token_type: "DPoP", ..Script::default() }).await;
    let tokens = TokenManager::builder(stub.oauth_server_url(), "client-1", "secret-1").build().unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::InvalidResponse(why) if why.contains("not Bearer")), "{err:?}");
    assert!(stub.received()[0].headers.get("dpop").is_none());
}

#[tokio::test]
async fn api_requests_get_a_fresh_proof_naming_the_request_and_the_token() {
    let stub = StubTokenEndpoint::start(Script { token_type: "DPoP", ..Script::default() }).await;
    let tokens = manager(&stub, SigningAlgorithm::Ps256);
    let url = "https://api.example/orders/7?expand=lines#top";
    let first = tokens.authorize("get", url).await.unwrap();
    let second = tokens.authorize("get", url).await.unwrap();
    assert_eq!(first.authorization(), "DPoP token-1");
    assert_eq!(stub.received().len(), 1, "the token is cached; proofs are not");
    let expected =
        Expected { htm: "GET", htu: "https://api.example/orders/7", nonces: None, access_token: Some("token-1") };
    let a = dpop::verify(first.dpop().unwrap(), &expected, now()).unwrap();
    let b = dpop::verify(second.dpop().unwrap(), &expected, now()).unwrap();
    assert_ne!(a.jti, b.jti, "one proof per request");
    assert_eq!(jwt_claims(first.dpop().unwrap())["htu"], "https://api.example/orders/7", "no query or fragment");

    // With a resource server's nonce.
    let token = tokens.access_token().await.unwrap();
    let proof = tokens.dpop_proof_with_nonce("POST", "https://api.example/orders", &token, "rs-nonce").unwrap();
    let accepted = ["rs-nonce"];
    let expected = Expected {
        htm: "POST",
        htu: "https://api.example/orders",
        nonces: Some(&accepted),
        access_token: Some("token-1"),
    };
    dpop::verify(&proof, &expected, now()).unwrap();
    for (method, url) in [("GET", "/relative"), ("GE T", "https://api.example/"), ("", "https://api.example/")] {
        let err = tokens.dpop_proof(method, url, &token).unwrap_err();
        assert!(matches!(err, TokenError::Credential(_)), "{method:?} {url:?}: {err:?}");
    }

    // Without a DPoP key: a bearer header and no proof.
    let stub = StubTokenEndpoint::start(Script::default()).await;
    let tokens = TokenManager::builder(stub.oauth_server_url(), "client-1", "secret-1").build().unwrap();
    let auth = tokens.authorize("GET", url).await.unwrap();
    assert_eq!(auth.authorization(), "Bearer token-1");
    assert_eq!(auth.dpop(), None);
    let token = tokens.access_token().await.unwrap();
    assert!(matches!(tokens.dpop_proof("GET", url, &token), Err(TokenError::Credential(_))));
}
