//! `Verifier` against tokens from an independent library (jsonwebtoken): every supported
//! algorithm with the right key, a wrong key and no key; key confusion; time and header rules;
//! start-up configuration errors.

mod common;

use std::time::Duration;

use common::{
    SECRET, claims, hs_token, now_plus, other_rsa_keys, rs_token, rsa_keys, weak_rsa_keys,
};
use jsonwebtoken::Algorithm as Jwt;
use regards_auth::{Algorithm, AuthError, ConfigError, REGARDS_DEVELOPMENT_KEY, Role, Verifier};

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
            (claims.role, claims.tenant.as_str()),
            (Role::Admin, "project1"),
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
        assert_eq!(claims.role, Role::Admin, "{alg}");
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
fn no_key_is_a_configuration_error() {
    let error = Verifier::builder().build().unwrap_err();
    assert_eq!(error, ConfigError::NoKey);
    assert!(
        error.to_string().contains("JWT_SIGNING_KEY_HS512"),
        "{error}"
    );
}

#[test]
fn empty_key_is_a_configuration_error() {
    assert_eq!(
        Verifier::builder().hs512("").build().unwrap_err(),
        ConfigError::EmptyKey(Algorithm::HS512)
    );
    assert_eq!(
        Verifier::builder().rs256("").build().unwrap_err(),
        ConfigError::EmptyKey(Algorithm::RS256)
    );
}

#[test]
fn short_hmac_keys_are_configuration_errors() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let key = "k".repeat(min - 1);
        let error = Verifier::builder().key(alg, &key).build().unwrap_err();
        assert_eq!(
            error,
            ConfigError::HmacKeyTooShort {
                algorithm: alg,
                len: min - 1
            }
        );
        assert!(
            error.to_string().contains(&format!("at least {min} bytes")),
            "{error}"
        );
        assert!(
            Verifier::builder()
                .key(alg, "k".repeat(min))
                .build()
                .is_ok()
        );
    }
}

#[test]
fn development_key_needs_the_opt_in() {
    let error = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .build()
        .unwrap_err();
    assert_eq!(error, ConfigError::DevelopmentKey(Algorithm::HS512));
    assert!(
        error.to_string().contains("allow_development_key"),
        "{error}"
    );
    assert!(
        Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .is_ok()
    );
}

#[test]
fn weak_rsa_key_is_a_configuration_error() {
    let error = Verifier::builder()
        .rs256(&weak_rsa_keys().public_der_base64)
        .build()
        .unwrap_err();
    assert_eq!(
        error,
        ConfigError::RsaKeyTooSmall {
            algorithm: Algorithm::RS256,
            bits: 1024
        }
    );
}

#[test]
fn undecodable_rsa_keys_are_configuration_errors() {
    let truncated = &rsa_keys().public_der_base64[..100];
    for bad in [
        "not base64!",
        "AAAA",
        truncated,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ] {
        assert_eq!(
            Verifier::builder().rs256(bad).build().unwrap_err(),
            ConfigError::InvalidRsaKey(Algorithm::RS256),
            "{bad}"
        );
    }
}

#[test]
fn hmac_secret_given_as_rsa_key_is_a_configuration_error() {
    assert_eq!(
        Verifier::builder().rs256(SECRET).build().unwrap_err(),
        ConfigError::InvalidRsaKey(Algorithm::RS256)
    );
}
