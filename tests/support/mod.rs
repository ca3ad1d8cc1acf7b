//! Shared by the conformance suite and the property tests: the keys, hand-built tokens, and a
//! handler that records whether it ran, driven with `tower::ServiceExt::oneshot`.
//!
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response};
use regards_auth::{
    Algorithm, AuthError, BearerAuthLayer, Claims, RequireRoleLayer, Role, TokenIssuer, Verifier,
};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

/// Test fixtures, not deployment keys: the suite's HS512 and HS256 secrets.
pub const HS512_SECRET: &str = "conformance-suite-hs512-secret-used-by-these-tests-only-0123456789";
pub const HS256_SECRET: &str = "conformance-suite-hs256-secret-0123456789";
/// A key an attacker controls: never configured anywhere.
pub const ATTACKER_SECRET: &str =
    "attacker-controlled-hmac-secret-that-no-verifier-is-configured-with";

pub const TENANT: &str = "project1";
pub const LOGIN: &str = "jane@regards.fr";

/// The four `WWW-Authenticate` values of RFC 6750 §3 the crate answers with.
pub const NO_ERROR: &str = r#"Bearer realm="regards""#;
pub const INVALID_TOKEN: &str = r#"Bearer realm="regards", error="invalid_token""#;
pub const INVALID_REQUEST: &str = r#"Bearer realm="regards", error="invalid_request""#;
pub const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="regards", error="insufficient_scope""#;

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// An expiry an hour from now.
pub fn in_an_hour() -> u64 {
    now() + 3600
}

/// Unpadded base64url, as JWS segments are written.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The unpadded base64url HMAC of `signing_input` with `key`, for `alg` HS256/HS384/HS512.
pub fn hmac_signature(alg: Algorithm, key: &[u8], signing_input: &str) -> String {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    let message = signing_input.as_bytes();
    b64(match alg {
        Algorithm::HS256 => mac::<Hmac<Sha256>>(key, message),
        Algorithm::HS384 => mac::<Hmac<Sha384>>(key, message),
        Algorithm::HS512 => mac::<Hmac<Sha512>>(key, message),
        other => panic!("{other} is not an HMAC algorithm"),
    })
}

/// `b64(header).b64(payload).HMAC` with any header and payload bytes: what a JWT library would
/// refuse to produce.
pub fn hand_token(header: &str, payload: impl AsRef<[u8]>, alg: Algorithm, key: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    sign_input(&signing_input, alg, key)
}

/// `signing_input.HMAC(signing_input)`, for segments written by hand.
pub fn sign_input(signing_input: &str, alg: Algorithm, key: &[u8]) -> String {
    format!(
        "{signing_input}.{}",
        hmac_signature(alg, key, signing_input)
    )
}

/// A hand-built token with REGARDS' header `{"alg":"HS512"}`, signed with the suite's key.
pub fn hs512(payload: impl AsRef<[u8]>) -> String {
    hand_token(
        r#"{"alg":"HS512"}"#,
        payload,
        Algorithm::HS512,
        HS512_SECRET.as_bytes(),
    )
}

/// A claims set written member by member, in order, so that members can be dropped, replaced
/// by any JSON text, or repeated.
#[derive(Debug, Clone)]
pub struct Payload(Vec<(String, String)>);

impl Payload {
    /// REGARDS' claims for an ADMIN of [`TENANT`], valid for an hour.
    pub fn regards() -> Self {
        Payload(vec![
            ("tenant".into(), format!("\"{TENANT}\"")),
            ("role".into(), "\"ADMIN\"".into()),
            ("sub".into(), format!("\"{LOGIN}\"")),
            ("email".into(), format!("\"{LOGIN}\"")),
            ("exp".into(), in_an_hour().to_string()),
        ])
    }

