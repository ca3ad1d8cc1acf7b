//! Heap allocations on the hot paths, counted by a global allocator that counts per thread.
//!
//! - `Verifier::verify` allocates once when a token is valid (the shared identity: claims,
//!   their strings and the token in one block), not at all on a cache hit (the cached identity
//!   is shared), and nothing when it refuses a token;
//! - through the layers, beyond the same router with pass-through layers in the same places,
//!   a valid request allocates at most twice (the identity, and the box of its one request
//!   extension), a cache hit at most once (the extension); a refused request only its
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
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use regards_auth::{
    Algorithm, AuthError, BearerAuthLayer, RequireRoleLayer, Role, TokenIssuer, Verifier,
};
use tower::ServiceExt;
use tower::layer::util::Identity;
use tower::util::MapRequestLayer;

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

/// The identity of a valid REGARDS token: one block for its fields, `sub`, `email`, `tenant`
/// and the token (native roles and empty access groups own nothing more).
const IDENTITY_ALLOCATIONS: usize = 1;

#[test]
fn valid_token_allocates_only_the_identity() {
    let verifier = verifier(0);
    let token = token(Role::ProjectAdmin);
    verifier.verify(&token).unwrap();
    let (allocations, claims) = count(|| verifier.verify(&token).unwrap());
    assert_eq!(claims.role(), &Role::ProjectAdmin);
    assert_eq!(allocations, IDENTITY_ALLOCATIONS);
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
fn cache_hit_allocates_nothing() {
    let verifier = verifier(64);
    let token = token(Role::ProjectAdmin);
    verifier.verify(&token).unwrap();
    let (allocations, claims) = count(|| verifier.verify(&token).unwrap());
    assert_eq!(claims.tenant(), "project1");
    assert_eq!(allocations, 0);
}

const PATH: &str = "/api/v1/rs-notifier/rule";

/// How the request reaches the router.
#[derive(Clone, Copy)]
enum Served {
    /// Straight to the router: in its extensions, axum's three (`OriginalUri`, `MatchedPath`,
    /// the path parameters) fill the map's first allocation, sized for three.
    Plain,
    /// With the peer's address, as `axum::serve` with `into_make_service_with_connect_info`
    /// hands it over (managed access reads it): four extensions, so the map has already grown
    /// to seven entries before any layer of ours runs.
    WithConnectInfo,
}

fn request(authorization: Option<&HeaderValue>, served: Served) -> Request<Body> {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = Uri::from_static(PATH);
    if let Some(value) = authorization {
        request.headers_mut().insert(AUTHORIZATION, value.clone());
    }
    if let Served::WithConnectInfo = served {
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    request
}

/// Allocations of one request through `router` (after a first one, so that lazily built state
/// is not counted), and its status.
fn request_allocations(
    router: &Router,
    authorization: Option<&HeaderValue>,
) -> (usize, StatusCode) {
    served_request_allocations(router, authorization, Served::Plain)
}

fn served_request_allocations(
    router: &Router,
    authorization: Option<&HeaderValue>,
    served: Served,
) -> (usize, StatusCode) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        router
            .clone()
            .oneshot(request(authorization, served))
            .await
            .unwrap();
        let before = ALLOCATIONS.with(Cell::get);
        let response = router
            .clone()
            .oneshot(request(authorization, served))
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

/// The request extension the layer adds: the box of its one value, the identity.
const EXTENSION_ALLOCATIONS: usize = 1;

/// A fourth extension in the map axum sized for its own three grows it, once, whoever inserts
/// it (see [`a_fourth_extension_grows_axums_map_once`]).
const MAP_GROWTH: usize = 1;

#[test]
fn valid_request_allocates_at_most_twice() {
    let valid = header(format!("Bearer {}", token(Role::ProjectAdmin)));
    let served = Served::WithConnectInfo;
    let (bare, status) = served_request_allocations(&pass_through(), Some(&valid), served);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (layered, status) = served_request_allocations(&layered(verifier(0)), Some(&valid), served);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(IDENTITY_ALLOCATIONS + EXTENSION_ALLOCATIONS, 2);
    assert!(
        layered - bare <= IDENTITY_ALLOCATIONS + EXTENSION_ALLOCATIONS,
        "{layered} - {bare}"
    );
}

#[test]
fn cache_hit_request_allocates_at_most_once() {
    let valid = header(format!("Bearer {}", token(Role::ProjectAdmin)));
    let served = Served::WithConnectInfo;
    let (bare, _) = served_request_allocations(&pass_through(), Some(&valid), served);
    let (layered, status) =
        served_request_allocations(&layered(verifier(64)), Some(&valid), served);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        layered - bare <= EXTENSION_ALLOCATIONS,
        "{layered} - {bare}"
    );
}

/// A zero-sized extension, whose box allocates nothing: what inserting it costs is the map's.
#[derive(Clone, Copy)]
struct Marker;

#[test]
fn a_fourth_extension_grows_axums_map_once() {
    let valid = header(format!("Bearer {}", token(Role::ProjectAdmin)));
    let marked = Router::new()
        .route(PATH, put(import_rule).route_layer(Identity::new()))
        .layer(MapRequestLayer::new(|mut request: Request<Body>| {
            request.extensions_mut().insert(Marker);
            request
        }))
        .with_state(());
    let (bare, _) = request_allocations(&pass_through(), Some(&valid));
    let (with_marker, status) = request_allocations(&marked, Some(&valid));
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(with_marker - bare, MAP_GROWTH);

    // Straight to the router, the identity pays that growth too, and nothing more.
    let (verified, _) = request_allocations(&layered(verifier(0)), Some(&valid));
    assert!(
        verified - bare <= IDENTITY_ALLOCATIONS + EXTENSION_ALLOCATIONS + MAP_GROWTH,
        "{verified} - {bare}"
    );
    let (cached, _) = request_allocations(&layered(verifier(64)), Some(&valid));
    assert!(
        cached - bare <= EXTENSION_ALLOCATIONS + MAP_GROWTH,
        "{cached} - {bare}"
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
fn role_refusal_allocates_only_the_identity_and_the_response() {
    let exploit = header(format!("Bearer {}", token(Role::Exploit)));
    let (bare, _) = request_allocations(&pass_through(), Some(&exploit));
    let (refused, status) = request_allocations(&layered(verifier(0)), Some(&exploit));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (response, _) = count(|| AuthError::InsufficientRole.into_response_for_test());
    assert!(
        refused - bare <= IDENTITY_ALLOCATIONS + EXTENSION_ALLOCATIONS + response,
        "{refused} - {bare} > identity + extension + {response}"
    );
}

/// project1's rights as an rs-admin on 127.0.0.1 gives them: EXPLOIT granted `GET /recipients`
/// from the addresses `patterns` allow.
fn managed_access(patterns: &[&str]) -> regards_auth::managed::ManagedAccess {
    use axum::routing::{get, post};
    use regards_auth::managed::{Endpoint, Endpoints, ManagedAccess, ResourceAccess};

    let roles = serde_json::json!([{"content": {"name": "EXPLOIT", "isNative": true,
        "authorizedAddresses": patterns}}])
    .to_string();
    let grants = r#"[{"content":{"resource":"/recipients","verb":"GET"}}]"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let admin = Router::new()
            .route("/resources/microservices/{ms}", post(|| async { "" }))
            .route("/roles", get(move || async move { roles }))
            .route(
                "/roles/{role}/resources/{ms}",
                get(move || async move { grants }),
            );
        tokio::spawn(async move { axum::serve(listener, admin).await.unwrap() });
        let endpoints = Endpoints::new([Endpoint::new(
            Method::GET,
            "/recipients",
            "RecipientController",
            ResourceAccess::new("List the recipients", Role::Exploit),
        )])
        .unwrap();
        let access = ManagedAccess::builder("rs-notifier", endpoints)
            .admin_url(format!("http://{address}"))
            .system_tokens(TokenIssuer::new(Algorithm::HS512, SECRET).unwrap())
            .projects(["project1"])
            .build()
            .unwrap();
        access.refresh("project1").await.unwrap();
        access
    })
}

#[test]
fn managed_decision_with_an_address_filter_allocates_nothing() {
    use regards_auth::managed::ClientAddr;
    use tower::{Layer, Service};

    // The second pattern is among the costliest to match that a role may hold: matched as
    // one DFA, it costs the same walk as the first, and no cache.
    let access = managed_access(&[r"10\.0\.0\.\d{1,3}", r"(?:[0-9a-f.:]*){8}x"]);
    let mut service = access
        .layer()
        .layer(tower::service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(axum::response::Response::new(Body::empty()))
        }));
    let claims = verifier(0).verify(&token(Role::Exploit)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for peer in ["10.0.0.5", "10.0.0.5", "::ffff:10.0.0.7"] {
        let mut request = Request::get("/recipients").body(Body::empty()).unwrap();
        request.extensions_mut().insert(claims.clone());
        request
            .extensions_mut()
            .insert(ClientAddr(peer.parse().unwrap()));
        let (allocations, response) = count(|| service.call(request));
        assert_eq!(allocations, 0, "from {peer}");
        let response = runtime.block_on(response).unwrap();
        assert_eq!(response.status(), StatusCode::OK, "from {peer}");
    }
}
