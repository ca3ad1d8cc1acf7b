//! The client against test-only token endpoints and services on 127.0.0.1: what it sends, and
//! how it copes with garbage, slow answers, wrong types, server errors and refused tokens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use regards_auth::client::{
    AttachTokenLayer, ClientCredentials, ClientError, ClientErrorKind, HttpTransport,
    PasswordGrant, SystemToken, TOKEN_PATH, TokenCache, UserCredentials,
};
use regards_auth::{BearerAuthLayer, Claims, REGARDS_DEVELOPMENT_KEY, TokenIssuer, Verifier};
use tower::{Service, ServiceBuilder, ServiceExt};

const PASSWORD: &str = "p@ss w&rd=+%é";

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn grant(addr: SocketAddr) -> PasswordGrant {
    PasswordGrant::new(
        &format!("http://{addr}"),
        "project1",
        ClientCredentials::new("client", "secret"),
        UserCredentials::new("admin@regards.fr", PASSWORD),
    )
    .unwrap()
}

fn good_answer(token: &str) -> serde_json::Value {
    serde_json::json!({
        "access_token": token, "token_type": "bearer", "expires_in": 7199, "role": "PROJECT_ADMIN",
        "scope": "project1", "sub": "admin@regards.fr", "tenant": "project1",
        "email": "admin@regards.fr"
    })
}

/// A token endpoint that answers `answer` and counts its calls.
async fn endpoint(answer: fn(usize) -> Response) -> (SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            TOKEN_PATH,
            post(move |State(calls): State<Arc<AtomicUsize>>| async move {
                answer(calls.fetch_add(1, Ordering::SeqCst) + 1)
            }),
        )
        .with_state(Arc::clone(&calls));
    (serve(app).await, calls)
}

fn json(value: serde_json::Value) -> Response {
    axum::Json(value).into_response()
}

#[tokio::test]
async fn request_is_the_seed_request() {
    type Seen = Arc<std::sync::Mutex<Option<(Method, Vec<(String, String)>, HeaderMap, Bytes)>>>;
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            TOKEN_PATH,
            post(
                |State(seen): State<Seen>,
                 method: Method,
                 Query(query): Query<Vec<(String, String)>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    *seen.lock().unwrap() = Some((method, query, headers, body));
                    json(good_answer("eyJhbGciOiJIUzUxMiJ9.e30.c2ln"))
                },
            ),
        )
        .with_state(Arc::clone(&seen));
    let addr = serve(app).await;
    let answer = grant(addr).fetch().await.unwrap();
    assert_eq!(answer.tenant, "project1");
    let (method, query, headers, body) = seen.lock().unwrap().take().unwrap();
    assert_eq!(method, Method::POST);
    let expected = [
        ("grant_type", "password"),
        ("scope", "project1"),
        ("username", "admin@regards.fr"),
        ("password", PASSWORD),
    ];
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(query, expected);
    assert_eq!(headers["authorization"], "Basic Y2xpZW50OnNlY3JldA==");
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
    assert_eq!(headers["accept"], "application/json");
    assert!(body.is_empty());
}

#[tokio::test]
async fn garbage_answer_is_an_unexpected_response_and_not_retried() {
    let (addr, calls) =
        endpoint(|_| (StatusCode::OK, "<html>gateway page</html>").into_response()).await;
    let cache = TokenCache::new(grant(addr));
    let error = cache.get().await.unwrap_err();
    assert_eq!(
        error.kind(),
        ClientErrorKind::UnexpectedResponse,
        "{error:?}"
    );
    assert_eq!(error.status(), Some(StatusCode::OK));
    assert_eq!(error.reason(), Some("the body is not a JSON object"));
    assert!(error.excerpt().contains("gateway page"), "{error:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn wrong_types_are_an_unexpected_response() {
    let (addr, _) = endpoint(|_| {
        let mut answer = good_answer("a.b.c");
        answer["expires_in"] = "7199".into();
        json(answer)
    })
    .await;
    let error = grant(addr).fetch().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::UnexpectedResponse);
    assert_eq!(
        error.reason(),
        Some("`expires_in` is missing or not a non-negative integer")
    );
}

#[tokio::test]
async fn token_of_the_wrong_type_is_an_unexpected_response() {
    let (addr, _) = endpoint(|_| {
        let mut answer = good_answer("a.b.c");
        answer["access_token"] = serde_json::json!({"value": "a.b.c"});
        json(answer)
    })
    .await;
    let error = grant(addr).fetch().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::UnexpectedResponse);
    assert_eq!(
        error.reason(),
        Some("`access_token` is missing or not a non-empty string")
    );
}

