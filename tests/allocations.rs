//! Heap allocations on the hot paths, counted by a global allocator that counts per thread.
//!
//! - `Verifier::verify` allocates only the claims' own strings when a token is valid, and
//!   nothing at all when it refuses one;
//! - through the layers, a valid request allocates, beyond the same router with pass-through
//!   layers in the same places, only the claims and the two request extensions (`Claims`,
//!   `BearerToken`, and at most one growth of the extensions map); a refused request only its
//!   response (body, headers, the `AuthError` extension).
//!
//! The pass-through baseline matters: axum boxes every layered route and clones it on each
//! call, whatever the layer does; those allocations are axum's, not this crate's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use axum::Router;
use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri};
use axum::routing::put;
use regards_auth::{
    Algorithm, AuthError, BearerAuthLayer, RequireRoleLayer, Role, TokenIssuer, Verifier,
};
use tower::ServiceExt;
use tower::layer::util::Identity;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter is a
// thread-local `Cell` with a const initializer and no destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// How many allocations `f` made on this thread, and what it returned.
fn count<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

const SECRET: &str = "allocation-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDE";

fn verifier(cache: usize) -> Verifier {
    Verifier::builder()
        .hs512(SECRET)
        .cache(cache)
        .build()
        .unwrap()
}

fn token(role: Role) -> String {
    TokenIssuer::new(Algorithm::HS512, SECRET).unwrap().mint(
        "jane.doe@regards.example.org",
        role,
        "project1",
    )
}

/// The strings a REGARDS token's claims own: `sub`, `email`, `tenant` (native roles and empty
/// access groups own none).
const CLAIMS_ALLOCATIONS: usize = 3;

#[test]
fn valid_token_allocates_only_the_claims() {
    let verifier = verifier(0);
    let token = token(Role::ProjectAdmin);
    verifier.verify(&token).unwrap();
    let (allocations, claims) = count(|| verifier.verify(&token).unwrap());
    assert_eq!(claims.role, Role::ProjectAdmin);
    assert_eq!(allocations, CLAIMS_ALLOCATIONS);
}

#[test]
fn refused_tokens_allocate_nothing() {
    let verifier = verifier(0);
    let token = token(Role::ProjectAdmin);
    let dot = token.rfind('.').unwrap() + 1;
    let flipped = if &token[dot..=dot] == "A" { "B" } else { "A" };
    let bad_signature = format!("{}{flipped}{}", &token[..dot], &token[dot + 1..]);
    let cases = [
        (bad_signature, AuthError::InvalidSignature),
        (format!("{token}.x"), AuthError::MalformedToken),
        (format!("{token}$"), AuthError::MalformedToken),
        ("a".repeat(9000), AuthError::TokenTooLarge),
        (
            "eyJhbGciOiJub25lIn0.e30.".into(),
            AuthError::UnsupportedAlgorithm,
        ),
    ];
    for (token, expected) in cases {
        let (allocations, result) = count(|| verifier.verify(&token));
        assert_eq!(result, Err(expected));
        assert_eq!(allocations, 0, "{expected:?}");
    }
}

#[test]
fn cache_hit_allocates_only_the_claims_clone() {
    let verifier = verifier(64);
    let token = token(Role::ProjectAdmin);
    verifier.verify(&token).unwrap();
    let (allocations, _) = count(|| verifier.verify(&token).unwrap());
    assert_eq!(allocations, CLAIMS_ALLOCATIONS);
}

const PATH: &str = "/api/v1/rs-notifier/rule";

fn request(authorization: Option<&HeaderValue>) -> Request<Body> {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = Uri::from_static(PATH);
    if let Some(value) = authorization {
        request.headers_mut().insert(AUTHORIZATION, value.clone());
    }
    request
}

