//! `Verifier::from_env` at start-up: each mistake in the `JWT_SIGNING_KEY_*` variables is an
//! error that names the variable.
//!
//! This binary holds a single test, so that changing the process environment races with no
//! other test.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use regards_auth::{Algorithm, ConfigError, REGARDS_DEVELOPMENT_KEY, Verifier};

fn set(name: &str, value: impl AsRef<OsStr>) {
    // SAFETY: this test binary runs one test, and nothing else in it reads or writes the
    // environment while the test changes it.
    unsafe { std::env::set_var(name, value) }
}

fn clear_all() {
    for algorithm in Algorithm::ALL {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(algorithm.env_var()) }
    }
}

#[test]
fn from_env_reports_each_variable_mistake() {
    clear_all();
    assert_eq!(Verifier::from_env().unwrap_err(), ConfigError::NoKey);

    set("JWT_SIGNING_KEY_HS512", "");
    let error = Verifier::from_env().unwrap_err();
    assert_eq!(error, ConfigError::EmptyKey(Algorithm::HS512));
    assert!(error.to_string().contains("JWT_SIGNING_KEY_HS512"));

    set("JWT_SIGNING_KEY_HS512", "short-secret");
    assert_eq!(
        Verifier::from_env().unwrap_err(),
        ConfigError::HmacKeyTooShort {
            algorithm: Algorithm::HS512,
            len: 12
        }
    );

    set("JWT_SIGNING_KEY_HS512", REGARDS_DEVELOPMENT_KEY);
    assert_eq!(
        Verifier::from_env().unwrap_err(),
        ConfigError::DevelopmentKey(Algorithm::HS512)
    );
    let development = Verifier::builder()
        .keys_from_env()
        .allow_development_key()
        .build()
        .unwrap();
    assert_eq!(
        development.algorithms().collect::<Vec<_>>(),
        [Algorithm::HS512]
    );

    let secret = "a".repeat(64);
    set("JWT_SIGNING_KEY_HS512", &secret);
    let verifier = Verifier::from_env().unwrap();
    let issuer = regards_auth::TokenIssuer::new(Algorithm::HS512, &secret).unwrap();
    let token = issuer.mint("jane@regards.fr", regards_auth::Role::Admin, "project1");
    assert_eq!(verifier.verify(&token).unwrap().tenant(), "project1");

    set("JWT_SIGNING_KEY_RS256", "not base64!!");
    assert_eq!(
        Verifier::from_env().unwrap_err(),
        ConfigError::InvalidRsaKey(Algorithm::RS256)
    );
    // SAFETY: as in `set`.
    unsafe { std::env::remove_var("JWT_SIGNING_KEY_RS256") };

    set(
        "JWT_SIGNING_KEY_HS256",
        OsStr::from_bytes(b"secret-\xff-of-more-than-32-bytes!!"),
    );
    let error = Verifier::from_env().unwrap_err();
    assert_eq!(error, ConfigError::NotUnicode("JWT_SIGNING_KEY_HS256"));
    assert_eq!(
        error.to_string(),
        "the environment variable JWT_SIGNING_KEY_HS256 is not valid UTF-8"
    );
    clear_all();
}
