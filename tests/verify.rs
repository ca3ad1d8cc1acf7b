//! `Verifier` against tokens from an independent library (jsonwebtoken): every supported
//! algorithm with the right key, a wrong key and no key; key confusion; time and header rules.
//! Start-up configuration errors are in `tests/config.rs`.

mod support;

use std::time::Duration;

use jsonwebtoken::{Algorithm as Jwt, EncodingKey, Header};
use regards_auth::{Algorithm, AuthError, ConfigError, Role, Verifier};
use support::{ATTACKER_RSA, RsaKeys, SERVICE_RSA};

/// A 64-byte HMAC secret of these tests (not a deployment key).
const SECRET: &str = "a-deployment-secret-of-sixty-four-bytes-for-the-integration-tests";

/// REGARDS-shaped claims for `role` on `tenant`, expiring at `exp`.
fn claims(role: &str, tenant: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({
        "tenant": tenant, "role": role, "sub": "jane@regards.fr", "email": "jane@regards.fr", "exp": exp
    })
}

/// Seconds since the epoch, plus `offset`.
fn now_plus(offset: i64) -> u64 {
    support::now().saturating_add_signed(offset)
}

/// A token signed by jsonwebtoken with an HMAC secret.
fn hs_token(alg: Jwt, secret: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// A token signed by jsonwebtoken with an RSA private key.
fn rs_token(alg: Jwt, keys: &RsaKeys, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &keys.encoding_key()).unwrap()
}

fn rsa_keys() -> &'static RsaKeys {
    &SERVICE_RSA
}

fn other_rsa_keys() -> &'static RsaKeys {
    &ATTACKER_RSA
}

const OTHER_SECRET: &str = "another-secret-of-sixty-four-bytes-that-the-verifier-does-not-know";

fn valid_claims() -> serde_json::Value {
    claims("ADMIN", "project1", now_plus(3600))
}

fn hs_verifier(alg: Algorithm) -> Verifier {
    Verifier::builder().key(alg, SECRET).build().unwrap()
}

#[test]
fn hmac_algorithms_verify_with_their_key() {
    for (alg, jwt) in [
        (Algorithm::HS256, Jwt::HS256),
        (Algorithm::HS384, Jwt::HS384),
        (Algorithm::HS512, Jwt::HS512),
    ] {
        let token = hs_token(jwt, SECRET.as_bytes(), &valid_claims());
        let claims = hs_verifier(alg).verify(&token).unwrap();
        assert_eq!(
            (claims.role(), claims.tenant()),
            (&Role::Admin, "project1"),
            "{alg}"
        );
    }
}

#[test]
fn hmac_algorithms_refuse_a_wrong_key() {
    for (alg, jwt) in [
        (Algorithm::HS256, Jwt::HS256),
        (Algorithm::HS384, Jwt::HS384),
        (Algorithm::HS512, Jwt::HS512),
    ] {
        let token = hs_token(jwt, OTHER_SECRET.as_bytes(), &valid_claims());
        assert_eq!(
            hs_verifier(alg).verify(&token),
            Err(AuthError::InvalidSignature),
            "{alg}"
        );
    }
}

