//! [`TokenCache`]: reuse a token until shortly before it expires, refresh it with one fetch
//! however many callers wait, retry failed fetches with a bounded backoff.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::Extensions;
use tokio::sync::OnceCell;

use super::{AccessToken, ClientError, TokenSource};
use crate::BearerToken;

/// How long before its expiry a cached token is refreshed, unless set: 60 seconds.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How many times a fetch is tried before its error is reported, unless set: 3.
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// The wait before the first retry, unless set: 200 ms. It doubles at each retry.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between two tries, whatever the backoff: 10 seconds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Caches the token of a source whose token is the same for every request (a
/// [`PasswordGrant`](super::PasswordGrant), a [`SystemToken`](super::SystemToken) for one
/// tenant), and is itself a [`TokenSource`].
///
/// - A token is reused until [`refresh margin`](Self::with_refresh_margin) before its expiry
///   (or half its remaining life, if that is shorter), then fetched again.
/// - Callers that find no usable token while a fetch is under way wait for that fetch: one
///   fetch, however many callers (single flight). If the caller running the fetch is dropped,
///   a waiting caller starts it again.
/// - A fetch that fails with a [retryable](ClientError::is_retryable) error is tried again
///   after 200 ms, 400 ms... ([`with_retry`](Self::with_retry)); the last error goes to every
///   waiting caller. A later call fetches again. If the refresh fails while the previous token
///   has not expired yet, that token is given instead.
/// - No lock is held while fetching: a `std` mutex guards the cached token for a few
///   instructions; callers wait on a [`tokio::sync::OnceCell`] per fetch.
/// - [`invalidate`](TokenSource::invalidate) (called by
///   [`AttachTokenLayer`](super::AttachTokenLayer) on a `401`) drops the cached token.
///
/// The source is asked with empty request extensions. Waiting between retries needs the tokio
/// timer (any tokio runtime with time enabled).
///
/// ```no_run
/// use regards_auth::client::{ClientCredentials, PasswordGrant, TokenCache, UserCredentials};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let grant = PasswordGrant::new(
///     "http://127.0.0.1:8080",
///     "project1",
///     ClientCredentials::new("client", "secret"),
///     UserCredentials::new("admin@regards.fr", "admin"),
/// )?;
/// let cache = TokenCache::new(grant).with_refresh_margin(Duration::from_secs(120));
/// let token = cache.get().await?; // fetched
/// let again = cache.get().await?; // reused
/// assert_eq!(token, again);
/// # Ok(()) }
/// ```
pub struct TokenCache<S> {
    inner: Arc<Inner<S>>,
    settings: Settings,
}

/// Per handle: clones share the token, each keeps the settings it was given.
#[derive(Debug, Clone, Copy)]
struct Settings {
    margin: Duration,
    attempts: u32,
    backoff: Duration,
}

struct Inner<S> {
    source: S,
    state: Mutex<State>,
}

struct State {
    cached: Option<Cached>,
    /// The current (or last) fetch; a new one replaces it once it has an outcome.
    flight: Arc<OnceCell<Result<AccessToken, ClientError>>>,
}

struct Cached {
    token: AccessToken,
    refresh_at: Option<Instant>,
}

impl<S> Clone for TokenCache<S> {
    fn clone(&self) -> Self {
        TokenCache {
            inner: Arc::clone(&self.inner),
            settings: self.settings,
        }
    }
}

