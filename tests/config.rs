//! Start-up configuration errors: every key mistake stops `build()` with an error that says
//! what to fix. RSA keys are generated at test time.

mod support;

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use regards_auth::{
    Algorithm, ConfigError, REGARDS_DEVELOPMENT_KEY, TokenIssuer, Verifier, VerifierBuilder,
};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use support::{RsaKeys, SERVICE_RSA};

/// A 1024-bit key: too weak for RFC 7518 §3.3.
static WEAK_RSA: LazyLock<RsaKeys> = LazyLock::new(|| RsaKeys::generate(1024));

fn error_of(builder: VerifierBuilder) -> ConfigError {
    builder
        .build()
        .expect_err("the configuration must be refused")
}

#[test]
fn no_key_is_refused_with_the_variables_to_set() {
    let error = error_of(Verifier::builder());
    assert_eq!(error, ConfigError::NoKey);
    assert_eq!(
        error.to_string(),
        "no token verification key is configured: set at least one of JWT_SIGNING_KEY_HS256, \
         JWT_SIGNING_KEY_HS384, JWT_SIGNING_KEY_HS512, JWT_SIGNING_KEY_RS256, \
         JWT_SIGNING_KEY_RS384, JWT_SIGNING_KEY_RS512 (REGARDS' jwt.signing-key.*), or give a key \
         to Verifier::builder()"
    );
}

#[test]
fn empty_hmac_key_is_refused() {
    for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let error = error_of(Verifier::builder().key(algorithm, ""));
        assert_eq!(error, ConfigError::EmptyKey(algorithm));
        assert_eq!(
            error.to_string(),
            format!(
                "the {algorithm} key ({}) is empty: give the key REGARDS signs tokens with \
                 (jwt.signing-key.{algorithm})",
                algorithm.env_var()
            )
        );
    }
}

#[test]
fn hmac_key_shorter_than_its_hash_is_refused() {
    for (algorithm, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        for len in [1, min - 1] {
            let error = error_of(Verifier::builder().key(algorithm, "k".repeat(len)));
            assert_eq!(error, ConfigError::HmacKeyTooShort { algorithm, len });
            assert_eq!(
                error.to_string(),
                format!(
                    "the {algorithm} key ({}) is {len} bytes long: {algorithm} needs a key of at \
                     least {min} bytes",
                    algorithm.env_var()
                )
            );
        }
        assert!(
            Verifier::builder()
                .key(algorithm, "k".repeat(min))
                .build()
                .is_ok()
        );
    }
}

#[test]
fn hmac_key_length_counts_bytes_not_characters() {
    // 16 four-byte characters: 64 bytes, enough for HS512.
    let key = "\u{1F511}".repeat(16);
    assert_eq!(key.len(), 64);
    assert!(Verifier::builder().hs512(&key).build().is_ok());
    let short = "\u{e9}".repeat(31); // 62 bytes
    assert_eq!(
        error_of(Verifier::builder().hs512(&short)),
        ConfigError::HmacKeyTooShort {
            algorithm: Algorithm::HS512,
            len: 62
        }
    );
}

#[test]
fn weak_rsa_key_is_refused_in_every_format() {
    let weak = &*WEAK_RSA;
    for key in [&weak.public_pem, &weak.public_der_base64] {
        let error = error_of(Verifier::builder().rs256(key));
        assert_eq!(
            error,
            ConfigError::RsaKeyTooSmall {
                algorithm: Algorithm::RS256,
                bits: 1024
            }
        );
        assert_eq!(
            error.to_string(),
            "the RS256 key (JWT_SIGNING_KEY_RS256) has 1024 bits: RSA keys need at least 2048 bits"
        );
    }
}

