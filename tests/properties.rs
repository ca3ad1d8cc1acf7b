//! Property tests: whatever a client sends, the crate neither panics nor answers 5xx, and it
//! lets a request through only with the exact valid token.
//!
//! The stack (`BearerAuthLayer` + `RequireRoleLayer` + a recording handler) is polled once
//! without a runtime: none of its futures waits.

mod support;

use std::sync::LazyLock;

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request};
use proptest::prelude::*;
use proptest::test_runner::Config;
use regards_auth::{Algorithm, AuthError, BearerAuthLayer, RequireRoleLayer, Role, Verifier};
use support::*;

/// One valid token for the whole run (minted once: the clock does not matter for an hour).
static VALID: LazyLock<String> = LazyLock::new(valid_token);

/// A verifier with the suite's HMAC keys only: the property tests need no RSA key.
fn hmac_verifier() -> Verifier {
    Verifier::builder()
        .hs512(HS512_SECRET)
        .hs256(HS256_SECRET)
        .build()
        .expect("the suite's keys are valid")
}

/// Sends a request with `Authorization: <value>` (when `value` is a valid header value)
/// through the whole stack, with public access on, and checks the invariants that hold for
/// any request. Returns the outcome.
fn send_any(value: Option<HeaderValue>, uri: &str) -> Option<Outcome> {
    let mut builder = Request::get(uri);
    if let Some(value) = value {
        builder = builder.header(AUTHORIZATION, value);
    }
    let request = builder.body(String::new()).ok()?;
    let layer = BearerAuthLayer::new(hmac_verifier()).allow_public();
    let outcome = send_now(
        layer,
        Some(RequireRoleLayer::at_least(Role::Public)),
        request,
    );
    assert!(
        outcome.status < 500,
        "a client's request got a {}",
        outcome.status
    );
    if outcome.handled.is_some() {
        assert_eq!(outcome.status, 200);
        assert!(outcome.challenges.is_empty());
    } else {
        assert!(
            matches!(outcome.status, 400 | 401 | 403),
            "{}",
            outcome.status
        );
        assert_eq!(outcome.challenges.len(), 1, "exactly one challenge");
        let reason = outcome
            .reason
            .expect("the reason travels with the rejection");
        assert_eq!(outcome.body, reason.body(), "fixed body, nothing reflected");
    }
    Some(outcome)
}

/// The token of an `Authorization` value the crate accepted (scheme, spaces, token).
fn accepted_token(value: &[u8]) -> &str {
    let value = std::str::from_utf8(value).expect("an accepted value is ASCII");
    let (scheme, token) = value.split_once(' ').expect("scheme and token");
    assert!(scheme.eq_ignore_ascii_case("bearer"));
    token.trim_start_matches(' ')
}

/// `Authorization` values built from the pieces that matter: a scheme, a separator, and a
/// token that is the valid one, a one-character variant of it, or made of b64token
/// characters, dots and a few others.
fn authorization_parts() -> impl Strategy<Value = (String, &'static str, String)> {
    let scheme = prop_oneof![
        Just("Bearer".to_owned()),
        Just("bearer".to_owned()),
        Just("BEARER".to_owned()),
        Just("Basic".to_owned()),
        "[A-Za-z]{0,8}",
    ];
    let separator = prop_oneof![Just(" "), Just("  "), Just("\t"), Just(""), Just(" \t")];
    let token = prop_oneof![
        Just(VALID.clone()),
        flipped_token(),
        "[A-Za-z0-9._~+/=-]{0,200}",
        "[A-Za-z0-9_-]{1,40}\\.[A-Za-z0-9_-]{1,80}\\.[A-Za-z0-9_-]{0,90}",
        "[ -~]{0,120}",
    ];
    (scheme, separator, token)
}