impl<S> fmt::Debug for TokenCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("margin", &self.settings.margin)
            .field("attempts", &self.settings.attempts)
            .field("backoff", &self.settings.backoff)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> TokenCache<S> {
    /// A cache in front of `source`, with the default margin and retries.
    pub fn new(source: S) -> Self {
        TokenCache {
            inner: Arc::new(Inner {
                source,
                state: Mutex::new(State {
                    cached: None,
                    flight: Arc::new(OnceCell::new()),
                }),
            }),
            settings: Settings {
                margin: DEFAULT_REFRESH_MARGIN,
                attempts: DEFAULT_ATTEMPTS,
                backoff: DEFAULT_BACKOFF,
            },
        }
    }

    /// Refresh a token `margin` before it expires ([`DEFAULT_REFRESH_MARGIN`] unless set).
    /// Clones share the token; each uses the settings it had when cloned.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.settings.margin = margin;
        self
    }

    /// Try a fetch up to `attempts` times (at least once), waiting `backoff` before the first
    /// retry and doubling it each time, up to [`MAX_BACKOFF`].
    pub fn with_retry(mut self, attempts: u32, backoff: Duration) -> Self {
        self.settings.attempts = attempts.max(1);
        self.settings.backoff = backoff.min(MAX_BACKOFF);
        self
    }

    /// The source behind the cache.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// A valid token: the cached one if it is not due for refresh, else a fetched one.
    pub async fn get(&self) -> Result<AccessToken, ClientError> {
        let flight = {
            let mut state = self.inner.lock();
            if let Some(cached) = &state.cached
                && cached.refresh_at.is_none_or(|at| now() < at)
            {
                return Ok(cached.token.clone());
            }
            if state.flight.initialized() {
                state.flight = Arc::new(OnceCell::new());
            }
            Arc::clone(&state.flight)
        };
        flight
            .get_or_init(|| self.inner.fetch(self.settings))
            .await
            .clone()
    }

    /// Drops the cached token: the next call fetches one.
    pub fn clear(&self) {
        self.inner.lock().cached = None;
    }
}

impl<S: TokenSource> Inner<S> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The critical sections cannot panic halfway, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(&self, settings: Settings) -> Result<AccessToken, ClientError> {
        let no_request = Extensions::new();
        let mut backoff = settings.backoff;
        let mut attempt = 1;
        let outcome = loop {
            match self.source.token(&no_request).await {
                Ok(token) => break Ok(token),
                Err(error) if error.is_retryable() && attempt < settings.attempts => {
                    tracing::warn!(%error, attempt, "token fetch failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                Err(error) => break Err(error),
            }
        };
        // Publish before the flight completes, so a caller that sees a completed flight also
        // sees its token.
        let mut state = self.lock();
        match outcome {
            Ok(token) => {
                state.cached = Some(Cached::new(token.clone(), settings.margin));
                Ok(token)
            }
            Err(error) => match &state.cached {
                Some(previous) if previous.token.fresh_at(now(), Duration::ZERO) => {
                    tracing::warn!(%error, "token refresh failed; the current token is still valid");
                    Ok(previous.token.clone())
                }
                _ => {
                    tracing::warn!(%error, "token fetch failed");
                    Err(error)
                }
            },
        }
    }
}

/// The tokio clock's now (the system's, unless a test paused the clock).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Cached {
    fn new(token: AccessToken, margin: Duration) -> Self {
        let now = now();
        // A margin longer than the token's life would refresh on every call: use at most half.
        let refresh_at = token.expires_at().map(|expires_at| {
            let life = expires_at.saturating_duration_since(now);
            expires_at.checked_sub(margin.min(life / 2)).unwrap_or(now)
        });
        Cached { token, refresh_at }
    }
}

impl<S: TokenSource> TokenSource for TokenCache<S> {
    async fn token(&self, _request: &Extensions) -> Result<AccessToken, ClientError> {
        self.get().await
    }

