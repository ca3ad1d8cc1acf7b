//! RFC 6750 / RFC 7515 / RFC 7519 / RFC 8725 conformance suite: one named test per case, each
//! asserting the status, the exact `WWW-Authenticate` value, the reason the crate gives, the
//! fixed body, and whether the handler ran.
//!
//! Requests go through `BearerAuthLayer` (and `RequireRoleLayer` for authorization) with
//! `tower::ServiceExt::oneshot`, to a handler that records the claims it was called with.
//! Attack tokens are written by hand (base64url segments built here) as well as minted with
//! the crate's `TokenIssuer` and, for RSA, `jsonwebtoken` with keys generated at test time.
//!
//! Families: header layer, JWS structure, algorithms and keys, time, claims, authorization.
//! SECURITY.md lists the cases.

mod support;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request};
use regards_auth::{
    Algorithm, AuthError, BearerAuthLayer, Claims, ConfigError, REGARDS_DEVELOPMENT_KEY,
    RequireRoleLayer, Role, RoleHierarchy, TokenIssuer, Verifier,
};
use rsa::traits::PublicKeyParts;
use support::*;

use AuthError::*;

// ---------------------------------------------------------------------------------------------
// Header layer (RFC 6750 §2.1, §2.3, §3; RFC 9110 §11)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let outcome = send_token(&valid_token()).await;
    let claims = outcome.accepted();
    assert_eq!(claims.tenant(), TENANT);
    assert_eq!(claims.role(), &Role::Admin);
    assert_eq!(claims.sub(), LOGIN);
}

#[tokio::test]
async fn missing_authorization_is_a_challenge_without_error() {
    let request = get("/resource").body(String::new()).unwrap();
    send(request)
        .await
        .refused(401, NO_ERROR, MissingCredentials);
}

#[tokio::test]
async fn basic_scheme_is_no_bearer_credentials() {
    send(with_authorization(b"Basic Y2xpZW50OnNlY3JldA=="))
        .await
        .refused(401, NO_ERROR, MissingCredentials);
}

#[tokio::test]
async fn other_schemes_are_no_bearer_credentials() {
    let token = valid_token();
    for value in [
        format!("Token {token}"),
        format!("Bearerx {token}"),
        format!("JWT {token}"),
        format!("MAC Bearer {token}"),
        "Negotiate".to_owned(),
        String::new(),
    ] {
        send(with_authorization(value.as_bytes()))
            .await
            .refused(401, NO_ERROR, MissingCredentials);
    }
}

#[tokio::test]
async fn scheme_in_lower_case_is_accepted() {
    let value = format!("bearer {}", valid_token());
    send(with_authorization(value.as_bytes())).await.accepted();
}

#[tokio::test]
async fn scheme_in_upper_and_mixed_case_is_accepted() {
    for scheme in ["BEARER", "bEaReR"] {
        let value = format!("{scheme} {}", valid_token());
        send(with_authorization(value.as_bytes())).await.accepted();
    }
}

#[tokio::test]
async fn several_spaces_after_the_scheme_are_accepted() {
    let value = format!("Bearer     {}", valid_token());
    send(with_authorization(value.as_bytes())).await.accepted();
}

#[tokio::test]
async fn tab_after_the_scheme_is_an_invalid_token() {
    let value = format!("Bearer\t{}", valid_token());
    send(with_authorization(value.as_bytes()))
        .await
        .invalid_token(MalformedToken);
}

