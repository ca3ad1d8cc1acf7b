//! `Verifier::from_env` reads REGARDS' `JWT_SIGNING_KEY_*` variables. One test in its own binary:
//! it changes the process environment.

use regards_auth::{Algorithm, ConfigError, REGARDS_DEVELOPMENT_KEY, TokenIssuer, Verifier};

fn set(var: &str, value: Option<&str>) {
    // SAFETY: this binary runs a single test, so no other thread reads the environment.
    unsafe {
        match value {
            Some(value) => std::env::set_var(var, value),
            None => std::env::remove_var(var),
        }
    }
}

#[test]
fn from_env_reads_the_regards_variables() {
    for alg in Algorithm::ALL {
        set(alg.env_var(), None);
    }
    assert_eq!(Verifier::from_env().unwrap_err(), ConfigError::NoKey);

    let secret = "an-hs512-secret-read-from-the-environment-sixty-four-bytes-long!!";
    set("JWT_SIGNING_KEY_HS512", Some(secret));
    let verifier = Verifier::from_env().unwrap();
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        [Algorithm::HS512]
    );
    let issuer = TokenIssuer::new(Algorithm::HS512, secret).unwrap();
    let token = issuer.mint("jane@regards.fr", regards_auth::Role::Admin, "project1");
    assert_eq!(verifier.verify(&token).unwrap().tenant, "project1");

    set("JWT_SIGNING_KEY_HS256", Some(""));
    assert_eq!(
        Verifier::from_env().unwrap_err(),
        ConfigError::EmptyKey(Algorithm::HS256)
    );

    set("JWT_SIGNING_KEY_HS256", Some(REGARDS_DEVELOPMENT_KEY));
    assert_eq!(
        Verifier::from_env().unwrap_err(),
        ConfigError::DevelopmentKey(Algorithm::HS256)
    );
    let development = Verifier::builder()
        .keys_from_env()
        .allow_development_key()
        .build()
        .unwrap();
    assert_eq!(development.algorithms().count(), 2);
}