    fn invalidate(&self, token: &BearerToken) {
        {
            let mut state = self.inner.lock();
            if state
                .cached
                .as_ref()
                .is_some_and(|cached| cached.token.token() == token)
            {
                state.cached = None;
            }
        }
        self.inner.source.invalidate(token);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use http::StatusCode;

    use super::*;

    /// Counts its fetches; fails the first `failures` of them with a retryable error.
    struct Counting {
        fetches: AtomicU32,
        failures: u32,
        broken: std::sync::atomic::AtomicBool,
        validity: Option<Duration>,
        error: ClientError,
    }

    impl Counting {
        fn new(validity: Option<Duration>) -> Self {
            Counting {
                fetches: AtomicU32::new(0),
                failures: 0,
                broken: std::sync::atomic::AtomicBool::new(false),
                validity,
                error: ClientError::Timeout {
                    after: Duration::from_secs(1),
                },
            }
        }

        fn failing(mut self, failures: u32, error: ClientError) -> Self {
            self.failures = failures;
            self.error = error;
            self
        }

        fn fetches(&self) -> u32 {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    impl TokenSource for Counting {
        async fn token(&self, _request: &Extensions) -> Result<AccessToken, ClientError> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::task::yield_now().await;
            if n <= self.failures || self.broken.load(Ordering::SeqCst) {
                return Err(self.error.clone());
            }
            let token = BearerToken::new(&format!("token.number.{n}")).unwrap();
            Ok(match self.validity {
                Some(validity) => AccessToken::expiring_in(token, validity),
                None => AccessToken::new(token, None),
            })
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[test]
    fn token_is_reused_while_fresh() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(Some(Duration::from_secs(3600))));
            let first = cache.get().await.unwrap();
            let second = cache.get().await.unwrap();
            assert_eq!(first, second);
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn clones_share_the_token() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(None));
            let clone = cache.clone().with_retry(1, Duration::ZERO);
            assert_eq!(cache.get().await.unwrap(), clone.get().await.unwrap());
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn margin_longer_than_the_life_still_reuses_the_token() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(Some(Duration::from_secs(10))))
                .with_refresh_margin(Duration::from_secs(3600));
            cache.get().await.unwrap();
            cache.get().await.unwrap();
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn retryable_failures_are_retried_then_succeed() {
        rt().block_on(async {
            let source = Counting::new(None).failing(
                2,
                ClientError::Transport {
                    message: "refused".into(),
                },
            );
            let cache = TokenCache::new(source);
            let token = cache.get().await.unwrap();
            assert_eq!(token.token().as_str(), "token.number.3");
        });
    }

    #[test]
    fn retries_are_bounded_and_the_error_is_reported() {
        rt().block_on(async {
            let error = ClientError::Transport {
                message: "refused".into(),
            };
            let cache = TokenCache::new(Counting::new(None).failing(u32::MAX, error.clone()))
                .with_retry(4, Duration::from_millis(10));
            assert_eq!(cache.get().await.unwrap_err(), error);
            assert_eq!(cache.source().fetches(), 4);
        });
    }

    #[test]
    fn refused_credentials_are_not_retried() {
        rt().block_on(async {
            let error = ClientError::BadUserCredentials {
                status: StatusCode::BAD_REQUEST,
                body: String::new(),
            };
            let cache = TokenCache::new(Counting::new(None).failing(u32::MAX, error.clone()));
            assert_eq!(cache.get().await.unwrap_err(), error);
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn failed_fetch_is_not_cached() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(None).failing(1, ClientError::NoCallerToken));
            assert!(cache.get().await.is_err());
            assert_eq!(
                cache.get().await.unwrap().token().as_str(),
                "token.number.2"
            );
        });
    }

    #[test]
    fn concurrent_callers_share_one_fetch() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(None));
            let calls: Vec<_> = (0..50).map(|_| cache.get()).collect();
            let tokens = futures_join_all(calls).await;
            assert!(
                tokens
                    .iter()
                    .all(|t| t.as_ref().unwrap().token().as_str() == "token.number.1")
            );
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn invalidate_drops_only_the_refused_token() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(None));
            let first = cache.get().await.unwrap();
            cache.invalidate(&BearerToken::new("some.other.token").unwrap());
            assert_eq!(cache.get().await.unwrap(), first);
            cache.invalidate(first.token());
            assert_eq!(
                cache.get().await.unwrap().token().as_str(),
                "token.number.2"
            );
        });
    }

    #[test]
    fn failed_refresh_keeps_a_token_that_has_not_expired() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(Some(Duration::from_secs(100))))
                .with_refresh_margin(Duration::from_secs(50))
                .with_retry(1, Duration::ZERO);
            let first = cache.get().await.unwrap();
            cache.source().broken.store(true, Ordering::SeqCst);
            tokio::time::advance(Duration::from_secs(60)).await;
            assert_eq!(cache.get().await.unwrap(), first);
            assert_eq!(cache.source().fetches(), 2);
            tokio::time::advance(Duration::from_secs(50)).await;
            assert!(cache.get().await.is_err());
        });
    }

    /// Polls every future to completion on the current task (no extra dependency).
    async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
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
}
