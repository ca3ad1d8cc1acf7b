//! The cache's refresh when the token endpoint fails after the first login, on tokio's paused
//! clock, against token endpoints on 127.0.0.1 that count and time-stamp every request: a token
//! that is still valid is answered at once, refreshes run one at a time and are spaced by the
//! backoff, and once the token has expired callers share one fetch and get its error.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use regards_auth::client::{
    ClientCredentials, ClientError, DEFAULT_FETCH_TIMEOUT, PasswordGrant, TOKEN_PATH, TokenCache,
    UserCredentials,
};
use regards_auth::{Role, TokenIssuer};
use tokio::time::Instant;

/// The token's life, as the endpoint answers it (`expires_in`).
const LIFE: Duration = Duration::from_secs(100);

/// What the endpoint does after the first login.
#[derive(Clone, Copy)]
enum Then {
    /// Accepts the request and never answers.
    Hangs,
    /// Answers `500`.
    Fails,
}

/// When (on the paused clock, from the start of the test) each token request arrived.
type Arrivals = Arc<Mutex<Vec<Duration>>>;

/// A token endpoint that logs the first caller in for [`LIFE`], then does `then`.
async fn endpoint(start: Instant, then: Then) -> (SocketAddr, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let app = Router::new()
        .route(
            TOKEN_PATH,
            post(move |State(arrivals): State<Arrivals>| async move {
                let n = {
                    let mut arrivals = arrivals.lock().unwrap();
                    arrivals.push(start.elapsed());
                    arrivals.len()
                };
                if n == 1 {
                    return login();
                }
                match then {
                    Then::Hangs => std::future::pending().await,
                    Then::Fails => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }),
        )
        .with_state(Arc::clone(&arrivals));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, arrivals)
}

fn login() -> Response {
    let token = TokenIssuer::development().mint("admin@regards.fr", Role::ProjectAdmin, "project1");
    axum::Json(serde_json::json!({
        "access_token": token, "token_type": "bearer", "expires_in": LIFE.as_secs(),
        "role": "PROJECT_ADMIN", "scope": "project1", "sub": "admin@regards.fr",
        "tenant": "project1", "email": "admin@regards.fr"
    }))
    .into_response()
}

/// A cache with the default settings in front of a password grant with the default timeout.
fn cache(addr: SocketAddr) -> TokenCache<PasswordGrant> {
    TokenCache::new(
        PasswordGrant::new(
            &format!("http://{addr}"),
            "project1",
            ClientCredentials::new("client", "secret"),
            UserCredentials::new("admin@regards.fr", "admin"),
        )
        .unwrap(),
    )
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn arrivals(arrivals: &Arrivals) -> Vec<Duration> {
    arrivals.lock().unwrap().clone()
}

#[tokio::test(start_paused = true)]
async fn valid_token_is_answered_at_once_while_the_endpoint_stops_answering() {
    let start = Instant::now();
    let (addr, requests) = endpoint(start, Then::Hangs).await;
    let cache = cache(addr);
    let first = cache.get().await.unwrap();

    // 55 s into a 100 s token: due for refresh (at 50 s), still valid for 45 s.
    tokio::time::sleep_until(start + Duration::from_secs(55)).await;
    let asked = Instant::now();
    let (a, b) = tokio::join!(cache.get(), cache.get());
    assert_eq!((a.unwrap(), b.unwrap()), (first.clone(), first.clone()));
    assert_eq!(Instant::now(), asked, "the callers waited");

    // A caller every second while the refresh times out three times (10 s each, 200 ms and
    // 400 ms between tries) and during the backoff after it (800 ms).
    for second in 56..=86 {
        tokio::time::sleep_until(start + Duration::from_secs(second)).await;
        let asked = Instant::now();
        assert_eq!(cache.get().await.unwrap(), first, "at {second} s");
        assert_eq!(Instant::now(), asked, "the caller at {second} s waited");
    }
    let timeout = DEFAULT_FETCH_TIMEOUT;
    let first_refresh = [
        ms(55_000),
        ms(55_000) + timeout + ms(200),
        ms(55_000) + 2 * timeout + ms(600),
    ];
    assert_eq!(arrivals(&requests), [&[ms(0)][..], &first_refresh].concat());

    // The backoff is over at 85.6 + 0.8 s: the next caller starts one new refresh.
    tokio::time::sleep_until(start + Duration::from_secs(87)).await;
    assert_eq!(cache.get().await.unwrap(), first);

    // Past the token's expiry, callers wait for the refresh under way and get its error.
    tokio::time::sleep_until(start + LIFE + Duration::from_secs(1)).await;
    let (a, b) = tokio::join!(cache.get(), cache.get());
    assert_eq!(a.unwrap_err(), ClientError::Timeout { after: timeout });
    assert_eq!(b.unwrap_err(), ClientError::Timeout { after: timeout });
    let second_refresh = [
        ms(87_000),
        ms(87_000) + timeout + ms(200),
        ms(87_000) + 2 * timeout + ms(600),
    ];
    assert_eq!(
        arrivals(&requests),
        [&[ms(0)][..], &first_refresh, &second_refresh].concat()
    );
    assert_eq!(start.elapsed(), ms(87_000) + 3 * timeout + ms(600));
}

#[tokio::test(start_paused = true)]
async fn failed_refreshes_are_spaced_by_a_growing_backoff() {
    let start = Instant::now();
    let (addr, requests) = endpoint(start, Then::Fails).await;
    let cache = cache(addr);
    let first = cache.get().await.unwrap();

    // From 55 s to 60 s, a caller every 100 ms: each gets the valid token at once.
    for tenth in 550..=600 {
        tokio::time::sleep_until(start + ms(tenth * 100)).await;
        let asked = Instant::now();
        assert_eq!(cache.get().await.unwrap(), first, "at {tenth}00 ms");
        assert_eq!(Instant::now(), asked, "the caller at {tenth}00 ms waited");
    }
    // Three tries per refresh, 200 ms then 400 ms apart; 800 ms, then 1.6 s, before the next
    // refresh.
    let refreshes = [
        [55_000, 55_200, 55_600],
        [56_400, 56_600, 57_000],
        [58_600, 58_800, 59_200],
    ];
    let expected: Vec<Duration> = std::iter::once(0)
        .chain(refreshes.into_iter().flatten())
        .map(ms)
        .collect();
    assert_eq!(arrivals(&requests), expected);

    // Once the token has expired, twenty callers share one fetch (three tries) and its error.
    tokio::time::sleep_until(start + LIFE).await;
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get().await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    }
    assert_eq!(arrivals(&requests).len(), expected.len() + 3);
    assert_eq!(start.elapsed(), LIFE + ms(600));
}