/// An RSA public key with an odd modulus of `bits` bits (a public key is loaded without
/// factoring, so the modulus needs no primes) as SubjectPublicKeyInfo PEM, base64 DER and
/// PKCS#1 PEM.
fn public_key_of_bits(bits: usize) -> [String; 3] {
    let mut modulus = vec![0xc5u8; bits / 8];
    *modulus.last_mut().unwrap() |= 1;
    let key = rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(&modulus),
        rsa::BigUint::from(65537u32),
        bits,
    )
    .unwrap();
    let der = key.to_public_key_der().unwrap();
    [
        key.to_public_key_pem(LineEnding::LF).unwrap(),
        STANDARD.encode(der.as_bytes()),
        key.to_pkcs1_pem(LineEnding::LF).unwrap(),
    ]
}

#[test]
fn rsa_key_over_4096_bits_is_refused_as_too_large() {
    for bits in [4104, 8192] {
        for key in public_key_of_bits(bits) {
            let error = error_of(Verifier::builder().rs384(&key));
            assert_eq!(
                error,
                ConfigError::RsaKeyTooLarge {
                    algorithm: Algorithm::RS384,
                    bits
                },
                "{key}"
            );
            assert_eq!(
                error.to_string(),
                format!(
                    "the RS384 key (JWT_SIGNING_KEY_RS384) has {bits} bits: RSA keys of at most \
                     4096 bits are supported"
                )
            );
        }
    }
    for key in public_key_of_bits(4096) {
        assert!(Verifier::builder().rs384(&key).build().is_ok());
    }
}

#[test]
fn rsa_key_of_2048_bits_is_accepted_in_every_format() {
    let keys = &*SERVICE_RSA;
    let pkcs1_pem = rsa::RsaPublicKey::from(&keys.private)
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    let wrapped: String = keys
        .public_der_base64
        .as_bytes()
        .chunks(64)
        .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
        .collect();
    for key in [
        keys.public_pem.clone(),
        pkcs1_pem,
        keys.public_der_base64.clone(),
        wrapped,
        format!("  {}\n", keys.public_der_base64),
    ] {
        for algorithm in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
            assert!(
                Verifier::builder().key(algorithm, &key).build().is_ok(),
                "{algorithm}: {key}"
            );
        }
    }
}

fn assert_invalid_rsa(key: &str) {
    let error = error_of(Verifier::builder().rs512(key));
    assert_eq!(error, ConfigError::InvalidRsaKey(Algorithm::RS512), "{key}");
    assert_eq!(
        error.to_string(),
        "the RS512 key (JWT_SIGNING_KEY_RS512) is not an RSA public key: give the standard \
         base64 of a DER SubjectPublicKeyInfo (REGARDS' format) or a PEM block"
    );
}

#[test]
fn malformed_base64_rsa_key_is_refused() {
    let der = &SERVICE_RSA.public_der_base64;
    assert_invalid_rsa("not base64!!");
    assert_invalid_rsa(&der[..der.len() - 1]);
    assert_invalid_rsa(&format!("{der}="));
    assert_invalid_rsa(&der.replace('A', "*"));
    // The URL-safe alphabet is not REGARDS' format.
    let url_safe = URL_SAFE.encode(&SERVICE_RSA.public_der);
    if url_safe != *der {
        assert_invalid_rsa(&url_safe);
    }
}

#[test]
fn base64_that_is_not_a_public_key_is_refused() {
    let der = &SERVICE_RSA.public_der;
    assert_invalid_rsa(&STANDARD.encode(b"hello, REGARDS"));
    assert_invalid_rsa(&STANDARD.encode(&der[..der.len() / 2]));
    assert_invalid_rsa(&STANDARD.encode([der.as_slice(), b"\0"].concat()));
    // An HMAC secret configured as the RSA key.
    assert_invalid_rsa(REGARDS_DEVELOPMENT_KEY);
}

