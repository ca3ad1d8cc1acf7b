//! The client against the real demo token endpoint (`examples/regards_demo/`) on 127.0.0.1:
//! a login, refused client and user credentials, reuse, refresh in the background before
//! expiry, a single fetch under 50 concurrent callers (counted at the server), recovery after
//! the server was down, and the `call_notifier` example end to end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use http::StatusCode;
use regards_auth::client::{
    ClientCredentials, ClientErrorKind, PasswordGrant, TOKEN_PATH, TokenCache, UserCredentials,
};
use regards_auth::{REGARDS_DEVELOPMENT_KEY, Role, Verifier};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Barrier;

#[allow(dead_code)]
#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;

#[allow(dead_code)]
#[path = "../examples/call_notifier.rs"]
mod call_notifier;

use regards_demo::DemoConfig;

/// The demo app, wrapped so that the test counts (and, if asked, delays) token requests.
fn counted_demo(config: DemoConfig, delay: Duration) -> (Router, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let app = regards_demo::app(config).layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let counter = Arc::clone(&counter);
            async move {
                if request.uri().path() == TOKEN_PATH {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                }
                next.run(request).await
            }
        },
    ));
    (app, fetches)
}

async fn serve_on(listener: TcpListener, app: Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

async fn serve(mut config: DemoConfig, delay: Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The demo's services reach its rs-admin at the address it listens on.
    config.addr = addr;
    let (app, fetches) = counted_demo(config, delay);
    serve_on(listener, app).await;
    (addr, fetches)
}

fn grant_with(addr: SocketAddr, secret: &str, password: &str) -> PasswordGrant {
    PasswordGrant::new(
        &format!("http://{addr}"),
        "project1",
        ClientCredentials::new("client", secret),
        UserCredentials::new("admin@regards.fr", password),
    )
    .unwrap()
}

fn grant(addr: SocketAddr) -> PasswordGrant {
    grant_with(addr, "secret", "admin")
}

#[tokio::test]
async fn password_grant_gets_a_demo_token() {
    let (addr, _) = serve(DemoConfig::development(), Duration::ZERO).await;
    let answer = grant(addr).fetch().await.unwrap();
    assert_eq!(answer.token_type, "bearer");
    assert_eq!(answer.expires_in, 7200);
    assert_eq!(answer.role, Role::ProjectAdmin);
    assert_eq!(
        (answer.scope.as_str(), answer.tenant.as_str()),
        ("project1", "project1")
    );
    assert_eq!(
        (answer.sub.as_str(), answer.email.as_str()),
        ("admin@regards.fr", "admin@regards.fr")
    );
    let verifier = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let claims = verifier.verify(answer.access_token.as_str()).unwrap();
    assert_eq!(
        (claims.role(), claims.tenant()),
        (&Role::ProjectAdmin, "project1")
    );
}

#[tokio::test]
async fn wrong_client_secret_is_bad_client_credentials() {
    let (addr, fetches) = serve(DemoConfig::development(), Duration::ZERO).await;
    let cache = TokenCache::new(grant_with(addr, "not-the-secret", "admin"));
    let error = cache.get().await.unwrap_err();
    assert_eq!(
        error.kind(),
        ClientErrorKind::BadClientCredentials,
        "{error:?}"
    );
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!error.to_string().contains("not-the-secret"));
    // Not retried: it cannot get better by itself.
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn wrong_password_is_bad_user_credentials() {
    let (addr, _) = serve(DemoConfig::development(), Duration::ZERO).await;
    let error = grant_with(addr, "secret", "wrong-password")
        .fetch()
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ClientErrorKind::BadUserCredentials,
        "{error:?}"
    );
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert!(!format!("{error} {error:?}").contains("wrong-password"));
}

#[tokio::test]
async fn token_is_reused_while_valid() {
    let (addr, fetches) = serve(DemoConfig::development(), Duration::ZERO).await;
    let cache = TokenCache::new(grant(addr));
    let first = cache.get().await.unwrap();
    for _ in 0..10 {
        assert_eq!(cache.get().await.unwrap(), first);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_is_refreshed_in_the_background_before_expiry() {
    let mut config = DemoConfig::development();
    config.issuer = config.issuer.with_validity(Duration::from_secs(2));
    let (addr, fetches) = serve(config, Duration::ZERO).await;
    // A margin longer than the life: refreshed at half-life, after 1 s.
    let cache = TokenCache::new(grant(addr)).with_refresh_margin(Duration::from_secs(60));
    let first = cache.get().await.unwrap();
    cache.get().await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Due but still valid: answered at once, while the refresh runs in the background.
    assert_eq!(cache.get().await.unwrap(), first);
    let mut second = first.clone();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        second = cache.get().await.unwrap();
        if second != first {
            break;
        }
    }
    assert_ne!(second, first, "the refresh did not land within a second");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    assert!(second.expires_at() > first.expires_at());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_share_one_fetch() {
    // The endpoint takes 200 ms, so every caller arrives while the fetch is under way.
    let (addr, fetches) = serve(DemoConfig::development(), Duration::from_millis(200)).await;
    let cache = TokenCache::new(grant(addr));
    let barrier = Arc::new(Barrier::new(50));
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                cache.get().await
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(caller.await.unwrap().unwrap());
    }
    let fetch_count = fetches.load(Ordering::SeqCst);
    println!("single flight: 50 callers, {fetch_count} fetch(es) counted at the server");
    assert_eq!(fetch_count, 1);
    assert!(tokens.iter().all(|token| token == &tokens[0]));
}

#[tokio::test]
async fn recovers_after_the_server_was_down() {
    // The port is reserved (bound) up front, but nothing listens yet: connections are refused.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let cache = TokenCache::new(grant(addr)).with_retry(2, Duration::from_millis(20));
    let error = cache.get().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::Transport, "{error:?}");

    let mut config = DemoConfig::development();
    config.addr = addr;
    let (app, fetches) = counted_demo(config, Duration::ZERO);
    serve_on(socket.listen(64).unwrap(), app).await;
    let token = cache.get().await.unwrap();
    assert!(!token.token().as_str().is_empty());
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn call_notifier_example_puts_a_rule() {
    let (addr, fetches) = serve(DemoConfig::development(), Duration::ZERO).await;
    let (status, body) = call_notifier::put_rule(&format!("http://{addr}"))
        .await
        .unwrap();
    assert!(status.is_success(), "{status} {body}");
    let rule: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rule["name"], "r1");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}