/// Allocations of one request through `router` (after a first one, so that lazily built state
/// is not counted), and its status.
fn request_allocations(
    router: &Router,
    authorization: Option<&HeaderValue>,
) -> (usize, StatusCode) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        router
            .clone()
            .oneshot(request(authorization))
            .await
            .unwrap();
        let before = ALLOCATIONS.with(Cell::get);
        let response = router
            .clone()
            .oneshot(request(authorization))
            .await
            .unwrap();
        (ALLOCATIONS.with(Cell::get) - before, response.status())
    })
}

fn header(value: String) -> HeaderValue {
    let value = HeaderValue::try_from(value).unwrap();
    // As hyper's: a slice of a shared buffer, so that cloning it never allocates.
    drop(value.clone());
    value
}

async fn import_rule() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The same router as [`layered`], with layers that do nothing in the same places. Finished
/// with `with_state(())`, as `axum::serve` does: routes are built once, not per request.
fn pass_through() -> Router {
    Router::new()
        .route(PATH, put(import_rule).route_layer(Identity::new()))
        .layer(Identity::new())
        .with_state(())
}

fn layered(verifier: Verifier) -> Router {
    Router::new()
        .route(
            PATH,
            put(import_rule).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)),
        )
        .layer(BearerAuthLayer::new(verifier))
        .with_state(())
}

/// Allocations of the request extensions the layer adds: one box per value (`Claims`,
/// `BearerToken`), and the map may grow once to hold them.
const EXTENSION_ALLOCATIONS: usize = 3;

#[test]
fn valid_request_allocates_only_the_claims_and_the_extensions() {
    let valid = header(format!("Bearer {}", token(Role::ProjectAdmin)));
    let (bare, status) = request_allocations(&pass_through(), Some(&valid));
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (layered, status) = request_allocations(&layered(verifier(0)), Some(&valid));
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        layered - bare <= CLAIMS_ALLOCATIONS + EXTENSION_ALLOCATIONS,
        "{layered} - {bare}"
    );
}

#[test]
fn cached_request_allocates_the_same_as_a_verified_one() {
    let valid = header(format!("Bearer {}", token(Role::ProjectAdmin)));
    let (bare, _) = request_allocations(&pass_through(), Some(&valid));
    let (layered, status) = request_allocations(&layered(verifier(64)), Some(&valid));
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        layered - bare <= CLAIMS_ALLOCATIONS + EXTENSION_ALLOCATIONS,
        "{layered} - {bare}"
    );
}

#[test]
fn refused_requests_allocate_only_their_response() {
    let token = token(Role::ProjectAdmin);
    let cases = [
        None,
        Some(header("Basic Y2xpZW50OnNlY3JldA==".into())),
        Some(header(format!("Bearer {token}.x"))),
        Some(header(format!("Bearer {token}$"))),
        Some(header(format!("Bearer {}", "a".repeat(9000)))),
        Some(header(format!("Bearer {}", &token[..token.len() - 2]))),
    ];
    let router = layered(verifier(0));
    // The response alone: what the same rejection costs when built outside any request.
    let (response, _) = count(|| AuthError::MissingCredentials.into_response_for_test());
    let (bare, _) = request_allocations(&pass_through(), None);
    for authorization in &cases {
        let (refused, status) = request_allocations(&router, authorization.as_ref());
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            refused - bare <= response,
            "{refused} - {bare} > {response} for {authorization:?}"
        );
    }
}

trait ResponseForTest {
    fn into_response_for_test(self) -> axum::response::Response;
}

impl ResponseForTest for AuthError {
    fn into_response_for_test(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}

#[test]
fn role_refusal_allocates_only_the_claims_and_the_response() {
    let exploit = header(format!("Bearer {}", token(Role::Exploit)));
    let (bare, _) = request_allocations(&pass_through(), Some(&exploit));
    let (refused, status) = request_allocations(&layered(verifier(0)), Some(&exploit));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (response, _) = count(|| AuthError::InsufficientRole.into_response_for_test());
    assert!(
        refused - bare <= CLAIMS_ALLOCATIONS + EXTENSION_ALLOCATIONS + response,
        "{refused} - {bare} > claims + extensions + {response}"
    );
}
