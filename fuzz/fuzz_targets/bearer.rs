//! Fuzzes what a client controls: the `Authorization` header, the query string and the `scope`
//! header, through `BearerAuthLayer` and `RequireRoleLayer`, and the token text through
//! `Verifier::verify`.
//!
//! Input layout: the bytes up to the first `\n` are the `Authorization` value; the bytes up to
//! the next `\n` are the query string; the rest is the `scope` header. The same input, whole,
//! is also handed to `Verifier::verify` as a token when it is UTF-8.
//!
//! It checks that nothing panics, that no answer is a 5xx, that a refusal carries exactly one
//! `WWW-Authenticate` challenge, and that a request reaches the handler only with the one valid
//! token (or anonymously, as PUBLIC, when the request names a tenant).

#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response};
use libfuzzer_sys::fuzz_target;
use regards_auth::{
    Algorithm, BearerAuthLayer, Claims, RequireRoleLayer, Role, TokenIssuer, Verifier,
};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

/// The one HS512 secret the fuzzed verifier knows (a fuzzing fixture, not a deployment key).
const SECRET: &str = "fuzzing-fixture-hs512-secret-of-sixty-four-bytes-at-least-0123456789";
const TENANT: &str = "project1";
/// 2100-01-01: the valid token must stay valid for as long as the fuzzer runs.
const FAR_FUTURE: u64 = 4_102_444_800;

struct Fixture {
    verifier: Verifier,
    valid_token: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let verifier = Verifier::builder()
        .hs512(SECRET)
        .build()
        .expect("the fixture key is valid");
    let issuer = TokenIssuer::new(Algorithm::HS512, SECRET).expect("the fixture key is valid");
    let claims = Claims::new(
        "jane@regards.fr",
        "jane@regards.fr",
        Role::Admin,
        TENANT,
        FAR_FUTURE,
    );
    Fixture {
        verifier,
        valid_token: issuer.issue(&claims),
    }
});

/// Polls a future that must be ready at once: the layers never wait, the handler neither.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the middleware stack returned a pending future"),
    }
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn check_request(data: &[u8]) {
    let fixture = &*FIXTURE;
    let (authorization, rest) = split_line(data);
    let (query, scope) = split_line(rest);

    let mut uri = String::from("/resource");
    if let Ok(query) = std::str::from_utf8(query) {
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(query);
        }
    }
    let mut builder = Request::get(uri.as_str());
    let authorization = HeaderValue::from_bytes(authorization).ok();
    if let Some(value) = &authorization {
        builder = builder.header(AUTHORIZATION, value.clone());
    }
    if let Ok(scope) = HeaderValue::from_bytes(scope) {
        if !scope.is_empty() {
            builder = builder.header("scope", scope);
        }
    }
    // Not every query string makes a valid URI: those requests cannot reach a service.
    let Ok(request) = builder.body(String::new()) else {
        return;
    };

    let mut service = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(fixture.verifier.clone()).allow_public())
        .layer(RequireRoleLayer::at_least(Role::Public))
        .service(service_fn(|request: Request<String>| async move {
            // The handler hands back the claims it was called with.
            let mut response = Response::new(String::from("handled"));
            if let Some(claims) = request.extensions().get::<Claims>() {
                response.extensions_mut().insert(claims.clone());
            }
            Ok::<_, Infallible>(response)
        }));
    let response = now(async {
        let ready = service.ready().await.expect("infallible");
        ready.call(request).await.expect("infallible")
    });

    let status = response.status();
    assert!(
        !status.is_server_error(),
        "5xx for a client's request: {status}"
    );
    let challenges = response.headers().get_all(WWW_AUTHENTICATE).iter().count();
    let handled = response.body() == "handled";
    match response.extensions().get::<Claims>() {
        Some(claims) => {
            assert!(handled);
            assert!(status.is_success());
            assert_eq!(challenges, 0);
            if claims.is_anonymous() {
                assert_eq!(claims.role(), &Role::Public);
            } else {
                let value = authorization.expect("a token identity needs a header");
                let token = value.to_str().expect("accepted tokens are ASCII");
                assert!(
                    token.split_ascii_whitespace().nth(1) == Some(fixture.valid_token.as_str()),
                    "accepted a token that is not the valid one"
                );
            }
        }
        None => {
            assert!(!handled, "the handler ran without claims");
            assert!(status.is_client_error(), "refusal with {status}");
            assert_eq!(challenges, 1, "a refusal carries exactly one challenge");
        }
    }
}

fn check_token(data: &[u8]) {
    let fixture = &*FIXTURE;
    if let Ok(token) = std::str::from_utf8(data) {
        if fixture.verifier.verify(token).is_ok() {
            assert_eq!(
                token, fixture.valid_token,
                "accepted a token that is not the valid one"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_request(data);
    check_token(data);
});
