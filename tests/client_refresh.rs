//! The cache's refresh when the token endpoint fails after the first login, on tokio's paused
//! clock, against token endpoints on 127.0.0.1 that count and time-stamp every request: a token
//! that is still valid is answered at once, refreshes run one at a time and are spaced by the
//! jittered backoff, once the token has expired callers share one fetch and get its error, and
//! services that fail together do not retry together.

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

/// Whether `wait` lies between half of `step` and all of it, as a jittered wait does.
fn jittered(wait: Duration, step: Duration) -> bool {
    wait >= step / 2 && wait <= step
}

/// Checks a refresh's tries, which started at `arrivals[0]`: each answered after `answer`
/// (`ZERO` for an immediate 500, the fetch timeout for an endpoint that hangs), then retried
/// after a jittered 200 ms, then 400 ms. Returns when the last try ended.
#[track_caller]
fn check_tries(arrivals: &[Duration], answer: Duration) -> Duration {
    assert_eq!(arrivals.len(), 3, "{arrivals:?}");
    for (pair, step) in arrivals.windows(2).zip([ms(200), ms(400)]) {
        let wait = pair[1] - pair[0] - answer;
        assert!(
            jittered(wait, step),
            "{wait:?} after a step of {step:?}: {arrivals:?}"
        );
    }
    arrivals[2] + answer
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

    // A caller every second while the refresh times out three times (10 s each, about 200 ms
    // and 400 ms between tries: it fails between 85.3 s and 85.6 s).
    for second in 56..=85 {
        tokio::time::sleep_until(start + Duration::from_secs(second)).await;
        let asked = Instant::now();
        assert_eq!(cache.get().await.unwrap(), first, "at {second} s");
        assert_eq!(Instant::now(), asked, "the caller at {second} s waited");
    }
    let timeout = DEFAULT_FETCH_TIMEOUT;
    let seen = arrivals(&requests);
    assert_eq!(seen[..2], [ms(0), ms(55_000)]);
    let failed_at = check_tries(&seen[1..], timeout);
    assert!(failed_at < ms(86_000), "{seen:?}");

    // The backoff (at most 800 ms after 85.6 s) is over: the next caller starts one refresh.
    assert_eq!(arrivals(&requests).len(), 4);
    tokio::time::sleep_until(start + Duration::from_secs(87)).await;
    assert_eq!(cache.get().await.unwrap(), first);

    // Past the token's expiry, callers wait for the refresh under way and get its error.
    tokio::time::sleep_until(start + LIFE + Duration::from_secs(1)).await;
    let (a, b) = tokio::join!(cache.get(), cache.get());
    assert_eq!(a.unwrap_err(), ClientError::timed_out(timeout));
    assert_eq!(b.unwrap_err(), ClientError::timed_out(timeout));
    let seen = arrivals(&requests);
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen[4], ms(87_000));
    let failed_at = check_tries(&seen[4..], timeout);
    assert_eq!(start.elapsed(), failed_at);
}

#[tokio::test(start_paused = true)]
async fn failed_refreshes_are_spaced_by_a_growing_jittered_backoff() {
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
    // Three tries per refresh, about 200 ms then 400 ms apart; then a backoff of a step of
    // 800 ms, then 1.6 s, 3.2 s, before the next refresh, which the first caller after it
    // starts (callers come every 100 ms).
    let seen = arrivals(&requests);
    assert_eq!(seen[..2], [ms(0), ms(55_000)]);
    let refreshes: Vec<&[Duration]> = seen[1..].chunks(3).collect();
    assert!(refreshes.len() >= 3, "{seen:?}");
    let mut failed_at = check_tries(refreshes[0], Duration::ZERO);
    for (refresh, step) in refreshes[1..].iter().zip([ms(800), ms(1_600), ms(3_200)]) {
        let backoff = refresh[0] - failed_at;
        assert!(
            backoff >= step / 2 && backoff <= step + ms(100),
            "a backoff of {backoff:?} after a step of {step:?}: {seen:?}"
        );
        if refresh.len() == 3 {
            failed_at = check_tries(refresh, Duration::ZERO);
        }
    }

    // Once the token has expired, twenty callers share one fetch (three tries) and its error.
    tokio::time::sleep_until(start + LIFE).await;
    let before = arrivals(&requests).len();
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
    let seen = arrivals(&requests);
    assert_eq!(seen.len(), before + 3, "{seen:?}");
    assert_eq!(seen[before], LIFE);
    assert_eq!(
        start.elapsed(),
        check_tries(&seen[before..], Duration::ZERO)
    );
}

/// A token endpoint that refuses every login with a `500` and records, per user, when each
/// request arrived.
async fn failing_endpoint(start: Instant) -> (SocketAddr, Arc<Mutex<Vec<(String, Duration)>>>) {
    let arrivals: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
    let recorded = Arc::clone(&arrivals);
    let app = Router::new().route(
        TOKEN_PATH,
        post(move |uri: axum::http::Uri| async move {
            let user = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .find(|(name, _)| name == "username")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            recorded.lock().unwrap().push((user, start.elapsed()));
            StatusCode::INTERNAL_SERVER_ERROR
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, arrivals)
}

#[tokio::test(start_paused = true)]
async fn services_failing_together_do_not_retry_in_lockstep() {
    // Eight services restarted together log in at the same instant and find rs-authentication
    // failing: their retries spread over the jitter instead of arriving together.
    let start = Instant::now();
    let (addr, arrivals) = failing_endpoint(start).await;
    let services: Vec<TokenCache<PasswordGrant>> = (0..8)
        .map(|n| {
            TokenCache::new(
                PasswordGrant::new(
                    &format!("http://{addr}"),
                    "project1",
                    ClientCredentials::new("client", "secret"),
                    UserCredentials::new(format!("service{n}@regards.fr"), "secret"),
                )
                .unwrap(),
            )
        })
        .collect();
    let logins = services
        .iter()
        .map(|cache| async move { cache.get().await });
    for outcome in futures_join(logins).await {
        assert_eq!(
            outcome.unwrap_err().status(),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
    }
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 8 * 3, "{arrivals:?}");
    let mut first_retries = Vec::new();
    for n in 0..8 {
        let user = format!("service{n}@regards.fr");
        let tries: Vec<Duration> = arrivals
            .iter()
            .filter(|(who, _)| *who == user)
            .map(|(_, at)| *at)
            .collect();
        assert_eq!(tries[0], Duration::ZERO, "{user}: {tries:?}");
        check_tries(&tries, Duration::ZERO);
        first_retries.push(tries[1]);
    }
    first_retries.sort();
    first_retries.dedup();
    assert!(
        first_retries.len() > 1,
        "every service retried at the same instant: {first_retries:?}"
    );
}

/// Runs the futures to completion on the current task.
async fn futures_join<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