#[tokio::test]
async fn slow_endpoint_times_out() {
    let app = Router::new().route(
        TOKEN_PATH,
        post(|| async {
            // Bounded: the client gives up long before.
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(good_answer("a.b.c"))
        }),
    );
    let addr = serve(app).await;
    let timeout = Duration::from_millis(200);
    let error = grant(addr).with_timeout(timeout).fetch().await.unwrap_err();
    assert_eq!(error, ClientError::timed_out(timeout));
    assert_eq!(error.timeout(), Some(timeout));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn oversized_answer_is_refused() {
    let (addr, _) = endpoint(|_| (StatusCode::OK, vec![b' '; 100 * 1024]).into_response()).await;
    let error = grant(addr).fetch().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::UnexpectedResponse);
    assert_eq!(error.reason(), Some("the body is larger than 64 KiB"));
}

#[tokio::test]
async fn server_errors_are_retried_until_a_token_comes() {
    let (addr, calls) = endpoint(|n| {
        if n < 3 {
            (StatusCode::SERVICE_UNAVAILABLE, "warming up").into_response()
        } else {
            json(good_answer("eyJhbGciOiJIUzUxMiJ9.e30.c2ln"))
        }
    })
    .await;
    let cache = TokenCache::new(grant(addr)).with_retry(3, Duration::from_millis(10));
    let token = cache.get().await.unwrap();
    assert_eq!(token.token().as_str(), "eyJhbGciOiJIUzUxMiJ9.e30.c2ln");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn echoed_url_does_not_leak_the_password() {
    let app = Router::new()
        .fallback(|uri: Uri| async move { (StatusCode::NOT_FOUND, format!("no route for {uri}")) });
    let addr = serve(app).await;
    let error = grant(addr).fetch().await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains("p%40ss") && !text.contains("p@ss"), "{text}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bound and dropped: nothing listens there any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cache = TokenCache::new(grant(addr)).with_retry(2, Duration::from_millis(10));
    let error = cache.get().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::Transport, "{error:?}");
    assert!(!error.to_string().contains("p@ss"));
}

/// A service guarded by the crate's own `BearerAuthLayer` that refuses the first token it is
/// shown (as if it had been revoked), and the token endpoint minting tokens for it.
async fn guarded_service() -> (SocketAddr, Arc<AtomicUsize>) {
    let issuer = TokenIssuer::development();
    let verifier = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let first_token: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let guarded = Router::new()
        .route(
            "/api/v1/rs-admin/users/myuser",
            get(move |claims: Claims, headers: HeaderMap| {
                let first_token = Arc::clone(&first_token);
                async move {
                    let token = headers["authorization"].to_str().unwrap().to_owned();
                    let mut first = first_token.lock().unwrap();
                    if first.get_or_insert_with(|| token.clone()) == &token {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    claims.sub().to_owned().into_response()
                }
            }),
        )
        .layer(BearerAuthLayer::new(verifier));
    let counter = Arc::clone(&fetches);
    let app = guarded.route(
        TOKEN_PATH,
        post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            // A different `sub` per fetch gives a different token.
            let login = format!("admin{n}@regards.fr");
            let token = issuer.mint(&login, regards_auth::Role::ProjectAdmin, "project1");
            async move { json(good_answer(&token)) }
        }),
    );
    (serve(app).await, fetches)
}

async fn get_text<S>(client: &mut S, url: String) -> (StatusCode, String)
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<hyper::body::Incoming>>,
    S::Error: std::fmt::Debug,
{
    let request = http::Request::get(url).body(Full::default()).unwrap();
    let response = client.ready().await.unwrap().call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn refused_token_is_dropped_and_the_next_call_fetches_a_new_one() {
    let (addr, fetches) = guarded_service().await;
    let mut client = ServiceBuilder::new()
        .layer(AttachTokenLayer::new(TokenCache::new(grant(addr))))
        .service(HttpTransport::new());
    let url = format!("http://{addr}/api/v1/rs-admin/users/myuser");
    let (status, _) = get_text(&mut client, url.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = get_text(&mut client, url.clone()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "admin1@regards.fr")
    );
    let (status, _) = get_text(&mut client, url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn system_token_passes_a_regards_guard() {
    let verifier = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/whoami",
            get(|claims: Claims| async move {
                format!("{} {} {}", claims.sub(), claims.role(), claims.tenant())
            }),
        )
        .layer(BearerAuthLayer::new(verifier));
    let addr = serve(app).await;
    let mut client = ServiceBuilder::new()
        .layer(AttachTokenLayer::new(SystemToken::new(
            TokenIssuer::development(),
            "rs-notifier",
            "project1",
        )))
        .service(HttpTransport::new());
    let (status, body) = get_text(&mut client, format!("http://{addr}/whoami")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "rs-notifier ROLE_SYS_rs-notifier project1");
}
