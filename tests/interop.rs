//! Tokens produced outside this crate verify: the REGARDS-style vector of the core issue, PyJWT
//! (REGARDS' layout, and the shapes REGARDS' own parser also accepts: `ROLE_` prefix,
//! fractional dates, `null` optional members) and the JDK's own HMAC (see `tests/fixtures/` for the scripts that produced them), and
//! jsonwebtoken for RSA. All HMAC fixtures are signed with REGARDS' public development key.

use regards_auth::{AuthError, Claims, REGARDS_DEVELOPMENT_KEY, Role, Verifier};

/// The vector given in the core issue: role ADMIN, tenant project1, admin@regards.fr, exp 2100.
const REGARDS_VECTOR: &str = "eyJhbGciOiJIUzUxMiJ9.eyJyb2xlIjoiQURNSU4iLCJ0ZW5hbnQiOiJwcm9qZWN0MSIsInN1YiI6ImFkbWluQHJlZ2FyZHMuZnIiLCJlbWFpbCI6ImFkbWluQHJlZ2FyZHMuZnIiLCJleHAiOjQxMDI0NDQ4MDB9.OszpaMZIE-IRwWyqg8JV41OzEcRZowqe2O1ecgmk6qxwlpJJgwZpfhIRo7M1HZlW_OQ4nwq8xceAKBBcJzOwgA";

// Output of `python3 tests/fixtures/pyjwt_tokens.py` (PyJWT 2.15.1).
const PYJWT_HS512: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJQUk9KRUNUX0FETUlOIiwic3ViIjoiYWRtaW5AcmVnYXJkcy5mciIsImVtYWlsIjoiYWRtaW5AcmVnYXJkcy5mciIsImV4cCI6NDEwMjQ0NDgwMH0.BQ0pahZkFnK4I2JABOz3KLlOat7jS1f4UYmtudiCfjpQ1vyXZcNcEv996beab51zOZ_z7GG1QxIWGiHOQIZUbw";
const PYJWT_HS256: &str = "eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MiIsInJvbGUiOiJSRUdJU1RFUkVEX1VTRVIiLCJzdWIiOiJ1c2VyQHJlZ2FyZHMuZnIiLCJlbWFpbCI6InVzZXJAcmVnYXJkcy5mciIsImV4cCI6NDEwMjQ0NDgwMH0.MLRifaVH0dyH05XOBNHiZwJNiyul67yxYl_f_wEmRq8";
const PYJWT_HS512_GROUPS: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJFWFBMT0lUIiwic3ViIjoib3BzQHJlZ2FyZHMuZnIiLCJlbWFpbCI6Im9wc0ByZWdhcmRzLmZyIiwiYWNjZXNzR3JvdXBzIjpbInB1YmxpYyIsImcyIl0sIm9yaWdpbiI6InVpIiwiZXhwIjo0MTAyNDQ0ODAwfQ.1iEf7JE6Imw4N4cEKi94_Hjlkcv8_XzmJOUfIh11wC5aUiSE_dIA1KBxd-e8D-6qpBLf9pt_zDGBtogeYDoKPg";

// Shaped as REGARDS' own parser (jjwt) reads them: `ROLE_ADMIN`; `nbf` 1700000000.25 and `exp`
// 4102444800.75; `"accessGroups":null` and `"origin":null` with role `ROLE_CURATOR`.
const PYJWT_HS512_ROLE_PREFIX: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJST0xFX0FETUlOIiwic3ViIjoiYWRtaW5AcmVnYXJkcy5mciIsImVtYWlsIjoiYWRtaW5AcmVnYXJkcy5mciIsImV4cCI6NDEwMjQ0NDgwMH0.QNhfJxzYp70YrJLSyP2KeY_PKpp7rwMuYHNrAosshvNB-m7PWy-nNjduzqCtI2Pc9W34HX8hCx2fkDNszJsq4A";
const PYJWT_HS512_FRACTIONAL_DATES: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJFWFBMT0lUIiwic3ViIjoib3BzQHJlZ2FyZHMuZnIiLCJlbWFpbCI6Im9wc0ByZWdhcmRzLmZyIiwibmJmIjoxNzAwMDAwMDAwLjI1LCJleHAiOjQxMDI0NDQ4MDAuNzV9.Pe_BU7hsZ1arDP34P0k6am39DkD8igcDooPCNNHCoJISDcWSovxJpd51ndDjaibaYoTyZ9oZ3ge5KCjOMn11uA";
const PYJWT_HS512_NULLS: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJST0xFX0NVUkFUT1IiLCJzdWIiOiJjdXJhdG9yQHJlZ2FyZHMuZnIiLCJlbWFpbCI6ImN1cmF0b3JAcmVnYXJkcy5mciIsImFjY2Vzc0dyb3VwcyI6bnVsbCwib3JpZ2luIjpudWxsLCJleHAiOjQxMDI0NDQ4MDB9.D09hhkFD-IOrfO01iRyE1phiyUXNE1qvb9XqA-i5JRGTzFgcIy9QSlHQMTHoSmMrZ-lbh5XTEiH8f7tJNHDIbg";