/// The valid token with one character replaced by another.
fn flipped_token() -> impl Strategy<Value = String> {
    let len = VALID.len();
    (0..len, any::<char>()).prop_filter_map("the character must change", |(index, c)| {
        let original = VALID.as_bytes()[index] as char;
        (c != original).then(|| {
            let mut token = VALID.clone();
            token.replace_range(index..=index, c.encode_utf8(&mut [0; 4]));
            token
        })
    })
}

/// JSON values up to a small depth, for signed payloads and headers.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("ADMIN".to_owned()),
            Just("project1".to_owned()),
            Just("HS512".to_owned()),
            Just(String::new()),
            ".{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let names = prop_oneof![
            Just("sub".to_owned()),
            Just("email".to_owned()),
            Just("role".to_owned()),
            Just("tenant".to_owned()),
            Just("exp".to_owned()),
            Just("nbf".to_owned()),
            Just("aud".to_owned()),
            Just("accessGroups".to_owned()),
            Just("alg".to_owned()),
            Just("typ".to_owned()),
            Just("crit".to_owned()),
            Just("zip".to_owned()),
            "[a-z]{1,4}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(names, inner, 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn arbitrary_authorization_bytes_never_fail_open(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        if let Some(outcome) = send_any(Some(value), "/resource")
            && let Some(claims) = &outcome.handled
        {
            prop_assert!(!claims.is_anonymous(), "no scope, so no public identity");
            prop_assert_eq!(accepted_token(&bytes), VALID.as_str());
        }
    }

    #[test]
    fn structured_authorization_values_are_accepted_exactly_with_the_valid_token(
        (scheme, separator, token) in authorization_parts(),
    ) {
        let bytes = format!("{scheme}{separator}{token}").into_bytes();
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let must_pass = scheme.eq_ignore_ascii_case("bearer")
            && !separator.is_empty()
            && separator.bytes().all(|b| b == b' ')
            && token == *VALID;
        if let Some(outcome) = send_any(Some(value), "/resource") {
            prop_assert_eq!(outcome.handled.is_some(), must_pass, "{:?}", outcome);
            if must_pass {
                prop_assert_eq!(accepted_token(&bytes), VALID.as_str());
            }
        }
    }

    #[test]
    fn arbitrary_query_and_scope_never_fail_open(
        query in "[ -~]{0,80}",
        scope in prop::collection::vec(any::<u8>(), 0..40),
        with_token in any::<bool>(),
    ) {
        let uri = format!("/resource?{}", query.replace(['#', ' '], ""));
        let mut builder = Request::get(uri.as_str());
        if let Ok(scope) = HeaderValue::from_bytes(&scope) {
            builder = builder.header("scope", scope);
        }
        if with_token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {}", *VALID));
        }
        let Ok(request) = builder.body(String::new()) else { return Ok(()) };
        let outcome = send_now(BearerAuthLayer::new(hmac_verifier()).allow_public(), None, request);
        prop_assert!(outcome.status < 500);
        if let Some(claims) = &outcome.handled {
            // Through: either the valid token (whose tenant any scope must name) or PUBLIC.
            if with_token {
                prop_assert_eq!(claims.tenant(), TENANT);
                prop_assert!(!claims.is_anonymous());
            } else {
                prop_assert!(claims.is_anonymous());
            }
        } else {
            prop_assert_eq!(outcome.challenges.len(), 1);
        }
    }

    #[test]
    fn arbitrary_strings_never_verify(token in any::<String>()) {
        let verifier = hmac_verifier();
        prop_assert!(verifier.verify(&token).is_err() || token == *VALID);
    }

    #[test]
    fn token_shaped_strings_never_verify(
        token in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,120}",
    ) {
        prop_assert!(hmac_verifier().verify(&token).is_err());
    }

    #[test]
    fn flipping_one_character_of_a_valid_token_is_rejected(token in flipped_token()) {
        prop_assert!(hmac_verifier().verify(&token).is_err());
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            let outcome = send_any(Some(value), "/resource").expect("a valid request");
            prop_assert!(outcome.handled.is_none());
            prop_assert_eq!(outcome.status, 401);
        }
    }

    #[test]
    fn signed_arbitrary_claims_are_accepted_only_when_well_formed(payload in json_value()) {
        let json = serde_json::to_vec(&payload).expect("JSON values serialize");
        let token = hs512(&json);
        if let Ok(claims) = hmac_verifier().verify(&token) {
            let object = payload.as_object().expect("only an object can be claims");
            for name in ["sub", "email", "role", "tenant"] {
                let value = object[name].as_str().expect("required strings");
                prop_assert!(!value.is_empty());
            }
            // A NumericDate: whole seconds as written, a fraction dropped (exp) or rounded up (nbf).
            let exp = &object["exp"];
            prop_assert_eq!(Some(claims.exp()), exp.as_u64().or(exp.as_f64().map(|exp| exp.floor() as u64)));
            match object.get("nbf").filter(|nbf| !nbf.is_null()) {
                Some(nbf) => prop_assert_eq!(claims.not_before(), nbf.as_u64().or(nbf.as_f64().map(|nbf| nbf.ceil() as u64))),
                None => prop_assert_eq!(claims.not_before(), None),
            }
            let role = object["role"].as_str().unwrap();
            prop_assert_ne!(role, "ROLE_");
            prop_assert_eq!(claims.role(), &Role::from_name(role));
            prop_assert_eq!(claims.tenant(), object["tenant"].as_str().unwrap());
            // Null optional members are absent; nothing null is kept at the top level.
            match object.get("accessGroups").filter(|groups| !groups.is_null()) {
                Some(groups) => prop_assert_eq!(&serde_json::to_value(claims.access_groups()).unwrap(), groups),
                None => prop_assert!(claims.access_groups().is_empty()),
            }
            prop_assert!(claims.additional_claims().values().all(|value| !value.is_null()));
        }
    }

    #[test]
    fn role_display_reads_back_as_the_same_role(name in "(ROLE_){0,3}(SYS_)?(ADMIN|PUBLIC|[A-Za-z_]{0,6})|.{0,12}") {
        let role = Role::from_name(&name);
        prop_assert_eq!(Role::from_name(&role.to_string()), role);
    }

    #[test]
    fn role_prefix_names_the_same_role_once(name in "(ROLE_){0,2}(SYS_)?(ADMIN|EXPLOIT|[A-Za-z_]{0,6})|.{0,12}") {
        let prefixed = Role::from_name(&format!("ROLE_{name}"));
        if name.starts_with("ROLE_") {
            // Stripped once: ROLE_ROLE_X is the role named ROLE_X, never X.
            prop_assert_eq!(prefixed, Role::Custom(name));
        } else {
            prop_assert_eq!(prefixed, Role::from_name(&name));
        }
    }

    #[test]
    fn numeric_dates_round_toward_refusal(seconds in 0f64..1.8e19, round_up in any::<bool>()) {
        let text = serde_json::to_string(&seconds).unwrap();
        // As serde_json reads the number (its default parser may be one ulp off for long ones).
        let parsed: f64 = serde_json::from_str(&text).unwrap();
        let (name, expected) = if round_up {
            ("nbf", parsed.ceil() as u64)
        } else {
            ("exp", parsed.floor() as u64)
        };
        let json = Payload::regards().set(name, text).json();
        let claims: regards_auth::Claims = serde_json::from_str(&json).expect("a NumericDate");
        let read = if round_up { claims.not_before().unwrap() } else { claims.exp() };
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn fractional_dates_of_this_era_round_to_the_neighbouring_seconds(
        whole in 0u64..1 << 34,
        millis in 1u32..1000,
    ) {
        let text = format!("{whole}.{millis:03}");
        let json = Payload::regards().set("exp", text.clone()).set("nbf", text).json();
        let claims: regards_auth::Claims = serde_json::from_str(&json).expect("NumericDates");
        prop_assert_eq!(claims.exp(), whole);
        prop_assert_eq!(claims.not_before(), Some(whole + 1));
    }

    #[test]
    fn negative_numeric_dates_are_refused(seconds in f64::MIN..-1e-300, name in prop_oneof![Just("exp"), Just("nbf")]) {
        let json = Payload::regards().set(name, serde_json::to_string(&seconds).unwrap()).json();
        prop_assert!(serde_json::from_str::<regards_auth::Claims>(&json).is_err());
    }

    #[test]
    fn signed_arbitrary_payload_bytes_never_panic(payload in prop::collection::vec(any::<u8>(), 0..300)) {
        let token = hs512(&payload);
        prop_assert!(hmac_verifier().verify(&token).is_err());
    }

    #[test]
    fn signed_arbitrary_headers_pass_only_with_a_configured_alg(header in json_value()) {
        let header = serde_json::to_string(&header).expect("JSON values serialize");
        let token = hand_token(&header, Payload::regards().json(), Algorithm::HS512, HS512_SECRET.as_bytes());
        if hmac_verifier().verify(&token).is_ok() {
            let parsed: serde_json::Value = serde_json::from_str(&header).unwrap();
            prop_assert_eq!(parsed["alg"].as_str(), Some("HS512"));
            for refused in ["crit", "cty", "zip"] {
                prop_assert!(parsed.get(refused).is_none(), "{} verified", refused);
            }
            if let Some(typ) = parsed.get("typ") {
                let typ = typ.as_str().expect("typ is a string").to_ascii_lowercase();
                let typ = typ.strip_prefix("application/").unwrap_or(&typ);
                prop_assert!(typ == "jwt" || typ == "jose", "{}", typ);
            }
        }
    }
}