    /// Replaces (or adds) `name` with the JSON text `raw`.
    pub fn set(mut self, name: &str, raw: impl Into<String>) -> Self {
        let raw = raw.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(member) => member.1 = raw,
            None => self.0.push((name.into(), raw)),
        }
        self
    }

    /// Sets `name` to the JSON string `value`.
    pub fn set_str(self, name: &str, value: &str) -> Self {
        let raw = serde_json::to_string(value).expect("strings serialize");
        self.set(name, raw)
    }

    /// Drops `name`.
    pub fn remove(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self
    }

    /// Appends a member even if the name is already there (the member name is written as is,
    /// escapes included).
    pub fn push(mut self, name: &str, raw: impl Into<String>) -> Self {
        self.0.push((name.into(), raw.into()));
        self
    }

    /// The JSON text.
    pub fn json(&self) -> String {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(name, raw)| format!("\"{name}\":{raw}"))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// Signed with REGARDS' header and the suite's HS512 key.
    pub fn token(&self) -> String {
        hs512(self.json())
    }
}

/// The suite's HS512 issuer.
pub fn issuer() -> TokenIssuer {
    TokenIssuer::new(Algorithm::HS512, HS512_SECRET).expect("the suite's key is valid")
}

/// A valid REGARDS token: ADMIN of [`TENANT`], minted by the crate's issuer.
pub fn valid_token() -> String {
    issuer().mint(LOGIN, Role::Admin, TENANT)
}

/// A valid token for `role` on [`TENANT`].
pub fn token_for(role: Role) -> String {
    issuer().mint(LOGIN, role, TENANT)
}

/// An RSA key pair generated at test time, with the public key in the forms a service may be
/// configured with.
pub struct RsaKeys {
    pub private: RsaPrivateKey,
    /// PKCS#1 DER of the private key, as `jsonwebtoken::EncodingKey::from_rsa_der` takes it.
    pub private_pkcs1_der: Vec<u8>,
    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) PEM.
    pub public_pem: String,
    /// SubjectPublicKeyInfo DER.
    pub public_der: Vec<u8>,
    /// Standard base64 of the DER: REGARDS' `jwt.signing-key.RS256` format.
    pub public_der_base64: String,
}

impl RsaKeys {
    pub fn generate(bits: usize) -> Self {
        let private =
            RsaPrivateKey::new(&mut rand::thread_rng(), bits).expect("RSA key generation");
        let public = RsaPublicKey::from(&private);
        let public_der = public
            .to_public_key_der()
            .expect("DER encoding")
            .as_bytes()
            .to_vec();
        RsaKeys {
            private_pkcs1_der: private
                .to_pkcs1_der()
                .expect("DER encoding")
                .as_bytes()
                .to_vec(),
            private,
            public_pem: public
                .to_public_key_pem(LineEnding::LF)
                .expect("PEM encoding"),
            public_der_base64: STANDARD.encode(&public_der),
            public_der,
        }
    }

    pub fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        jsonwebtoken::EncodingKey::from_rsa_der(&self.private_pkcs1_der)
    }
}

/// The service's RSA key (its public half is configured for RS256).
pub static SERVICE_RSA: LazyLock<RsaKeys> = LazyLock::new(|| RsaKeys::generate(2048));
/// A key pair the attacker holds.
pub static ATTACKER_RSA: LazyLock<RsaKeys> = LazyLock::new(|| RsaKeys::generate(2048));

/// The suite's verifier: HS512 and HS256 secrets, and the RS256 public key in REGARDS' format.
pub fn verifier() -> Verifier {
    Verifier::builder()
        .hs512(HS512_SECRET)
        .hs256(HS256_SECRET)
        .rs256(&SERVICE_RSA.public_der_base64)
        .build()
        .expect("the suite's keys are valid")
}

/// An RS256 token for `claims`, signed by jsonwebtoken with `keys`.
pub fn rs_token(alg: jsonwebtoken::Algorithm, claims: &Claims, keys: &RsaKeys) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &keys.encoding_key(),
    )
    .expect("jsonwebtoken signs")
}

/// The suite's usual claims: ADMIN of [`TENANT`], valid for an hour.
pub fn admin_claims() -> Claims {
    Claims::new(LOGIN, LOGIN, Role::Admin, TENANT, in_an_hour())
}

/// A GET request to `uri`.
pub fn get(uri: &str) -> http::request::Builder {
    Request::get(uri)
}

/// A GET request to `/resource` with `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> Request<String> {
    with_authorization(format!("Bearer {token}").as_bytes())
}