#[tokio::test]
async fn bearer_without_a_token_is_an_invalid_token() {
    for value in ["Bearer", "Bearer ", "Bearer    ", "bearer"] {
        send(with_authorization(value.as_bytes()))
            .await
            .invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn characters_outside_b64token_are_an_invalid_token() {
    let token = valid_token();
    let (head, tail) = token.split_at(30);
    for bad in [" ", ",", "\"", "!", "%", "*", "(", ";", "\\", "@", "="] {
        let value = format!("Bearer {head}{bad}{tail}");
        send(with_authorization(value.as_bytes()))
            .await
            .invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn auth_params_instead_of_a_token_are_an_invalid_token() {
    send(with_authorization(
        br#"Bearer realm="regards", token="abc""#,
    ))
    .await
    .invalid_token(MalformedToken);
}

#[tokio::test]
async fn trailing_space_after_the_token_is_an_invalid_token() {
    let value = format!("Bearer {} ", valid_token());
    send(with_authorization(value.as_bytes()))
        .await
        .invalid_token(MalformedToken);
}

#[tokio::test]
async fn non_utf8_bytes_in_the_token_are_an_invalid_token() {
    let mut value = format!("Bearer {}", valid_token()).into_bytes();
    value.insert(40, 0xff);
    value.insert(41, 0xc3);
    send(with_authorization(&value))
        .await
        .invalid_token(MalformedToken);
    send(with_authorization(b"Bearer \xe9t\xe9"))
        .await
        .invalid_token(MalformedToken);
}

/// A signed token of exactly `len` characters (REGARDS claims plus a `pad` claim). Unpadded
/// base64 never has a length of 1 modulo 4, so the header comes in two lengths too.
fn signed_token_of_len(len: usize) -> String {
    let unpadded = Payload::regards().set_str("pad", "").json().len();
    for header in [r#"{"alg":"HS512"}"#, r#"{"alg":"HS512" }"#] {
        // header '.' payload '.' 86-character HS512 signature
        let payload_len = len - b64(header).len() - 2 - 86;
        let fits = (unpadded..payload_len).find(|n| (4 * n).div_ceil(3) == payload_len);
        if let Some(n) = fits {
            let payload = Payload::regards().set_str("pad", &"x".repeat(n - unpadded));
            let token = hand_token(
                header,
                payload.json(),
                Algorithm::HS512,
                HS512_SECRET.as_bytes(),
            );
            assert_eq!(token.len(), len);
            return token;
        }
    }
    panic!("no padding reaches {len} characters")
}

#[tokio::test]
async fn token_of_exactly_8_kib_is_verified() {
    let token = signed_token_of_len(8192);
    send_token(&token).await.accepted();
}

#[tokio::test]
async fn token_of_8_kib_plus_one_is_refused_before_decoding() {
    let token = signed_token_of_len(8193);
    send_token(&token).await.invalid_token(TokenTooLarge);
}

#[tokio::test]
async fn token_of_1_mib_is_refused_before_decoding() {
    let token = "a".repeat(1024 * 1024);
    send_token(&token).await.invalid_token(TokenTooLarge);
}

#[tokio::test]
async fn two_authorization_headers_are_an_invalid_request() {
    let token = valid_token();
    let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let request = get("/resource")
        .header(AUTHORIZATION, value.clone())
        .header(AUTHORIZATION, value)
        .body(String::new())
        .unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, MultipleCredentials);
}

#[tokio::test]
async fn bearer_and_basic_headers_together_are_an_invalid_request() {
    let request = get("/resource")
        .header(AUTHORIZATION, format!("Bearer {}", valid_token()))
        .header(AUTHORIZATION, "Basic Y2xpZW50OnNlY3JldA==")
        .body(String::new())
        .unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, MultipleCredentials);
}

#[tokio::test]
async fn header_and_access_token_parameter_are_an_invalid_request() {
    let token = valid_token();
    let request = get(&format!("/resource?access_token={token}"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, MultipleCredentials);
}

#[tokio::test]
async fn access_token_parameter_alone_is_an_invalid_request() {
    let request = get(&format!("/resource?a=1&access_token={}", valid_token()))
        .body(String::new())
        .unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, TokenInQuery);
}

#[tokio::test]
async fn empty_access_token_parameter_is_an_invalid_request() {
    let request = get("/resource?access_token").body(String::new()).unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, TokenInQuery);
}

// ---------------------------------------------------------------------------------------------
// JWS structure (RFC 7515 §7.1, RFC 4648 §5)
// ---------------------------------------------------------------------------------------------

fn segments(token: &str) -> (String, String, String) {
    let mut parts = token.split('.');
    let header = parts.next().unwrap().to_owned();
    let payload = parts.next().unwrap().to_owned();
    let signature = parts.next().unwrap().to_owned();
    (header, payload, signature)
}

#[tokio::test]
async fn one_segment_is_malformed() {
    let (header, _, _) = segments(&valid_token());
    send_token(&header).await.invalid_token(MalformedToken);
}

#[tokio::test]
async fn two_segments_are_malformed() {
    let (header, payload, _) = segments(&valid_token());
    send_token(&format!("{header}.{payload}"))
        .await
        .invalid_token(MalformedToken);
}

#[tokio::test]
async fn four_segments_are_malformed() {
    let token = valid_token();
    for extra in [".", ".e30", ".abc"] {
        send_token(&format!("{token}{extra}"))
            .await
            .invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn five_segments_jwe_shape_is_malformed() {
    let (header, payload, signature) = segments(&valid_token());
    let jwe = format!("{header}.{payload}.{signature}.{payload}.{signature}");
    send_token(&jwe).await.invalid_token(MalformedToken);
}

#[tokio::test]
async fn empty_header_or_payload_segment_is_malformed() {
    let (header, payload, signature) = segments(&valid_token());
    for token in [
        format!(".{payload}.{signature}"),
        format!("{header}..{signature}"),
        "..".to_owned(),
        format!("..{signature}"),
    ] {
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn empty_signature_is_an_invalid_signature() {
    let (header, payload, _) = segments(&valid_token());
    send_token(&format!("{header}.{payload}."))
        .await
        .invalid_token(InvalidSignature);
}

#[tokio::test]
async fn truncated_signature_is_an_invalid_signature() {
    let token = valid_token();
    for cut in [1, 2, 4, 43] {
        send_token(&token[..token.len() - cut])
            .await
            .invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn padded_signature_is_an_invalid_signature() {
    let token = valid_token();
    for padding in ["=", "==", "A", "AA=="] {
        send_token(&format!("{token}{padding}"))
            .await
            .invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn non_canonical_signature_is_an_invalid_signature() {
    // 64 bytes are 86 characters: the last one carries 2 bits of data and 4 zero bits. Setting
    // one of those zero bits decodes to the same MAC under a lax decoder.
    let token = valid_token();
    let (head, last) = token.split_at(token.len() - 1);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = ALPHABET
        .iter()
        .position(|&c| c == last.as_bytes()[0])
        .unwrap();
    assert_eq!(
        index & 0x0f,
        0,
        "a canonical encoding has zero trailing bits"
    );
    let lax = format!("{head}{}", ALPHABET[index | 0x01] as char);
    assert_eq!(
        base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
        )
        .decode(segments(&lax).2)
        .unwrap(),
        URL_SAFE_NO_PAD.decode(segments(&token).2).unwrap(),
        "a lax decoder reads the same MAC"
    );
    send_token(&lax).await.invalid_token(InvalidSignature);
}

#[tokio::test]
async fn standard_alphabet_or_tilde_in_signature_is_an_invalid_signature() {
    let token = valid_token();
    let (head, tail) = token.split_at(token.len() - 10);
    for bad in ["+", "/", "~"] {
        let forged = format!("{head}{bad}{}", &tail[1..]);
        send_token(&forged).await.invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn standard_alphabet_header_is_malformed() {
    // A header whose base64 needs '+' or '/', written in the standard alphabet and signed.
    let header = (0..64)
        .map(|i| format!(r#"{{"alg":"HS512","x":"{}~~~?"}}"#, "a".repeat(i)))
        .find(|header| {
            STANDARD
                .encode(header)
                .trim_end_matches('=')
                .contains(['+', '/'])
        })
        .unwrap();
    let encoded = STANDARD.encode(&header).trim_end_matches('=').to_owned();
    let signing_input = format!("{encoded}.{}", b64(Payload::regards().json()));
    let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&token).await.invalid_token(MalformedToken);
}

#[tokio::test]
async fn padded_header_segment_is_malformed() {
    let header = r#"{"alg":"HS512"} "#; // 16 bytes: standard base64 ends in "=="
    let signing_input = format!(
        "{}.{}",
        STANDARD.encode(header),
        b64(Payload::regards().json())
    );
    assert!(signing_input.contains("=="));
    let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&token).await.invalid_token(MalformedToken);
}

#[tokio::test]
async fn non_canonical_header_and_payload_are_malformed_even_when_signed() {
    // 16 bytes encode to 22 characters with 4 zero trailing bits; set one of them.
    let lax = |json: &str| {
        let mut encoded = b64(json).into_bytes();
        let last = encoded.last_mut().unwrap();
        *last = match *last {
            b'A' => b'B',
            b'Q' => b'R',
            b'g' => b'h',
            b'w' => b'x',
            other => panic!("unexpected final character {}", other as char),
        };
        String::from_utf8(encoded).unwrap()
    };
    let header = r#"{"alg":"HS512"} "#;
    let mut payload = Payload::regards().json();
    while payload.len() % 3 != 1 {
        // JSON allows trailing whitespace: pad until the encoding leaves 4 trailing bits.
        payload.push(' ');
    }
    for signing_input in [
        format!("{}.{}", lax(header), b64(&payload)),
        format!("{}.{}", b64(header), lax(&payload)),
    ] {
        let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn tampered_payload_is_an_invalid_signature() {
    let (header, _, signature) = segments(&valid_token());
    let escalated = Payload::regards().set_str("role", "INSTANCE_ADMIN").json();
    send_token(&format!("{header}.{}.{signature}", b64(escalated)))
        .await
        .invalid_token(InvalidSignature);
}

#[tokio::test]
async fn tampered_header_is_an_invalid_signature() {
    let (_, payload, signature) = segments(&valid_token());
    let header = b64(r#"{"alg":"HS512","typ":"JWT"}"#);
    send_token(&format!("{header}.{payload}.{signature}"))
        .await
        .invalid_token(InvalidSignature);
}

#[tokio::test]
async fn signature_of_another_token_is_an_invalid_signature() {
    let (header, payload, _) = segments(&token_for(Role::InstanceAdmin));
    let (_, _, signature) = segments(&token_for(Role::Public));
    send_token(&format!("{header}.{payload}.{signature}"))
        .await
        .invalid_token(InvalidSignature);
}

// ---------------------------------------------------------------------------------------------
// Algorithms and keys (RFC 7518 §3, RFC 8725 §2.1, §3.1, §3.2)
// ---------------------------------------------------------------------------------------------

fn header_token(header: &str, alg: Algorithm, key: &[u8]) -> String {
    hand_token(header, Payload::regards().json(), alg, key)
}

#[tokio::test]
async fn alg_none_without_signature_is_refused() {
    let token = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(Payload::regards().json())
    );
    send_token(&token).await.invalid_token(UnsupportedAlgorithm);
}

#[tokio::test]
async fn alg_none_with_a_valid_hmac_signature_is_refused() {
    let token = header_token(
        r#"{"alg":"none"}"#,
        Algorithm::HS512,
        HS512_SECRET.as_bytes(),
    );
    send_token(&token).await.invalid_token(UnsupportedAlgorithm);
}

#[tokio::test]
async fn alg_none_in_any_case_is_refused() {
    for none in ["None", "NONE", "nOnE", "NoNe"] {
        let header = format!(r#"{{"alg":"{none}"}}"#);
        let unsigned = format!("{}.{}.", b64(&header), b64(Payload::regards().json()));
        send_token(&unsigned)
            .await
            .invalid_token(UnsupportedAlgorithm);
        let signed = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&signed)
            .await
            .invalid_token(UnsupportedAlgorithm);
    }
}

#[tokio::test]
async fn hs_alg_without_a_configured_key_is_refused() {
    // HS384 has no key: whatever it is signed with, the token is refused.
    for key in [HS512_SECRET, HS256_SECRET, ATTACKER_SECRET, ""] {
        let token = header_token(r#"{"alg":"HS384"}"#, Algorithm::HS384, key.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedAlgorithm);
    }
}

#[tokio::test]
async fn development_key_tokens_are_refused_unless_the_service_opts_in() {
    // REGARDS accepts its public development key like any key; here a service cannot even be
    // configured with it without saying so, and a service with its own key refuses its tokens.
    let token = TokenIssuer::development().mint(LOGIN, Role::Admin, TENANT);
    send_token(&token).await.invalid_token(InvalidSignature);
    assert_eq!(
        Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .build()
            .unwrap_err(),
        ConfigError::DevelopmentKey(Algorithm::HS512)
    );
    let opted_in = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    send_through(BearerAuthLayer::new(opted_in), None, bearer(&token))
        .await
        .accepted();
}

fn rs256_only() -> BearerAuthLayer {
    BearerAuthLayer::new(
        Verifier::builder()
            .rs256(&SERVICE_RSA.public_pem)
            .build()
            .unwrap(),
    )
}

/// HMAC tokens signed with every public form of the service's RSA key.
fn hmac_over_rsa_public_key(alg: Algorithm) -> Vec<String> {
    let header = format!(r#"{{"alg":"{alg}"}}"#);
    let keys: [&[u8]; 4] = [
        SERVICE_RSA.public_pem.as_bytes(),
        SERVICE_RSA.public_pem.trim_end().as_bytes(),
        &SERVICE_RSA.public_der,
        SERVICE_RSA.public_der_base64.as_bytes(),
    ];
    keys.iter()
        .map(|key| header_token(&header, alg, key))
        .collect()
}

#[tokio::test]
async fn hs_rs_confusion_with_rs_only_verifier_is_refused() {
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        for token in hmac_over_rsa_public_key(alg) {
            send_through(rs256_only(), None, bearer(&token))
                .await
                .invalid_token(UnsupportedAlgorithm);
        }
    }
}

#[tokio::test]
async fn hs_rs_confusion_with_hmac_also_configured_is_refused() {
    // The suite's verifier has HS256, HS512 and RS256: the public key is never an HMAC key.
    for alg in [Algorithm::HS256, Algorithm::HS512] {
        for token in hmac_over_rsa_public_key(alg) {
            send_token(&token).await.invalid_token(InvalidSignature);
        }
    }
}

#[tokio::test]
async fn rs256_token_signed_by_the_service_key_is_accepted() {
    let token = rs_token(
        jsonwebtoken::Algorithm::RS256,
        &admin_claims(),
        &SERVICE_RSA,
    );
    send_token(&token).await.accepted();
}

#[tokio::test]
async fn rs256_token_signed_by_another_key_is_an_invalid_signature() {
    let token = rs_token(
        jsonwebtoken::Algorithm::RS256,
        &admin_claims(),
        &ATTACKER_RSA,
    );
    send_token(&token).await.invalid_token(InvalidSignature);
}

#[tokio::test]
async fn ps256_token_is_refused() {
    for alg in [
        jsonwebtoken::Algorithm::PS256,
        jsonwebtoken::Algorithm::PS384,
        jsonwebtoken::Algorithm::PS512,
    ] {
        let token = rs_token(alg, &admin_claims(), &SERVICE_RSA);
        send_token(&token).await.invalid_token(UnsupportedAlgorithm);
    }
}

/// `RS256` header and claims, signed with `alg` by the service's key.
fn rs256_header_signed_with(alg: jsonwebtoken::Algorithm) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(r#"{"alg":"RS256"}"#),
        b64(Payload::regards().json())
    );
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &SERVICE_RSA.encoding_key(), alg)
            .unwrap();
    format!("{signing_input}.{signature}")
}

#[tokio::test]
async fn rs256_header_with_a_pss_signature_is_an_invalid_signature() {
    let token = rs256_header_signed_with(jsonwebtoken::Algorithm::PS256);
    send_token(&token).await.invalid_token(InvalidSignature);
}

#[tokio::test]
async fn rs256_header_with_an_rs512_signature_is_an_invalid_signature() {
    let control = rs256_header_signed_with(jsonwebtoken::Algorithm::RS256);
    send_token(&control).await.accepted();
    let token = rs256_header_signed_with(jsonwebtoken::Algorithm::RS512);
    send_token(&token).await.invalid_token(InvalidSignature);
}

#[tokio::test]
async fn rs256_zero_modulus_and_wrong_length_signatures_are_invalid() {
    let signing_input = format!(
        "{}.{}",
        b64(r#"{"alg":"RS256"}"#),
        b64(Payload::regards().json())
    );
    let modulus = SERVICE_RSA.private.n().to_bytes_be();
    assert_eq!(modulus.len(), 256);
    for signature in [
        vec![0u8; 256],
        vec![0xff; 256],
        modulus.clone(),
        vec![1u8; 255],
        vec![1u8; 257],
        [vec![0u8], modulus].concat(),
    ] {
        let token = format!("{signing_input}.{}", b64(&signature));
        send_token(&token).await.invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn es256_zero_signature_is_refused() {
    let signing_input = format!(
        "{}.{}",
        b64(r#"{"alg":"ES256"}"#),
        b64(Payload::regards().json())
    );
    let token = format!("{signing_input}.{}", b64([0u8; 64]));
    send_token(&token).await.invalid_token(UnsupportedAlgorithm);
}

#[tokio::test]
async fn eddsa_and_other_families_are_refused() {
    for alg in ["EdDSA", "ES384", "ES512", "RSA-OAEP", "dir", "A256GCM"] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedAlgorithm);
    }
}

#[tokio::test]
async fn unknown_and_near_miss_alg_names_are_refused() {
    for alg in [
        "HS1024",
        "hs512",
        "Hs512",
        "HS512 ",
        " HS512",
        "HS 512",
        "HS-512",
        "HS5120",
        "RS1",
        "",
        "HS512\\u0000",
    ] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedAlgorithm);
    }
}

#[tokio::test]
async fn ill_typed_alg_is_malformed() {
    for alg in ["512", "null", r#"["HS512"]"#, r#"{"HS512":true}"#, "true"] {
        let header = format!(r#"{{"alg":{alg}}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn missing_alg_is_malformed() {
    for header in ["{}", r#"{"typ":"JWT"}"#, r#"{"ALG":"HS512"}"#] {
        let token = header_token(header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn header_that_is_not_an_object_is_malformed() {
    for header in [
        r#"["HS512"]"#,
        r#""HS512""#,
        "512",
        "null",
        "",
        r#"{"alg":"HS512"}{}"#,
    ] {
        let token = header_token(header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn text_after_the_header_object_is_malformed() {
    // REGARDS' parser (jjwt 0.11.5 over Jackson) reads the first JSON value and ignores the
    // rest of the header; RFC 8259 makes a JSON text one value.
    for trailing in ["x", "{}", ",", "\u{0}", r#"{"alg":"none"}"#] {
        let header = format!(r#"{{"alg":"HS512"}}{trailing}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn byte_order_mark_before_the_header_or_the_claims_is_refused() {
    // REGARDS' parser skips a UTF-8 BOM before the header (Jackson does), and takes a payload
    // that does not start with `{` for plain text, refused; RFC 8259 §8.1 lets a parser refuse
    // both, and one encoding per token leaves no two readings.
    let bom = "\u{feff}";
    let header = format!(r#"{bom}{{"alg":"HS512"}}"#);
    let token = hand_token(
        &header,
        Payload::regards().json(),
        Algorithm::HS512,
        HS512_SECRET.as_bytes(),
    );
    send_token(&token).await.invalid_token(MalformedToken);
    let claims = format!("{bom}{}", Payload::regards().json());
    send_token(&hs512(claims))
        .await
        .invalid_token(InvalidClaims);
}

#[tokio::test]
async fn duplicate_header_members_are_malformed() {
    for header in [
        r#"{"alg":"HS512","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS512"}"#,
        r#"{"alg":"HS512","alg":"HS512"}"#,
        r#"{"alg":"HS512","\u0061lg":"none"}"#,
        r#"{"alg":"HS512","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS512","kid":"a","kid":"b"}"#,
    ] {
        let token = header_token(header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn crit_is_refused() {
    for crit in [r#"["exp"]"#, "[]", r#"["b64"]"#, r#""exp""#] {
        let header = format!(r#"{{"alg":"HS512","crit":{crit}}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedHeader);
    }
}

#[tokio::test]
async fn b64_false_with_crit_is_refused() {
    // RFC 7797 unencoded payload: the payload segment would be taken as is.
    let header = r#"{"alg":"HS512","b64":false,"crit":["b64"]}"#;
    let signing_input = format!("{}.{}", b64(header), Payload::regards().json());
    let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&token).await.invalid_token(MalformedToken);
    let encoded = header_token(header, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&encoded).await.invalid_token(UnsupportedHeader);
}

#[tokio::test]
async fn cty_is_refused() {
    for cty in [r#""JWT""#, r#""application/json""#, "null"] {
        let header = format!(r#"{{"alg":"HS512","cty":{cty}}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedHeader);
    }
}

#[tokio::test]
async fn zip_is_refused_whatever_its_value() {
    // `zip` is JWE's (RFC 7516 §4.1.3). jjwt inflates `DEF` and `GZIP` payloads and fails on
    // other values with an exception REGARDS does not catch; a plain payload under `zip` was
    // read as if `zip` were absent: now every `zip` is refused, before the signature.
    for zip in [
        r#""DEF""#,
        r#""GZIP""#,
        r#""XYZ""#,
        r#""def""#,
        r#""""#,
        "null",
    ] {
        let header = format!(r#"{{"alg":"HS512","zip":{zip}}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedHeader);
    }
    // A DEFLATE payload (one stored block) under `zip: DEF`, as jjwt would inflate it.
    let claims = Payload::regards().json();
    let length = u16::try_from(claims.len()).expect("a short claims set");
    let mut deflated = vec![0x01];
    deflated.extend_from_slice(&length.to_le_bytes());
    deflated.extend_from_slice(&(!length).to_le_bytes());
    deflated.extend_from_slice(claims.as_bytes());
    let token = hand_token(
        r#"{"alg":"HS512","zip":"DEF"}"#,
        deflated,
        Algorithm::HS512,
        HS512_SECRET.as_bytes(),
    );
    send_token(&token).await.invalid_token(UnsupportedHeader);
}

#[tokio::test]
async fn typ_jwt_is_accepted() {
    for typ in ["JWT", "jwt"] {
        let header = format!(r#"{{"alg":"HS512","typ":"{typ}"}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.accepted();
    }
}

#[tokio::test]
async fn typ_jose_and_media_type_forms_are_accepted() {
    // RFC 7515 §4.1.9: JOSE names the compact serialization; "application/" may be omitted.
    for typ in [
        "JOSE",
        "jose",
        "application/jwt",
        "application/JWT",
        "APPLICATION/JOSE",
        "Application/Jose",
    ] {
        let header = format!(r#"{{"alg":"HS512","typ":"{typ}"}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.accepted();
    }
}

#[tokio::test]
async fn typ_other_than_jwt_or_jose_is_refused() {
    for typ in [
        "at+jwt",
        "JWS",
        "",
        "application/",
        "application/at+jwt",
        "application/jose+json",
        "JOSE+JSON",
        "text/jwt",
        "application//jwt",
        "applicationjwt",
        "application/jwt; charset=utf-8",
        "JWT ",
        "secevent+jwt",
    ] {
        let header = format!(r#"{{"alg":"HS512","typ":"{typ}"}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(UnsupportedHeader);
    }
}

#[tokio::test]
async fn ill_typed_typ_is_malformed() {
    for typ in ["1", "null", r#"["JWT"]"#] {
        let header = format!(r#"{{"alg":"HS512","typ":{typ}}}"#);
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn invalid_utf8_in_an_unknown_header_member_is_malformed() {
    // Found by the `signed` fuzz target: bytes in a value the parser skips went unchecked.
    for bad in [
        &b"\xff"[..],
        b"J\xdcWT",
        b"\xc3",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
    ] {
        let header = [&br#"{"alg":"HS512","x":""#[..], bad, br#""}"#].concat();
        let signing_input = format!("{}.{}", b64(&header), b64(Payload::regards().json()));
        let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn invalid_utf8_in_a_header_member_name_or_typ_is_malformed() {
    for header in [
        &br#"{"alg":"HS512","\xff":1}"#[..],
        br#"{"alg":"HS512","typ":"JW\xffT"}"#,
        br#"{"alg":"HS5\xff12"}"#,
    ] {
        let signing_input = format!("{}.{}", b64(header), b64(Payload::regards().json()));
        let token = sign_input(&signing_input, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn lone_surrogate_escape_in_an_unknown_header_member_is_skipped() {
    // Valid JSON grammar (RFC 8259 §8.2), in a member that grants nothing: read past.
    let header = r#"{"alg":"HS512","x":"\ud800"}"#;
    send_token(&header_token(
        header,
        Algorithm::HS512,
        HS512_SECRET.as_bytes(),
    ))
    .await
    .accepted();
    // In `typ` or `alg`, which are decoded, it is refused.
    for header in [
        r#"{"alg":"HS512","typ":"JWT\ud800"}"#,
        r#"{"alg":"HS512\udc00"}"#,
    ] {
        let token = header_token(header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn oversize_header_is_malformed() {
    // The decoded header is capped at 1 KiB (REGARDS' is 15 bytes).
    let long = format!(r#"{{"alg":"HS512","x":"{}"}}"#, "a".repeat(2000));
    let nested = format!(
        r#"{{"alg":"HS512","x":{}1{}}}"#,
        r#"{"a":"#.repeat(300),
        "}".repeat(300)
    );
    for header in [long, nested] {
        let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
        send_token(&token).await.invalid_token(MalformedToken);
    }
}

#[tokio::test]
async fn too_many_header_members_are_malformed() {
    let many: String = (0..17).map(|i| format!(r#","m{i}":0"#)).collect();
    let header = format!(r#"{{"alg":"HS512"{many}}}"#);
    let token = header_token(&header, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&token).await.invalid_token(MalformedToken);
}

#[tokio::test]
async fn deeply_nested_unknown_header_member_is_skipped_and_grants_nothing() {
    // Unknown members are read past (RFC 7515 §4), without recursion, within the size cap.
    let nested = format!(
        r#"{{"alg":"HS512","x":{}1{}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    let token = header_token(&nested, Algorithm::HS512, HS512_SECRET.as_bytes());
    send_token(&token).await.accepted();
    let forged = header_token(&nested, Algorithm::HS512, ATTACKER_SECRET.as_bytes());
    send_token(&forged).await.invalid_token(InvalidSignature);
}

/// A listener on loopback that records whether anything connected to it.
struct Witness(TcpListener);

impl Witness {
    fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Witness(listener)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.0.local_addr().unwrap())
    }

    #[track_caller]
    fn assert_untouched(&self) {
        match self.0.accept() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("the verifier connected to the header's URL from {peer}"),
            Err(error) => panic!("accept failed: {error}"),
        }
    }
}

#[tokio::test]
async fn jku_is_never_fetched_and_grants_nothing() {
    let witness = Witness::bind();
    let header = format!(
        r#"{{"alg":"HS512","jku":"{}"}}"#,
        witness.url("/.well-known/jwks.json")
    );
    let token = header_token(&header, Algorithm::HS512, ATTACKER_SECRET.as_bytes());
    send_token(&token).await.invalid_token(InvalidSignature);
    witness.assert_untouched();
}

#[tokio::test]
async fn x5u_is_never_fetched_and_grants_nothing() {
    let witness = Witness::bind();
    let header = format!(r#"{{"alg":"RS256","x5u":"{}"}}"#, witness.url("/cert.pem"));
    let signing_input = format!("{}.{}", b64(&header), b64(Payload::regards().json()));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &ATTACKER_RSA.encoding_key(),
        jsonwebtoken::Algorithm::RS256,
    )
    .unwrap();
    send_token(&format!("{signing_input}.{signature}"))
        .await
        .invalid_token(InvalidSignature);
    witness.assert_untouched();
}

#[tokio::test]
async fn embedded_jwk_and_x5c_grant_nothing() {
    let attacker = &ATTACKER_RSA.private;
    let jwk = format!(
        r#"{{"kty":"RSA","e":"{}","n":"{}"}}"#,
        b64(attacker.e().to_bytes_be()),
        b64(attacker.n().to_bytes_be())
    );
    for member in [
        format!(r#""jwk":{jwk}"#),
        format!(r#""x5c":["{}"]"#, ATTACKER_RSA.public_der_base64),
    ] {
        let header = format!(r#"{{"alg":"RS256",{member}}}"#);
        let signing_input = format!("{}.{}", b64(&header), b64(Payload::regards().json()));
        let signature = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &ATTACKER_RSA.encoding_key(),
            jsonwebtoken::Algorithm::RS256,
        )
        .unwrap();
        send_token(&format!("{signing_input}.{signature}"))
            .await
            .invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn kid_path_traversal_with_an_empty_key_is_an_invalid_signature() {
    for kid in [
        "../../../../../../dev/null",
        "/dev/null",
        "' UNION SELECT '' --",
        "",
    ] {
        let header = format!(r#"{{"alg":"HS512","kid":"{kid}"}}"#);
        let token = header_token(&header, Algorithm::HS512, b"");
        send_token(&token).await.invalid_token(InvalidSignature);
    }
}

#[tokio::test]
async fn kid_naming_a_file_holding_the_signing_key_is_an_invalid_signature() {
    let path = std::env::temp_dir().join(format!("regards-auth-kid-{}.key", std::process::id()));
    std::fs::write(&path, ATTACKER_SECRET).unwrap();
    let header = format!(r#"{{"alg":"HS512","kid":"{}"}}"#, path.display());
    let token = header_token(&header, Algorithm::HS512, ATTACKER_SECRET.as_bytes());
    let outcome = send_token(&token).await;
    std::fs::remove_file(&path).unwrap();
    outcome.invalid_token(InvalidSignature);
}

#[test]
fn kid_naming_a_fifo_is_never_opened() {
    // Opening a FIFO for reading blocks until a writer comes: a verifier that opened the path
    // named by `kid` would hang here instead of answering.
    let path = std::env::temp_dir().join(format!("regards-auth-kid-{}.fifo", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success());
    let header = format!(r#"{{"alg":"HS512","kid":"{}"}}"#, path.display());
    let token = header_token(&header, Algorithm::HS512, b"");
    let (done, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = send_now(BearerAuthLayer::new(verifier()), None, bearer(&token));
        let _ = done.send(outcome);
    });
    let outcome = answer.recv_timeout(Duration::from_secs(30));
    std::fs::remove_file(&path).unwrap();
    outcome
        .expect("the verifier answered without opening the kid path")
        .invalid_token(InvalidSignature);
}

// ---------------------------------------------------------------------------------------------
// Time (RFC 7519 §4.1.4, §4.1.5; leeway 60 s by default)
// ---------------------------------------------------------------------------------------------

fn with_exp(exp: impl Into<String>) -> String {
    Payload::regards().set("exp", exp).token()
}

#[tokio::test]
async fn expired_outside_the_leeway_is_refused() {
    let exp = now() - 3600;
    send_token(&with_exp(exp.to_string()))
        .await
        .invalid_token(Expired);
}

#[tokio::test]
async fn expired_token_minted_by_the_issuer_is_refused() {
    let claims = Claims::new(LOGIN, LOGIN, Role::Admin, TENANT, now() - 600);
    send_token(&issuer().issue(&claims))
        .await
        .invalid_token(Expired);
}

#[tokio::test]
async fn expired_within_the_leeway_is_accepted() {
    let exp = now() - 10;
    send_token(&with_exp(exp.to_string())).await.accepted();
}

#[tokio::test]
async fn expired_with_zero_leeway_is_refused() {
    let layer = BearerAuthLayer::new(
        Verifier::builder()
            .hs512(HS512_SECRET)
            .leeway(Duration::ZERO)
            .build()
            .unwrap(),
    );
    let token = with_exp((now() - 10).to_string());
    send_through(layer, None, bearer(&token))
        .await
        .invalid_token(Expired);
}

#[test]
fn leeway_boundary_is_exact() {
    let verifier = verifier();
    let token = with_exp("1000000");
    assert!(verifier.verify_at(&token, 1_000_059).is_ok());
    assert_eq!(verifier.verify_at(&token, 1_000_060), Err(Expired));
    let token = Payload::regards().set("nbf", "2000000").token();
    assert_eq!(verifier.verify_at(&token, 1_999_939), Err(NotYetValid));
    assert!(verifier.verify_at(&token, 1_999_940).is_ok());
}

#[tokio::test]
async fn exp_zero_is_expired() {
    send_token(&with_exp("0")).await.invalid_token(Expired);
}

#[tokio::test]
async fn missing_exp_is_invalid() {
    let token = Payload::regards().remove("exp").token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn exp_as_string_is_invalid() {
    let exp = format!("\"{}\"", in_an_hour());
    send_token(&with_exp(exp))
        .await
        .invalid_token(InvalidClaims);
}

#[tokio::test]
async fn fractional_exp_is_accepted_and_rounded_down() {
    // RFC 7519 §2: a NumericDate is a JSON number, "non-integer values can be represented".
    let exp = in_an_hour();
    for text in [
        format!("{exp}.0"),
        format!("{exp}.5"),
        format!("{exp}.999999"),
    ] {
        let outcome = send_token(&with_exp(text)).await;
        assert_eq!(outcome.accepted().exp(), exp);
    }
}

#[test]
fn fractional_exp_expires_at_its_whole_second() {
    let verifier = verifier();
    let token = with_exp("1000000.9");
    assert!(verifier.verify_at(&token, 1_000_059).is_ok());
    assert_eq!(verifier.verify_at(&token, 1_000_060), Err(Expired));
}

#[tokio::test]
async fn exp_in_exponent_form_is_accepted() {
    for (text, exp) in [
        ("4.1024448e9", 4_102_444_800),
        ("4102444800e0", 4_102_444_800),
        ("41024448E2", 4_102_444_800),
        ("4.1024448005E+9", 4_102_444_800),
    ] {
        let outcome = send_token(&with_exp(text)).await;
        assert_eq!(outcome.accepted().exp(), exp, "{text}");
    }
}

#[test]
fn fractional_nbf_is_rounded_up() {
    let verifier = verifier();
    let token = Payload::regards().set("nbf", "2000000.1").token();
    assert_eq!(verifier.verify_at(&token, 1_999_940), Err(NotYetValid));
    let claims = verifier.verify_at(&token, 1_999_941).unwrap();
    assert_eq!(claims.not_before(), Some(2_000_001));
}

#[tokio::test]
async fn exp_beyond_u64_is_invalid() {
    for exp in [
        "18446744073709551616",
        "18446744073709551615.5",
        "1.8446744073709552e19",
        "1e20",
        "1e400",
        "99999999999999999999999999",
    ] {
        send_token(&with_exp(exp))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn exp_at_u64_max_is_a_far_expiry() {
    send_token(&with_exp(u64::MAX.to_string())).await.accepted();
}

#[tokio::test]
async fn negative_exp_is_invalid() {
    for exp in [
        "-1",
        "-0.5",
        "-1e-300",
        "-4102444800.5",
        "-9223372036854775808",
    ] {
        send_token(&with_exp(exp))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn null_and_other_types_of_exp_are_invalid() {
    for exp in [
        "null",
        "true",
        "[4102444800]",
        r#"{"exp":4102444800}"#,
        "NaN",
        "Infinity",
        "-Infinity",
        r#""4102444800.5""#,
    ] {
        send_token(&with_exp(exp))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn duplicate_exp_is_invalid() {
    let past = (now() - 3600).to_string();
    let future = in_an_hour().to_string();
    for (first, second) in [(&past, &future), (&future, &past), (&future, &future)] {
        let token = Payload::regards()
            .set("exp", first.clone())
            .push("exp", second.clone())
            .token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
    let escaped = Payload::regards()
        .push("\\u0065xp", (now() - 3600).to_string())
        .token();
    send_token(&escaped).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    let token = Payload::regards()
        .set("nbf", (now() + 600).to_string())
        .token();
    send_token(&token).await.invalid_token(NotYetValid);
}

#[tokio::test]
async fn nbf_within_the_leeway_or_past_is_accepted() {
    for nbf in [now() + 10, now() - 10, 0] {
        let token = Payload::regards().set("nbf", nbf.to_string()).token();
        send_token(&token).await.accepted();
    }
}

#[tokio::test]
async fn nbf_null_is_no_nbf() {
    let token = Payload::regards().set("nbf", "null").token();
    assert_eq!(send_token(&token).await.accepted().not_before(), None);
}

#[tokio::test]
async fn ill_typed_nbf_is_invalid() {
    for nbf in [
        format!("\"{}\"", now()),
        format!("\"{}.5\"", now()),
        "-1".to_owned(),
        "-0.5".to_owned(),
        "1e400".to_owned(),
        "NaN".to_owned(),
        "[]".to_owned(),
    ] {
        let token = Payload::regards().set("nbf", nbf).token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn huge_nbf_is_a_date_not_yet_reached() {
    // REGARDS multiplies seconds by 1000 in a Java long: from 2^63 ms on, `nbf` wraps around to
    // a past date and the token is accepted. Here it is read as is, up to 2^64 - 1 s.
    for nbf in [
        "9223372036854776".to_owned(),
        "9223372036854775807".to_owned(),
        u64::MAX.to_string(),
        "1e19".to_owned(),
    ] {
        let token = Payload::regards().set("nbf", nbf).token();
        send_token(&token).await.invalid_token(NotYetValid);
    }
    for beyond in ["18446744073709551616", "1e20"] {
        let token = Payload::regards().set("nbf", beyond).token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn duplicate_nbf_is_invalid() {
    let token = Payload::regards()
        .set("nbf", "0")
        .push("nbf", (now() + 600).to_string())
        .token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

// ---------------------------------------------------------------------------------------------
// Claims (REGARDS shape: sub, email, role, tenant required non-empty strings)
// ---------------------------------------------------------------------------------------------

/// One test per required claim and defect: `None` drops the claim, `Some(json)` replaces it.
macro_rules! required_claim_cases {
    ($($name:ident: $claim:literal => $value:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let value: Option<&str> = $value;
            let payload = match value {
                None => Payload::regards().remove($claim),
                Some(json) => Payload::regards().set($claim, json),
            };
            send_token(&payload.token()).await.invalid_token(InvalidClaims);
        }
    )*};
}

required_claim_cases! {
    sub_missing: "sub" => None,
    sub_empty: "sub" => Some(r#""""#),
    sub_null: "sub" => Some("null"),
    sub_number: "sub" => Some("42"),
    sub_array: "sub" => Some(r#"["jane@regards.fr"]"#),
    sub_object: "sub" => Some(r#"{"sub":"jane@regards.fr"}"#),
    sub_boolean: "sub" => Some("true"),
    email_missing: "email" => None,
    email_empty: "email" => Some(r#""""#),
    email_null: "email" => Some("null"),
    email_number: "email" => Some("42"),
    email_array: "email" => Some(r#"["jane@regards.fr"]"#),
    email_object: "email" => Some("{}"),
    email_boolean: "email" => Some("false"),
    role_missing: "role" => None,
    role_empty: "role" => Some(r#""""#),
    role_null: "role" => Some("null"),
    role_number: "role" => Some("3"),
    role_array: "role" => Some(r#"["ADMIN"]"#),
    role_object: "role" => Some(r#"{"name":"ADMIN"}"#),
    role_boolean: "role" => Some("true"),
    tenant_missing: "tenant" => None,
    tenant_empty: "tenant" => Some(r#""""#),
    tenant_null: "tenant" => Some("null"),
    tenant_number: "tenant" => Some("1"),
    tenant_array: "tenant" => Some(r#"["project1"]"#),
    tenant_object: "tenant" => Some(r#"{"name":"project1"}"#),
    tenant_boolean: "tenant" => Some("true"),
}

#[tokio::test]
async fn duplicate_role_is_invalid() {
    for (first, second) in [("PUBLIC", "INSTANCE_ADMIN"), ("INSTANCE_ADMIN", "PUBLIC")] {
        let token = Payload::regards()
            .set_str("role", first)
            .push("role", format!("\"{second}\""))
            .token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn duplicate_role_with_an_escaped_name_is_invalid() {
    let token = Payload::regards()
        .set_str("role", "PUBLIC")
        .push("\\u0072ole", "\"INSTANCE_ADMIN\"")
        .token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn duplicate_tenant_is_invalid() {
    for second in ["\"project2\"", "\"project1\""] {
        let token = Payload::regards().push("tenant", second).token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn duplicate_additional_claim_is_invalid() {
    let token = Payload::regards()
        .push("origin", "\"a\"")
        .push("origin", "\"b\"")
        .token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn payload_that_is_not_an_object_is_invalid() {
    for payload in [
        "[]",
        r#"["project1","ADMIN","jane@regards.fr","jane@regards.fr",4102444800]"#,
        r#""claims""#,
        "42",
        "null",
        "true",
        " ",
    ] {
        send_token(&hs512(payload))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn json_whitespace_around_the_claims_object_is_accepted() {
    // RFC 8259 §2 (jjwt would take such a payload for plain text; the signature covers it).
    let json = Payload::regards().json();
    for payload in [
        format!(" {json}"),
        format!("{json}\n"),
        format!("\t\r\n{json} "),
    ] {
        send_token(&hs512(payload)).await.accepted();
    }
}

#[tokio::test]
async fn trailing_data_after_the_claims_is_invalid() {
    let json = Payload::regards().json();
    for trailing in ["x", "{}", ",", "\u{0}"] {
        send_token(&hs512(format!("{json}{trailing}")))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn bad_utf8_in_the_claims_is_invalid() {
    let json = Payload::regards().json();
    let at = json.find(LOGIN).unwrap();
    for bad in [&b"\xff"[..], b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"] {
        let mut payload = json.as_bytes().to_vec();
        payload.splice(at..at, bad.iter().copied());
        send_token(&hs512(&payload))
            .await
            .invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn lone_surrogate_escape_in_a_claim_is_invalid() {
    for claim in ["sub", "tenant", "role", "origin"] {
        let token = Payload::regards().set(claim, r#""a\ud800b""#).token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn deeply_nested_additional_claim_is_invalid_not_a_crash() {
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let token = Payload::regards().set("deep", nested).token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn aud_without_a_configured_audience_is_refused() {
    for aud in [r#""rs-notifier""#, r#"["rs-notifier"]"#, "[]"] {
        let token = Payload::regards().set("aud", aud).token();
        send_token(&token).await.invalid_token(InvalidAudience);
    }
}

fn with_audience(audience: &str) -> BearerAuthLayer {
    BearerAuthLayer::new(
        Verifier::builder()
            .hs512(HS512_SECRET)
            .audience(audience)
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn aud_naming_the_configured_audience_is_accepted() {
    for aud in [r#""rs-notifier""#, r#"["rs-catalog","rs-notifier"]"#] {
        let token = Payload::regards().set("aud", aud).token();
        send_through(with_audience("rs-notifier"), None, bearer(&token))
            .await
            .accepted();
    }
    let without = Payload::regards().token();
    send_through(with_audience("rs-notifier"), None, bearer(&without))
        .await
        .accepted();
}

#[tokio::test]
async fn aud_naming_another_audience_or_ill_typed_is_refused() {
    for aud in [
        r#""rs-catalog""#,
        r#""RS-NOTIFIER""#,
        r#"["rs-catalog"]"#,
        r#"["rs-notifier",1]"#,
        "[]",
        "1",
        r#"{"rs-notifier":true}"#,
    ] {
        let token = Payload::regards().set("aud", aud).token();
        send_through(with_audience("rs-notifier"), None, bearer(&token))
            .await
            .invalid_token(InvalidAudience);
    }
}

#[tokio::test]
async fn aud_null_is_no_audience() {
    // An optional claim set to null is absent, as for REGARDS (jjwt drops null members).
    let token = Payload::regards().set("aud", "null").token();
    let outcome = send_token(&token).await;
    assert_eq!(outcome.accepted().additional("aud"), None);
    send_through(with_audience("rs-notifier"), None, bearer(&token))
        .await
        .accepted();
}

#[tokio::test]
async fn access_groups_absent_is_an_empty_list() {
    let claims = send_token(&Payload::regards().token()).await;
    assert!(claims.accepted().access_groups().is_empty());
}

#[tokio::test]
async fn access_groups_array_of_strings_is_accepted() {
    let token = Payload::regards()
        .set("accessGroups", r#"["g1","g2"]"#)
        .token();
    assert_eq!(
        send_token(&token).await.accepted().access_groups(),
        ["g1", "g2"]
    );
}

#[tokio::test]
async fn access_groups_null_is_no_groups() {
    let token = Payload::regards().set("accessGroups", "null").token();
    assert!(
        send_token(&token)
            .await
            .accepted()
            .access_groups()
            .is_empty()
    );
}

#[tokio::test]
async fn null_additional_claims_are_dropped() {
    let token = Payload::regards()
        .set("origin", "null")
        .set_str("kept", "yes")
        .token();
    let outcome = send_token(&token).await;
    let claims = outcome.accepted();
    assert_eq!(claims.additional("origin"), None);
    assert_eq!(claims.additional_claims().len(), 1);
}

#[tokio::test]
async fn duplicate_optional_member_is_invalid_when_one_is_null() {
    for (name, value) in [
        ("accessGroups", r#"["g1"]"#),
        ("nbf", "0"),
        ("origin", r#""ui""#),
        ("aud", r#""rs-notifier""#),
    ] {
        for (first, second) in [("null", value), (value, "null"), ("null", "null")] {
            let token = Payload::regards()
                .set(name, first)
                .push(name, second)
                .token();
            send_token(&token).await.invalid_token(InvalidClaims);
        }
    }
}

#[tokio::test]
async fn access_groups_string_is_invalid() {
    let token = Payload::regards().set("accessGroups", r#""g1""#).token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn access_groups_mixed_array_is_invalid() {
    for groups in [r#"["g1",2]"#, r#"["g1",null]"#, r#"["g1",["g2"]]"#, "{}"] {
        let token = Payload::regards().set("accessGroups", groups).token();
        send_token(&token).await.invalid_token(InvalidClaims);
    }
}

#[tokio::test]
async fn unknown_claims_are_kept_but_grant_nothing() {
    let token = Payload::regards()
        .set_str("role", "PUBLIC")
        .set("roles", r#"["INSTANCE_ADMIN"]"#)
        .set_str("scope", "admin")
        .token();
    let guard = RequireRoleLayer::at_least(Role::RegisteredUser);
    send_through(
        BearerAuthLayer::new(verifier()),
        Some(guard),
        bearer(&token),
    )
    .await
    .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

// ---------------------------------------------------------------------------------------------
// Authorization (RequireRoleLayer; tenants; public access)
// ---------------------------------------------------------------------------------------------

async fn guarded(role_claim: &str, guard: RequireRoleLayer) -> Outcome {
    let token = Payload::regards().set_str("role", role_claim).token();
    send_through(
        BearerAuthLayer::new(verifier()),
        Some(guard),
        bearer(&token),
    )
    .await
}

/// One test per native role and guard: passes iff the role's level reaches the guard's.
macro_rules! role_vs_guard_cases {
    ($($name:ident: $role:literal on $guard:expr => $passes:literal,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let outcome = guarded($role, RequireRoleLayer::at_least($guard)).await;
            if $passes {
                assert_eq!(outcome.accepted().role().to_string(), $role);
            } else {
                outcome.refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
            }
        }
    )*};
}

role_vs_guard_cases! {
    public_on_public_guard: "PUBLIC" on Role::Public => true,
    public_on_registered_user_guard: "PUBLIC" on Role::RegisteredUser => false,
    public_on_exploit_guard: "PUBLIC" on Role::Exploit => false,
    public_on_admin_guard: "PUBLIC" on Role::Admin => false,
    public_on_project_admin_guard: "PUBLIC" on Role::ProjectAdmin => false,
    public_on_instance_admin_guard: "PUBLIC" on Role::InstanceAdmin => false,
    registered_user_on_public_guard: "REGISTERED_USER" on Role::Public => true,
    registered_user_on_registered_user_guard: "REGISTERED_USER" on Role::RegisteredUser => true,
    registered_user_on_exploit_guard: "REGISTERED_USER" on Role::Exploit => false,
    registered_user_on_admin_guard: "REGISTERED_USER" on Role::Admin => false,
    registered_user_on_project_admin_guard: "REGISTERED_USER" on Role::ProjectAdmin => false,
    registered_user_on_instance_admin_guard: "REGISTERED_USER" on Role::InstanceAdmin => false,
    exploit_on_public_guard: "EXPLOIT" on Role::Public => true,
    exploit_on_registered_user_guard: "EXPLOIT" on Role::RegisteredUser => true,
    exploit_on_exploit_guard: "EXPLOIT" on Role::Exploit => true,
    exploit_on_admin_guard: "EXPLOIT" on Role::Admin => false,
    exploit_on_project_admin_guard: "EXPLOIT" on Role::ProjectAdmin => false,
    exploit_on_instance_admin_guard: "EXPLOIT" on Role::InstanceAdmin => false,
    admin_on_public_guard: "ADMIN" on Role::Public => true,
    admin_on_registered_user_guard: "ADMIN" on Role::RegisteredUser => true,
    admin_on_exploit_guard: "ADMIN" on Role::Exploit => true,
    admin_on_admin_guard: "ADMIN" on Role::Admin => true,
    admin_on_project_admin_guard: "ADMIN" on Role::ProjectAdmin => false,
    admin_on_instance_admin_guard: "ADMIN" on Role::InstanceAdmin => false,
    project_admin_on_public_guard: "PROJECT_ADMIN" on Role::Public => true,
    project_admin_on_registered_user_guard: "PROJECT_ADMIN" on Role::RegisteredUser => true,
    project_admin_on_exploit_guard: "PROJECT_ADMIN" on Role::Exploit => true,
    project_admin_on_admin_guard: "PROJECT_ADMIN" on Role::Admin => true,
    project_admin_on_project_admin_guard: "PROJECT_ADMIN" on Role::ProjectAdmin => true,
    project_admin_on_instance_admin_guard: "PROJECT_ADMIN" on Role::InstanceAdmin => false,
    instance_admin_on_public_guard: "INSTANCE_ADMIN" on Role::Public => true,
    instance_admin_on_registered_user_guard: "INSTANCE_ADMIN" on Role::RegisteredUser => true,
    instance_admin_on_exploit_guard: "INSTANCE_ADMIN" on Role::Exploit => true,
    instance_admin_on_admin_guard: "INSTANCE_ADMIN" on Role::Admin => true,
    instance_admin_on_project_admin_guard: "INSTANCE_ADMIN" on Role::ProjectAdmin => true,
    instance_admin_on_instance_admin_guard: "INSTANCE_ADMIN" on Role::InstanceAdmin => true,
}

#[tokio::test]
async fn system_roles_pass_every_guard() {
    for role in ["ROLE_SYS_rs-catalog", "SYS_rs-catalog"] {
        for guard in [Role::RegisteredUser, Role::InstanceAdmin] {
            guarded(role, RequireRoleLayer::at_least(guard))
                .await
                .accepted();
        }
    }
}

#[tokio::test]
async fn system_roles_refused_when_switched_off() {
    let guard = RequireRoleLayer::at_least(Role::RegisteredUser)
        .with_hierarchy(RoleHierarchy::new().system_roles_pass(false));
    guarded("ROLE_SYS_rs-catalog", guard)
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

#[tokio::test]
async fn near_miss_system_role_names_are_custom_roles() {
    for role in [
        "ROLE_SYS_",
        "SYS_",
        "role_sys_rs-catalog",
        "ROLE_SYSrs-catalog",
        " SYS_x",
    ] {
        guarded(role, RequireRoleLayer::at_least(Role::RegisteredUser))
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn unknown_role_passes_only_public_guards() {
    guarded("GUEST", RequireRoleLayer::at_least(Role::Public))
        .await
        .accepted();
    guarded("GUEST", RequireRoleLayer::at_least(Role::RegisteredUser))
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

#[tokio::test]
async fn lowercase_role_names_are_unknown_roles() {
    for role in ["admin", "Admin", "instance_admin", "Instance_Admin"] {
        guarded(role, RequireRoleLayer::at_least(Role::RegisteredUser))
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn padded_role_names_are_unknown_roles() {
    for role in [" ADMIN", "ADMIN ", "ADMIN\t", "\nADMIN", "ADMIN\u{0}"] {
        guarded(role, RequireRoleLayer::at_least(Role::RegisteredUser))
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn look_alike_role_names_are_unknown_roles() {
    for role in [
        "\u{410}DMIN",                              // Cyrillic capital A
        "ADM\u{130}N",                              // Latin capital I with dot above
        "\u{FF21}\u{FF24}\u{FF2D}\u{FF29}\u{FF2E}", // fullwidth ADMIN
        "ADMIN\u{200B}",                            // zero-width space
        "INSTANCE\u{2010}ADMIN",                    // hyphen in place of the underscore
        "role_ADMIN",                               // the authority prefix is case-sensitive
        "ROLE_ROLE_ADMIN",                          // stripped once: the role named ROLE_ADMIN
    ] {
        guarded(role, RequireRoleLayer::at_least(Role::RegisteredUser))
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn role_prefixed_native_roles_are_the_native_roles() {
    for (claim, role) in [
        ("ROLE_PUBLIC", Role::Public),
        ("ROLE_REGISTERED_USER", Role::RegisteredUser),
        ("ROLE_EXPLOIT", Role::Exploit),
        ("ROLE_ADMIN", Role::Admin),
        ("ROLE_PROJECT_ADMIN", Role::ProjectAdmin),
        ("ROLE_INSTANCE_ADMIN", Role::InstanceAdmin),
    ] {
        let outcome = guarded(claim, RequireRoleLayer::at_least(role.clone())).await;
        let claims = outcome.accepted();
        assert_eq!(claims.role(), &role);
        assert_eq!(format!("ROLE_{}", claims.role()), claim);
    }
    guarded("ROLE_EXPLOIT", RequireRoleLayer::at_least(Role::Admin))
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

#[tokio::test]
async fn role_prefixed_custom_role_is_the_configured_custom_role() {
    for declared in ["CURATOR", "ROLE_CURATOR"] {
        let hierarchy = RoleHierarchy::new().with_custom(declared, Role::Exploit);
        let exploit = RequireRoleLayer::at_least(Role::Exploit).with_hierarchy(hierarchy.clone());
        let outcome = guarded("ROLE_CURATOR", exploit).await;
        let claims = outcome.accepted();
        assert_eq!(claims.role(), &Role::Custom("CURATOR".into()));
        assert_eq!(claims.role().to_string(), "CURATOR");
        let admin = RequireRoleLayer::at_least(Role::Admin).with_hierarchy(hierarchy);
        guarded("ROLE_CURATOR", admin)
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn bare_role_prefix_is_invalid() {
    let token = Payload::regards().set_str("role", "ROLE_").token();
    send_token(&token).await.invalid_token(InvalidClaims);
}

#[tokio::test]
async fn configured_custom_role_inherits_its_parent() {
    let hierarchy = RoleHierarchy::new().with_custom("CURATOR", Role::Exploit);
    let exploit = RequireRoleLayer::at_least(Role::Exploit).with_hierarchy(hierarchy.clone());
    guarded("CURATOR", exploit).await.accepted();
    let admin = RequireRoleLayer::at_least(Role::Admin).with_hierarchy(hierarchy);
    guarded("CURATOR", admin)
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

#[tokio::test]
async fn custom_role_under_public_is_reached_by_every_role_above_public() {
    let guard = || {
        RequireRoleLayer::at_least(Role::Custom("GUEST_PLUS".into()))
            .with_hierarchy(RoleHierarchy::new().with_custom("GUEST_PLUS", Role::Public))
    };
    for role in [
        "GUEST_PLUS",
        "REGISTERED_USER",
        "EXPLOIT",
        "ADMIN",
        "PROJECT_ADMIN",
        "INSTANCE_ADMIN",
    ] {
        guarded(role, guard()).await.accepted();
    }
    for role in ["PUBLIC", "GUEST"] {
        guarded(role, guard())
            .await
            .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    }
}

#[tokio::test]
async fn any_of_guard_passes_any_listed_role() {
    let guard = || RequireRoleLayer::any_of([Role::InstanceAdmin, Role::Custom("AUDITOR".into())]);
    guarded("AUDITOR", guard()).await.accepted();
    guarded("INSTANCE_ADMIN", guard()).await.accepted();
    guarded("PROJECT_ADMIN", guard())
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
    guarded("ADMIN", RequireRoleLayer::any_of(Vec::new()))
        .await
        .refused(403, INSUFFICIENT_SCOPE, InsufficientRole);
}

#[tokio::test]
async fn guard_without_bearer_layer_fails_closed() {
    let service = tower::ServiceBuilder::new()
        .layer(RequireRoleLayer::at_least(Role::Public))
        .service(tower::service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("handled")))
        }));
    let response = tower::ServiceExt::oneshot(service, bearer(&valid_token()))
        .await
        .unwrap();
    // A deployment mistake, not a client's: no challenge, and the handler is not reached.
    assert_eq!(response.status(), 500);
    assert!(response.headers().get("www-authenticate").is_none());
    assert_eq!(
        response.extensions().get::<AuthError>(),
        Some(&NotConfigured)
    );
    assert_ne!(response.body(), "handled");
}

fn scoped(uri: &str, scope_header: Option<&[u8]>, token: Option<&str>) -> Request<String> {
    let mut builder = get(uri);
    if let Some(scope) = scope_header {
        builder = builder.header("scope", HeaderValue::from_bytes(scope).unwrap());
    }
    if let Some(token) = token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(String::new()).unwrap()
}

#[tokio::test]
async fn scope_naming_the_token_tenant_is_accepted() {
    let token = valid_token();
    send(scoped("/resource", Some(b"project1"), Some(&token)))
        .await
        .accepted();
    send(scoped("/resource?scope=project1", None, Some(&token)))
        .await
        .accepted();
    send(scoped(
        "/resource?scope=proj%65ct1",
        Some(b"project1"),
        Some(&token),
    ))
    .await
    .accepted();
}

#[tokio::test]
async fn tenant_mismatch_through_the_scope_header_is_forbidden() {
    send(scoped("/resource", Some(b"project2"), Some(&valid_token())))
        .await
        .refused(403, INSUFFICIENT_SCOPE, TenantMismatch);
}

#[tokio::test]
async fn tenant_mismatch_through_the_scope_parameter_is_forbidden() {
    send(scoped(
        "/resource?scope=project2",
        None,
        Some(&valid_token()),
    ))
    .await
    .refused(403, INSUFFICIENT_SCOPE, TenantMismatch);
}

#[tokio::test]
async fn near_miss_tenant_names_are_forbidden() {
    let token = valid_token();
    for tenant in [
        "Project1",
        "PROJECT1",
        "project",
        "project10",
        "project1.",
        "project_1",
    ] {
        send(scoped("/resource", Some(tenant.as_bytes()), Some(&token)))
            .await
            .refused(403, INSUFFICIENT_SCOPE, TenantMismatch);
        send(scoped(
            &format!("/resource?scope={tenant}"),
            None,
            Some(&token),
        ))
        .await
        .refused(403, INSUFFICIENT_SCOPE, TenantMismatch);
    }
}

#[tokio::test]
async fn padded_or_non_ascii_tenant_names_are_an_invalid_request() {
    let token = valid_token();
    for query in [
        "/resource?scope=project1%20",
        "/resource?scope=+project1",
        "/resource?scope=project1%00",
        "/resource?scope=proj%D0%B5ct1", // Cyrillic e
        "/resource?scope=",
    ] {
        send(scoped(query, None, Some(&token)))
            .await
            .refused(400, INVALID_REQUEST, InvalidScope);
    }
    for header in [
        &b"project1 "[..],
        b" project1",
        b"proj\xd0\xb5ct1",
        b"project\t1",
    ] {
        send(scoped("/resource", Some(header), Some(&token)))
            .await
            .refused(400, INVALID_REQUEST, InvalidScope);
    }
}

#[tokio::test]
async fn conflicting_or_repeated_scopes_are_an_invalid_request() {
    let token = valid_token();
    send(scoped(
        "/resource?scope=project2",
        Some(b"project1"),
        Some(&token),
    ))
    .await
    .refused(400, INVALID_REQUEST, InvalidScope);
    send(scoped(
        "/resource?scope=project1&scope=project1",
        None,
        Some(&token),
    ))
    .await
    .refused(400, INVALID_REQUEST, InvalidScope);
    let request = get("/resource")
        .header("scope", "project1")
        .header("scope", "project2")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    send(request)
        .await
        .refused(400, INVALID_REQUEST, InvalidScope);
}

#[tokio::test]
async fn lenient_tenant_ignores_the_scope_and_keeps_the_token_tenant() {
    let layer = BearerAuthLayer::new(verifier()).lenient_tenant();
    let outcome = send_through(
        layer,
        None,
        scoped("/resource?scope=project2", None, Some(&valid_token())),
    )
    .await;
    assert_eq!(outcome.accepted().tenant(), TENANT);
}

fn public() -> BearerAuthLayer {
    BearerAuthLayer::new(verifier()).allow_public()
}

#[tokio::test]
async fn public_access_without_a_token_is_the_public_identity() {
    let outcome = send_through(
        public(),
        None,
        scoped("/resource?scope=project2", None, None),
    )
    .await;
    let claims = outcome.accepted();
    assert!(claims.is_anonymous());
    assert_eq!(claims.role(), &Role::Public);
    assert_eq!(claims.tenant(), "project2");
}

#[tokio::test]
async fn public_access_with_an_invalid_token_is_refused() {
    let forged = header_token(
        r#"{"alg":"HS512"}"#,
        Algorithm::HS512,
        ATTACKER_SECRET.as_bytes(),
    );
    send_through(
        public(),
        None,
        scoped("/resource", Some(b"project1"), Some(&forged)),
    )
    .await
    .invalid_token(InvalidSignature);
}

#[tokio::test]
async fn public_access_with_an_expired_token_is_refused() {
    let expired = with_exp((now() - 3600).to_string());
    send_through(
        public(),
        None,
        scoped("/resource", Some(b"project1"), Some(&expired)),
    )
    .await
    .invalid_token(Expired);
}

#[tokio::test]
async fn public_access_with_a_malformed_bearer_is_refused() {
    let request = get("/resource?scope=project1")
        .header(AUTHORIZATION, "Bearer")
        .body(String::new())
        .unwrap();
    send_through(public(), None, request)
        .await
        .invalid_token(MalformedToken);
}

#[tokio::test]
async fn public_access_with_an_access_token_parameter_is_an_invalid_request() {
    let uri = format!("/resource?scope=project1&access_token={}", valid_token());
    send_through(public(), None, scoped(&uri, None, None))
        .await
        .refused(400, INVALID_REQUEST, TokenInQuery);
}

#[tokio::test]
async fn public_access_with_basic_credentials_is_the_public_identity() {
    let request = get("/resource?scope=project1")
        .header(AUTHORIZATION, "Basic Y2xpZW50OnNlY3JldA==")
        .body(String::new())
        .unwrap();
    assert!(
        send_through(public(), None, request)
            .await
            .accepted()
            .is_anonymous()
    );
}

#[tokio::test]
async fn public_access_without_a_scope_needs_credentials() {
    send_through(public(), None, scoped("/resource", None, None))
        .await
        .refused(401, NO_ERROR, MissingCredentials);
}

#[tokio::test]
async fn public_identity_does_not_pass_a_registered_user_guard() {
    let guard = RequireRoleLayer::at_least(Role::RegisteredUser);
    send_through(
        public(),
        Some(guard),
        scoped("/resource", Some(b"project1"), None),
    )
    .await
    // Anonymous: no credentials were sent, so the answer asks for some (RFC 6750 §3.1).
    .refused(401, NO_ERROR, MissingCredentials);
}

#[tokio::test]
async fn scope_without_public_access_needs_credentials() {
    send(scoped("/resource", Some(b"project1"), None))
        .await
        .refused(401, NO_ERROR, MissingCredentials);
}