/// Every single-character substitution of a valid token, over the whole b64token alphabet and
/// the dot: none verifies. Exhaustive, so no lucky draw is needed.
#[test]
fn every_single_character_substitution_is_rejected() {
    const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";
    let verifier = hmac_verifier();
    let valid = VALID.as_bytes();
    let mut tried = 0;
    for index in 0..valid.len() {
        for &c in CHARSET.iter().filter(|&&c| c != valid[index]) {
            let mut token = valid.to_vec();
            token[index] = c;
            let token = String::from_utf8(token).unwrap();
            assert!(verifier.verify(&token).is_err(), "{index}: {}", c as char);
            tried += 1;
        }
    }
    assert!(tried > 100 * CHARSET.len());
}

/// Dropping or duplicating any one character of a valid token is rejected too.
#[test]
fn every_single_character_deletion_or_duplication_is_rejected() {
    let verifier = hmac_verifier();
    for index in 0..VALID.len() {
        let mut deleted = VALID.clone();
        deleted.remove(index);
        assert!(verifier.verify(&deleted).is_err(), "deleted {index}");
        let mut doubled = VALID.clone();
        doubled.insert(index, VALID.as_bytes()[index] as char);
        assert!(verifier.verify(&doubled).is_err(), "doubled {index}");
    }
}

/// The reasons a property run can see are client errors only.
#[test]
fn every_client_visible_reason_is_a_4xx() {
    for reason in [
        AuthError::MissingCredentials,
        AuthError::MultipleCredentials,
        AuthError::TokenInQuery,
        AuthError::InvalidScope,
        AuthError::MalformedToken,
        AuthError::TokenTooLarge,
        AuthError::UnsupportedAlgorithm,
        AuthError::InvalidSignature,
        AuthError::UnsupportedHeader,
        AuthError::Expired,
        AuthError::NotYetValid,
        AuthError::InvalidAudience,
        AuthError::InvalidClaims,
        AuthError::InsufficientRole,
        AuthError::TenantMismatch,
    ] {
        assert!(reason.status().is_client_error(), "{reason:?}");
        assert!(reason.challenge().is_some(), "{reason:?}");
    }
}
