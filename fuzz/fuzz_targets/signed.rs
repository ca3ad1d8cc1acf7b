//! Fuzzes the JSON behind the signature: the JOSE header and the claims are taken from the
//! input (`header \n claims`), encoded and signed with the key the verifier holds, so every
//! input reaches the header parser, the claims decoder and the time and audience checks.
//!
//! It checks that nothing panics and that a token verifies only when its header names HS512
//! (with no `crit`/`cty`/`zip`) and its claims are REGARDS claims (required non-empty strings).

#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use regards_auth::Verifier;
use serde_json::Value;
use sha2::Sha512;

/// A fuzzing fixture, not a deployment key.
const SECRET: &str = "fuzzing-fixture-hs512-secret-of-sixty-four-bytes-at-least-0123456789";

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::builder()
        .hs512(SECRET)
        .audience("rs-notifier")
        .build()
        .expect("the fixture key is valid")
});

fuzz_target!(|data: &[u8]| {
    let (header, claims) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut token);

    let Ok(verified) = VERIFIER.verify(&token) else {
        return;
    };
    let header = std::str::from_utf8(header).expect("a verified header is UTF-8");
    match serde_json::from_str::<Value>(header) {
        Ok(header) => {
            assert_eq!(header["alg"], "HS512");
            for refused in ["crit", "cty", "zip"] {
                assert!(header.get(refused).is_none(), "{refused} verified");
            }
        }
        // serde_json's `Value` refuses lone surrogate escapes (`\ud800`), which the JSON
        // grammar allows and the verifier reads past in members that grant nothing.
        Err(_) => assert!(
            header.contains("\\u"),
            "a verified header is JSON: {header}"
        ),
    }
    let claims: Value = serde_json::from_slice(claims).expect("verified claims are JSON");
    for name in ["sub", "email", "role", "tenant"] {
        let value = claims[name].as_str().expect("required claims are strings");
        assert!(!value.is_empty(), "{name} is empty");
    }
    assert_eq!(claims["tenant"].as_str(), Some(verified.tenant()));
    // A NumericDate: a fraction of a second is dropped from `exp`.
    let exp = &claims["exp"];
    let written = exp.as_u64().or(exp.as_f64().map(|exp| exp.floor() as u64));
    assert_eq!(written, Some(verified.exp()));
});