#[test]
fn unconfigured_algorithm_is_refused() {
    let hs512_only = hs_verifier(Algorithm::HS512);
    for jwt in [Jwt::HS256, Jwt::HS384] {
        let token = hs_token(jwt, SECRET.as_bytes(), &valid_claims());
        assert_eq!(
            hs512_only.verify(&token),
            Err(AuthError::UnsupportedAlgorithm),
            "{jwt:?}"
        );
    }
    let token = rs_token(Jwt::RS256, rsa_keys(), &valid_claims());
    assert_eq!(
        hs512_only.verify(&token),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn rsa_algorithms_verify_with_regards_der_key() {
    let keys = rsa_keys();
    for (alg, jwt) in [
        (Algorithm::RS256, Jwt::RS256),
        (Algorithm::RS384, Jwt::RS384),
        (Algorithm::RS512, Jwt::RS512),
    ] {
        let verifier = Verifier::builder()
            .key(alg, &keys.public_der_base64)
            .build()
            .unwrap();
        let claims = verifier
            .verify(&rs_token(jwt, keys, &valid_claims()))
            .unwrap();
        assert_eq!(claims.role(), &Role::Admin, "{alg}");
    }
}

#[test]
fn rsa_key_is_accepted_as_pem() {
    let keys = rsa_keys();
    let verifier = Verifier::builder().rs256(&keys.public_pem).build().unwrap();
    assert!(
        verifier
            .verify(&rs_token(Jwt::RS256, keys, &valid_claims()))
            .is_ok()
    );
}

#[test]
fn rsa_algorithms_refuse_another_key() {
    for (alg, jwt) in [
        (Algorithm::RS256, Jwt::RS256),
        (Algorithm::RS384, Jwt::RS384),
        (Algorithm::RS512, Jwt::RS512),
    ] {
        let verifier = Verifier::builder()
            .key(alg, &rsa_keys().public_der_base64)
            .build()
            .unwrap();
        let token = rs_token(jwt, other_rsa_keys(), &valid_claims());
        assert_eq!(
            verifier.verify(&token),
            Err(AuthError::InvalidSignature),
            "{alg}"
        );
    }
}

#[test]
fn rs_token_is_refused_under_another_rs_alg() {
    let verifier = Verifier::builder()
        .rs512(&rsa_keys().public_der_base64)
        .build()
        .unwrap();
    let token = rs_token(Jwt::RS256, rsa_keys(), &valid_claims());
    assert_eq!(
        verifier.verify(&token),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn hmac_over_the_rsa_public_key_is_refused() {
    // The classic confusion: an attacker signs HS256 with the public key as the HMAC secret.
    let keys = rsa_keys();
    let verifier = Verifier::builder().rs256(&keys.public_pem).build().unwrap();
    for secret in [
        keys.public_pem.as_bytes(),
        keys.public_der_base64.as_bytes(),
    ] {
        let token = hs_token(Jwt::HS256, secret, &valid_claims());
        assert_eq!(
            verifier.verify(&token),
            Err(AuthError::UnsupportedAlgorithm)
        );
    }
    // With an HS256 key configured too, the forged MAC still fails: keys are per algorithm.
    let both = Verifier::builder()
        .rs256(&keys.public_pem)
        .hs256(SECRET)
        .build()
        .unwrap();
    let token = hs_token(Jwt::HS256, keys.public_pem.as_bytes(), &valid_claims());
    assert_eq!(both.verify(&token), Err(AuthError::InvalidSignature));
}

#[test]
fn pss_token_is_refused() {
    let verifier = Verifier::builder()
        .rs256(&rsa_keys().public_pem)
        .build()
        .unwrap();
    let token = rs_token(Jwt::PS256, rsa_keys(), &valid_claims());
    assert_eq!(
        verifier.verify(&token),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

fn unsigned(header: &str, claims: &serde_json::Value, signature: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{signature}",
        b64.encode(header),
        b64.encode(claims.to_string())
    )
}

#[test]
fn alg_none_is_refused() {
    let verifier = hs_verifier(Algorithm::HS512);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        assert_eq!(
            verifier.verify(&unsigned(&header, &valid_claims(), "")),
            Err(AuthError::UnsupportedAlgorithm)
        );
        assert_eq!(
            verifier.verify(&unsigned(&header, &valid_claims(), "c2ln")),
            Err(AuthError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn expired_token_is_refused() {
    let token = hs_token(
        Jwt::HS512,
        SECRET.as_bytes(),
        &claims("ADMIN", "p", now_plus(-120)),
    );
    assert_eq!(
        hs_verifier(Algorithm::HS512).verify(&token),
        Err(AuthError::Expired)
    );
}

#[test]
fn expiry_within_the_leeway_is_tolerated() {
    let token = hs_token(
        Jwt::HS512,
        SECRET.as_bytes(),
        &claims("ADMIN", "p", now_plus(-30)),
    );
    assert!(
        hs_verifier(Algorithm::HS512).verify(&token).is_ok(),
        "default leeway is 60 s"
    );
    let strict = Verifier::builder()
        .hs512(SECRET)
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(strict.verify(&token), Err(AuthError::Expired));
}

#[test]
fn missing_exp_is_refused() {
    let mut claims = valid_claims();
    claims.as_object_mut().unwrap().remove("exp");
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
    assert_eq!(
        hs_verifier(Algorithm::HS512).verify(&token),
        Err(AuthError::InvalidClaims)
    );
}

#[test]
fn future_nbf_is_refused() {
    let mut claims = valid_claims();
    claims["nbf"] = now_plus(600).into();
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
    assert_eq!(
        hs_verifier(Algorithm::HS512).verify(&token),
        Err(AuthError::NotYetValid)
    );
    claims["nbf"] = now_plus(-10).into();
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
    assert!(hs_verifier(Algorithm::HS512).verify(&token).is_ok());
}

#[test]
fn ill_typed_claims_are_refused() {
    for (name, value) in [
        ("role", serde_json::json!(1)),
        ("tenant", serde_json::json!(null)),
        ("sub", serde_json::json!("")),
        ("exp", serde_json::json!("4102444800")),
    ] {
        let mut claims = valid_claims();
        claims[name] = value;
        let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
        assert_eq!(
            hs_verifier(Algorithm::HS512).verify(&token),
            Err(AuthError::InvalidClaims),
            "{name}"
        );
    }
}

#[test]
fn crit_header_is_refused() {
    let mut header = jsonwebtoken::Header::new(Jwt::HS512);
    header.crit = Some(vec!["exp".into()]);
    let token = jsonwebtoken::encode(
        &header,
        &valid_claims(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        hs_verifier(Algorithm::HS512).verify(&token),
        Err(AuthError::UnsupportedHeader)
    );
}

#[test]
fn jsonwebtoken_typ_jwt_header_is_accepted() {
    // jsonwebtoken writes {"typ":"JWT","alg":...}: typ JWT is fine.
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &valid_claims());
    assert!(hs_verifier(Algorithm::HS512).verify(&token).is_ok());
}

#[test]
fn audience_is_refused_unless_configured() {
    let mut claims = valid_claims();
    claims["aud"] = "rs-notifier".into();
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
    assert_eq!(
        hs_verifier(Algorithm::HS512).verify(&token),
        Err(AuthError::InvalidAudience)
    );
    let notifier = Verifier::builder()
        .hs512(SECRET)
        .audience("rs-notifier")
        .build()
        .unwrap();
    assert!(notifier.verify(&token).is_ok());
    let catalog = Verifier::builder()
        .hs512(SECRET)
        .audience("rs-catalog")
        .build()
        .unwrap();
    assert_eq!(catalog.verify(&token), Err(AuthError::InvalidAudience));
    claims["aud"] = serde_json::json!(["rs-catalog", "rs-notifier"]);
    let token = hs_token(Jwt::HS512, SECRET.as_bytes(), &claims);
    assert!(notifier.verify(&token).is_ok());
}

#[test]
fn hmac_secret_given_as_rsa_key_is_a_configuration_error() {
    assert_eq!(
        Verifier::builder().rs256(SECRET).build().unwrap_err(),
        ConfigError::InvalidRsaKey(Algorithm::RS256)
    );
}