// Output of `java tests/fixtures/JdkTokens.java` (OpenJDK 17, javax.crypto HmacSHA512).
const JDK_HS512_SYSTEM: &str = "eyJhbGciOiJIUzUxMiJ9.eyJ0ZW5hbnQiOiJwcm9qZWN0MSIsInJvbGUiOiJST0xFX1NZU19ycy1ub3RpZmllciIsInN1YiI6InJzLW5vdGlmaWVyIiwiZW1haWwiOiJycy1ub3RpZmllciIsImV4cCI6NDEwMjQ0NDgwMH0.7CxHYbllcssK8fXLZBPxgW8xYC4zrHwWH6nL-WxiWXKxogx12A_2EGzi5eTTrFvAe2zY4tbOAtI_fgI9nTxR1Q";

fn development_verifier() -> Verifier {
    Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .hs256(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap()
}

fn identity(claims: &Claims) -> (&str, &str, &Role, &str) {
    (claims.sub(), claims.email(), claims.role(), claims.tenant())
}

#[test]
fn regards_vector_verifies() {
    let claims = development_verifier().verify(REGARDS_VECTOR).unwrap();
    assert_eq!(
        identity(&claims),
        (
            "admin@regards.fr",
            "admin@regards.fr",
            &Role::Admin,
            "project1"
        )
    );
    assert_eq!(claims.exp(), 4_102_444_800);
}

#[test]
fn pyjwt_hs512_verifies() {
    let claims = development_verifier().verify(PYJWT_HS512).unwrap();
    assert_eq!(
        identity(&claims),
        (
            "admin@regards.fr",
            "admin@regards.fr",
            &Role::ProjectAdmin,
            "project1"
        )
    );
}

#[test]
fn pyjwt_hs256_verifies() {
    let claims = development_verifier().verify(PYJWT_HS256).unwrap();
    assert_eq!(
        identity(&claims),
        (
            "user@regards.fr",
            "user@regards.fr",
            &Role::RegisteredUser,
            "project2"
        )
    );
}

#[test]
fn pyjwt_access_groups_and_additional_params_are_read() {
    let claims = development_verifier().verify(PYJWT_HS512_GROUPS).unwrap();
    assert_eq!(claims.role(), &Role::Exploit);
    assert_eq!(claims.access_groups(), ["public", "g2"]);
    assert_eq!(
        claims.additional("origin").and_then(|v| v.as_str()),
        Some("ui")
    );
}

#[test]
fn pyjwt_role_prefixed_token_is_read_as_the_native_role() {
    let claims = development_verifier()
        .verify(PYJWT_HS512_ROLE_PREFIX)
        .unwrap();
    assert_eq!(
        identity(&claims),
        (
            "admin@regards.fr",
            "admin@regards.fr",
            &Role::Admin,
            "project1"
        )
    );
    assert_eq!(claims.role().to_string(), "ADMIN");
}

#[test]
fn pyjwt_fractional_dates_are_rounded_toward_refusal() {
    let claims = development_verifier()
        .verify(PYJWT_HS512_FRACTIONAL_DATES)
        .unwrap();
    assert_eq!(claims.role(), &Role::Exploit);
    assert_eq!(claims.exp(), 4_102_444_800);
    assert_eq!(claims.not_before(), Some(1_700_000_001));
}

#[test]
fn pyjwt_null_optional_members_are_absent() {
    let claims = development_verifier().verify(PYJWT_HS512_NULLS).unwrap();
    assert_eq!(claims.role(), &Role::Custom("CURATOR".into()));
    assert!(claims.access_groups().is_empty());
    assert!(claims.additional_claims().is_empty());
}

#[test]
fn jdk_system_token_verifies() {
    let claims = development_verifier().verify(JDK_HS512_SYSTEM).unwrap();
    assert_eq!(claims.role(), &Role::System("rs-notifier".into()));
    assert_eq!(claims.sub(), "rs-notifier");
}

#[test]
fn hs256_fixture_is_refused_without_an_hs256_key() {
    let hs512_only = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    assert_eq!(
        hs512_only.verify(PYJWT_HS256),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn fixtures_are_refused_with_another_key() {
    let other = Verifier::builder()
        .hs512("another-deployment-secret-that-is-at-least-sixty-four-bytes-long!!")
        .build()
        .unwrap();
    for token in [
        REGARDS_VECTOR,
        PYJWT_HS512,
        PYJWT_HS512_ROLE_PREFIX,
        PYJWT_HS512_FRACTIONAL_DATES,
        PYJWT_HS512_NULLS,
        JDK_HS512_SYSTEM,
    ] {
        assert_eq!(other.verify(token), Err(AuthError::InvalidSignature));
    }
}