#[test]
fn malformed_pem_rsa_key_is_refused() {
    let pem = &SERVICE_RSA.public_pem;
    assert_invalid_rsa(&pem.replace("-----END PUBLIC KEY-----", ""));
    assert_invalid_rsa(&pem.replace("PUBLIC KEY", "CERTIFICATE"));
    let body_start = pem.find('\n').unwrap() + 1;
    let mut corrupted = pem.clone();
    corrupted.replace_range(body_start..body_start + 4, "!!!!");
    assert_invalid_rsa(&corrupted);
    assert_invalid_rsa("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
}

#[test]
fn private_key_in_place_of_the_public_key_is_refused() {
    let private_pem = SERVICE_RSA
        .private
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    assert_invalid_rsa(&private_pem);
}

#[test]
fn empty_rsa_key_is_refused() {
    for key in ["", "   ", "\n\t\n"] {
        assert_eq!(
            error_of(Verifier::builder().rs256(key)),
            ConfigError::EmptyKey(Algorithm::RS256)
        );
    }
}

#[test]
fn non_utf8_rsa_key_is_refused() {
    assert_eq!(
        error_of(Verifier::builder().key(Algorithm::RS384, [0xff, 0xfe, 0x00])),
        ConfigError::InvalidRsaKey(Algorithm::RS384)
    );
}

#[test]
fn development_key_without_opt_in_is_refused() {
    for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let error = error_of(Verifier::builder().key(algorithm, REGARDS_DEVELOPMENT_KEY));
        assert_eq!(error, ConfigError::DevelopmentKey(algorithm));
        assert_eq!(
            error.to_string(),
            format!(
                "the {algorithm} key ({}) is REGARDS' public development key, with which anyone \
                 can sign tokens: configure the deployment's secret key, or opt in with \
                 allow_development_key() on a development machine",
                algorithm.env_var()
            )
        );
    }
}

#[test]
fn development_key_among_good_keys_is_still_refused() {
    let error = error_of(
        Verifier::builder()
            .hs256("a-deployment-secret-of-at-least-32-bytes")
            .rs256(&SERVICE_RSA.public_der_base64)
            .hs512(REGARDS_DEVELOPMENT_KEY),
    );
    assert_eq!(error, ConfigError::DevelopmentKey(Algorithm::HS512));
}

#[test]
fn development_key_with_opt_in_is_accepted() {
    let verifier = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .hs256(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    assert_eq!(verifier.algorithms().count(), 2);
    let token = TokenIssuer::development().mint("a", regards_auth::Role::Admin, "p");
    assert!(verifier.verify(&token).is_ok());
}

#[test]
fn issuer_refuses_the_development_key_and_weak_keys() {
    assert_eq!(
        TokenIssuer::new(Algorithm::HS512, REGARDS_DEVELOPMENT_KEY).unwrap_err(),
        ConfigError::DevelopmentKey(Algorithm::HS512)
    );
    assert_eq!(
        TokenIssuer::new(Algorithm::HS256, "").unwrap_err(),
        ConfigError::EmptyKey(Algorithm::HS256)
    );
    assert_eq!(
        TokenIssuer::new(Algorithm::HS512, "k".repeat(63)).unwrap_err(),
        ConfigError::HmacKeyTooShort {
            algorithm: Algorithm::HS512,
            len: 63
        }
    );
    let error = TokenIssuer::new(Algorithm::RS256, &SERVICE_RSA.public_pem).unwrap_err();
    assert_eq!(error, ConfigError::UnsupportedAlgorithm(Algorithm::RS256));
    assert_eq!(
        error.to_string(),
        "RS256 cannot be used here: use HS256, HS384 or HS512"
    );
}

#[test]
fn empty_audience_is_refused() {
    let error = error_of(Verifier::builder().hs512("k".repeat(64)).audience(""));
    assert_eq!(error, ConfigError::EmptyAudience);
    assert_eq!(
        error.to_string(),
        "the audience is empty: give the value tokens carry in `aud`"
    );
}

#[test]
fn first_mistake_is_reported() {
    // Keys are checked in the order of `Algorithm::ALL`.
    let error = error_of(
        Verifier::builder()
            .hs512("short")
            .hs256("")
            .rs256("not a key"),
    );
    assert_eq!(error, ConfigError::EmptyKey(Algorithm::HS256));
}