/// A GET request to `/resource` with the given `Authorization` bytes.
pub fn with_authorization(value: &[u8]) -> Request<String> {
    Request::get("/resource")
        .header(
            AUTHORIZATION,
            HeaderValue::from_bytes(value).expect("a header value"),
        )
        .body(String::new())
        .expect("a request")
}

/// What came back, and what the handler saw.
#[derive(Debug)]
pub struct Outcome {
    pub status: u16,
    /// Every `WWW-Authenticate` value.
    pub challenges: Vec<String>,
    /// The claims the handler saw, if it ran.
    pub handled: Option<Claims>,
    /// The reason the crate put in the rejection's extensions.
    pub reason: Option<AuthError>,
    pub body: String,
}

impl Outcome {
    /// The request reached the handler, with claims, and no challenge was sent.
    #[track_caller]
    pub fn accepted(&self) -> &Claims {
        assert_eq!(self.status, 200, "{self:?}");
        assert!(self.challenges.is_empty(), "{self:?}");
        assert_eq!(self.reason, None, "{self:?}");
        self.handled
            .as_ref()
            .unwrap_or_else(|| panic!("the handler did not run: {self:?}"))
    }

    /// The request was refused with `status`, exactly one challenge equal to `challenge`, the
    /// fixed body of `reason`, and the handler did not run.
    #[track_caller]
    pub fn refused(&self, status: u16, challenge: &str, reason: AuthError) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.challenges, [challenge], "{self:?}");
        assert_eq!(self.reason, Some(reason), "{self:?}");
        assert_eq!(self.body, reason.body(), "{self:?}");
        assert!(self.handled.is_none(), "the handler ran: {self:?}");
    }

    /// 401 `invalid_token` for `reason`.
    #[track_caller]
    pub fn invalid_token(&self, reason: AuthError) {
        self.refused(401, INVALID_TOKEN, reason);
    }
}

type Recorder = Arc<Mutex<Option<Claims>>>;

fn handler(
    seen: Recorder,
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    service_fn(move |request: Request<String>| {
        let seen = seen.clone();
        async move {
            let claims = request
                .extensions()
                .get::<Claims>()
                .cloned()
                .expect("the handler runs only with claims");
            *seen.lock().expect("not poisoned") = Some(claims);
            Ok::<_, Infallible>(Response::new(String::from("handled")))
        }
    })
}

fn outcome(response: Response<String>, seen: &Recorder) -> Outcome {
    let challenges = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|value| value.to_str().expect("ASCII challenge").to_owned())
        .collect();
    Outcome {
        status: response.status().as_u16(),
        challenges,
        reason: response.extensions().get::<AuthError>().copied(),
        handled: seen.lock().expect("not poisoned").take(),
        body: response.into_body(),
    }
}

/// Sends `request` through `bearer_layer` (and `guard`, when given) to the recording handler.
pub async fn send_through(
    bearer_layer: BearerAuthLayer,
    guard: Option<RequireRoleLayer>,
    request: Request<String>,
) -> Outcome {
    let seen = Recorder::default();
    let response = match guard {
        Some(guard) => ServiceBuilder::new()
            .layer(bearer_layer)
            .layer(guard)
            .service(handler(seen.clone()))
            .oneshot(request)
            .await
            .expect("infallible"),
        None => ServiceBuilder::new()
            .layer(bearer_layer)
            .service(handler(seen.clone()))
            .oneshot(request)
            .await
            .expect("infallible"),
    };
    outcome(response, &seen)
}

/// Sends `request` through `BearerAuthLayer::new(verifier())`.
pub async fn send(request: Request<String>) -> Outcome {
    send_through(BearerAuthLayer::new(verifier()), None, request).await
}

/// Sends `Authorization: Bearer <token>` through `BearerAuthLayer::new(verifier())`.
pub async fn send_token(token: &str) -> Outcome {
    send(bearer(token)).await
}

/// Polls a future that must be ready at once (the layers and the recording handler never
/// wait): lets property tests and the fuzz target run without an async runtime.
pub fn ready_now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the middleware stack returned a pending future"),
    }
}

/// [`send_through`] without a runtime.
pub fn send_now(
    bearer_layer: BearerAuthLayer,
    guard: Option<RequireRoleLayer>,
    request: Request<String>,
) -> Outcome {
    ready_now(send_through(bearer_layer, guard, request))
}
