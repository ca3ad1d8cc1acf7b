//! [`TokenCache`]: reuse a token until shortly before it expires, then refresh it in the
//! background while callers keep getting it; one fetch at a time however many callers ask;
//! bounded retries, and a growing, jittered backoff between failed refreshes.

use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use http::Extensions;
use tokio::sync::Notify;

use super::time::now;
use super::{AccessToken, ClientError, TokenSource};
use crate::BearerToken;
use crate::jitter;

/// How long before its expiry a cached token is refreshed, unless set: 60 seconds.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How many times a fetch is tried before its error is reported, unless set: 3.
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// The step of the wait before the first retry, unless set: 200 ms. It doubles at each retry;
/// each wait is drawn between half of its step and all of it.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);
/// The longest step between two tries, or between two failed refreshes: 10 seconds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Caches the token of a source whose token is the same for every request (a
/// [`PasswordGrant`](super::PasswordGrant), a [`SystemToken`](super::SystemToken) for one
/// tenant), and is itself a [`TokenSource`].
///
/// - A token is reused as is until [refresh margin](Self::with_refresh_margin) before its
///   expiry (or half its remaining life, if that is shorter); from then on it is *due*.
/// - A caller that finds a due token that has not expired gets it at once, without waiting.
///   If no fetch is under way and no backoff is running, it also starts a refresh, which runs
///   in the background (a task on the current tokio runtime).
/// - A caller that finds no token, or an expired one, waits for a fetch: the one under way (a
///   background refresh included), else a new one. However many callers wait, there is one
///   fetch at a time (single flight), and each gets its token or its error.
/// - A fetch tries the source up to [`with_retry`](Self::with_retry) times: a
///   [retryable](ClientError::is_retryable) error is tried again after a step of 200 ms, then
///   400 ms... (doubling, at most [`MAX_BACKOFF`]).
/// - After a fetch fails, no refresh starts before a backoff whose step goes on doubling from
///   the last step between its tries (with the defaults: 800 ms, then 1.6 s, 3.2 s, 6.4 s,
///   then 10 s), so a failing endpoint is asked once per backoff, not once per call; a success
///   resets it. Meanwhile callers get the token that is still valid. Callers with no valid
///   token do not wait for the backoff: they start a fetch (one at a time, as above).
/// - Every wait is jittered: drawn between half of its step and all of it, so that services
///   that failed together (restarted together, say) do not ask the token endpoint again in
///   lockstep.
/// - A fetch runs to its end even if every caller waiting for it is dropped (it runs on its own
///   task, which keeps the source until then), and its token is cached. Outside a tokio
///   runtime there is no task: the caller that starts a fetch runs it and waits for it (for a
///   refresh, it gets the token it had if the refresh fails); if that caller is dropped, the
///   next caller starts a new fetch.
/// - No lock is held across an `.await`: a `std` mutex guards the cache's state for a few
///   instructions; callers wait for a fetch's outcome on a [`tokio::sync::Notify`] of its own.
/// - [`invalidate`](TokenSource::invalidate) (called by
///   [`AttachTokenLayer`](super::AttachTokenLayer) on a `401`) drops the cached token.
/// - Logs: a warning when fetches start failing, at debug level each further failure, at info
///   level the first success after failures. Errors never quote a secret (see
///   [`ClientError`]).
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

impl Settings {
    /// The step of the wait after `failures` failed fetches in a row before the next refresh:
    /// the doubling of the retries goes on from where they stopped.
    fn backoff_after(self, failures: u32) -> Duration {
        let doublings = (self.attempts - 1).saturating_add(failures.saturating_sub(1));
        let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

struct Inner<S> {
    source: S,
    state: Mutex<State>,
}

/// One fetch, run by a task (or, outside a tokio runtime, by the caller that started it);
/// callers wait for its outcome.
#[derive(Default)]
struct Flight {
    outcome: OnceLock<Result<AccessToken, ClientError>>,
    /// Set if the fetch was dropped before its end (its runner was cancelled).
    abandoned: AtomicBool,
    /// Wakes the waiters once there is an outcome or the fetch was abandoned.
    done: Notify,
}

struct State {
    cached: Option<Cached>,
    /// The fetch under way, if any; the fetch removes itself when it has an outcome.
    flight: Option<Arc<Flight>>,
    /// After a failed fetch: no refresh starts before then.
    next_refresh: Option<Instant>,
    /// Fetches failed in a row since the last success.
    failures: u32,
}

struct Cached {
    token: AccessToken,
    refresh_at: Option<Instant>,
}

/// What a caller does, decided under the lock.
enum Plan {
    /// Answer the cached token; if this caller started a refresh, drive it.
    Cached {
        token: AccessToken,
        refresh: Option<Arc<Flight>>,
    },
    /// Wait for this fetch (and drive it, if this caller started it).
    Wait { flight: Arc<Flight>, started: bool },
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
                    flight: None,
                    next_refresh: None,
                    failures: 0,
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

    /// Try a fetch up to `attempts` times (at least once), waiting a step of `backoff` before
    /// the first retry and doubling it each time, up to [`MAX_BACKOFF`]; each wait is drawn
    /// between half of its step and all of it. After a failed fetch, the next refresh waits for
    /// the next step of that doubling (see the type's docs).
    pub fn with_retry(mut self, attempts: u32, backoff: Duration) -> Self {
        self.settings.attempts = attempts.max(1);
        self.settings.backoff = backoff.min(MAX_BACKOFF);
        self
    }

    /// The source behind the cache.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// Drops the cached token: the next call fetches one.
    pub fn clear(&self) {
        self.inner.lock().cached = None;
    }
}

impl<S: TokenSource + 'static> TokenCache<S> {
    /// A valid token: the cached one if it has not expired (a due one starts a background
    /// refresh), else a fetched one.
    ///
    /// # Errors
    ///
    /// With no valid token cached, the [`ClientError`] of the fetch this call waited for, once
    /// its retries are spent.
    pub async fn get(&self) -> Result<AccessToken, ClientError> {
        loop {
            let (flight, started, valid) = match self.inner.lock().plan(now()) {
                Plan::Cached {
                    token,
                    refresh: None,
                } => return Ok(token),
                Plan::Cached {
                    token,
                    refresh: Some(flight),
                } => (flight, true, Some(token)),
                Plan::Wait { flight, started } => (flight, started, None),
            };
            if started && !self.spawn(&flight) {
                // No runtime to run the fetch on: this caller runs it.
                let outcome = self.inner.fly(self.settings, &flight).await;
                return match (outcome, valid) {
                    (Err(_), Some(token)) => Ok(token),
                    (outcome, _) => outcome,
                };
            }
            if let Some(token) = valid {
                return Ok(token);
            }
            if let Some(outcome) = flight.wait().await {
                return outcome;
            }
            // The caller that ran the fetch was dropped before its end: look again.
        }
    }

    /// Runs `flight` on a task of the current tokio runtime, if there is one.
    fn spawn(&self, flight: &Arc<Flight>) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let inner = Arc::clone(&self.inner);
        let flight = Arc::clone(flight);
        let settings = self.settings;
        runtime.spawn(async move {
            // The outcome is published (and an error logged) by `fly`: nothing else to do.
            let _ = inner.fly(settings, &flight).await;
        });
        true
    }
}

impl State {
    fn plan(&mut self, now: Instant) -> Plan {
        if let Some(cached) = &self.cached
            && cached.token.fresh_at(now, Duration::ZERO)
        {
            let token = cached.token.clone();
            let due = cached.refresh_at.is_some_and(|at| now >= at);
            let backing_off = self.next_refresh.is_some_and(|at| now < at);
            let refresh = if due && self.flight.is_none() && !backing_off {
                let flight = Arc::new(Flight::default());
                self.flight = Some(Arc::clone(&flight));
                Some(flight)
            } else {
                None
            };
            return Plan::Cached { token, refresh };
        }
        match &self.flight {
            Some(flight) => Plan::Wait {
                flight: Arc::clone(flight),
                started: false,
            },
            None => {
                let flight = Arc::new(Flight::default());
                self.flight = Some(Arc::clone(&flight));
                Plan::Wait {
                    flight,
                    started: true,
                }
            }
        }
    }

    /// Forgets `flight` if it is the one under way.
    fn land(&mut self, flight: &Arc<Flight>) {
        if self
            .flight
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, flight))
        {
            self.flight = None;
        }
    }
}

impl Flight {
    /// The outcome, once there is one; `None` if the fetch was abandoned.
    async fn wait(&self) -> Option<Result<AccessToken, ClientError>> {
        loop {
            let mut done = pin!(self.done.notified());
            // Registered before looking, so a notification between the look and the wait is
            // not missed.
            done.as_mut().enable();
            if let Some(outcome) = self.outcome.get() {
                return Some(outcome.clone());
            }
            if self.abandoned.load(Ordering::Acquire) {
                return None;
            }
            done.await;
        }
    }
}

/// Abandons a flight whose fetch is dropped before its end, so that its waiters look again.
struct Abandon<'a, S: TokenSource> {
    inner: &'a Inner<S>,
    flight: &'a Arc<Flight>,
}

impl<S: TokenSource> Drop for Abandon<'_, S> {
    fn drop(&mut self) {
        self.inner.lock().land(self.flight);
        self.flight.abandoned.store(true, Ordering::Release);
        self.flight.done.notify_waiters();
    }
}

impl<S: TokenSource> Inner<S> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The critical sections cannot panic halfway, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `flight`'s fetch and publishes its outcome.
    async fn fly(
        &self,
        settings: Settings,
        flight: &Arc<Flight>,
    ) -> Result<AccessToken, ClientError> {
        let abandon = Abandon {
            inner: self,
            flight,
        };
        let outcome = self.fetch(settings).await;
        std::mem::forget(abandon);
        {
            // Published before the flight is done, so a caller that no longer finds the
            // flight finds its outcome.
            let mut state = self.lock();
            state.land(flight);
            state.record(&outcome, settings, now());
            let _ = flight.outcome.set(outcome.clone());
        }
        flight.done.notify_waiters();
        outcome
    }

    /// Asks the source, retrying retryable errors.
    async fn fetch(&self, settings: Settings) -> Result<AccessToken, ClientError> {
        let no_request = Extensions::new();
        let mut backoff = settings.backoff;
        let mut attempt = 1;
        loop {
            match self.source.token(&no_request).await {
                Ok(token) => return Ok(token),
                Err(error) if error.is_retryable() && attempt < settings.attempts => {
                    tracing::debug!(%error, attempt, "token fetch failed; retrying");
                    tokio::time::sleep(jitter::equal(backoff)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl State {
    /// Caches a fetched token, or counts a failure and sets the backoff before the next
    /// refresh. Logs once when fetches start failing and once when they succeed again.
    fn record(
        &mut self,
        outcome: &Result<AccessToken, ClientError>,
        settings: Settings,
        now: Instant,
    ) {
        match outcome {
            Ok(token) => {
                if self.failures > 0 {
                    tracing::info!(failures = self.failures, "token fetched after failures");
                }
                self.failures = 0;
                self.next_refresh = None;
                self.cached = Some(Cached::new(token.clone(), settings.margin, now));
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                let backoff = jitter::equal(settings.backoff_after(self.failures));
                self.next_refresh = now.checked_add(backoff);
                let still_valid = self
                    .cached
                    .as_ref()
                    .is_some_and(|cached| cached.token.fresh_at(now, Duration::ZERO));
                if self.failures == 1 {
                    tracing::warn!(%error, still_valid, ?backoff, "token fetch failed");
                } else {
                    tracing::debug!(
                        %error,
                        still_valid,
                        failures = self.failures,
                        ?backoff,
                        "token fetch failed again"
                    );
                }
            }
        }
    }
}

impl Cached {
    fn new(token: AccessToken, margin: Duration, now: Instant) -> Self {
        // A margin longer than the token's life would refresh on every call: use at most half.
        let refresh_at = token.expires_at().map(|expires_at| {
            let life = expires_at.saturating_duration_since(now);
            expires_at.checked_sub(margin.min(life / 2)).unwrap_or(now)
        });
        Cached { token, refresh_at }
    }
}

impl<S: TokenSource + 'static> TokenSource for TokenCache<S> {
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
        /// How long each fetch takes.
        delay: Duration,
    }

    impl Counting {
        fn new(validity: Option<Duration>) -> Self {
            Counting {
                fetches: AtomicU32::new(0),
                failures: 0,
                broken: std::sync::atomic::AtomicBool::new(false),
                validity,
                error: ClientError::timed_out(Duration::from_secs(1)),
                delay: Duration::ZERO,
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
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
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
            let source = Counting::new(None)
                .failing(2, ClientError::transport(&std::io::Error::other("refused")));
            let cache = TokenCache::new(source);
            let token = cache.get().await.unwrap();
            assert_eq!(token.token().as_str(), "token.number.3");
        });
    }

    #[test]
    fn retries_are_bounded_and_the_error_is_reported() {
        rt().block_on(async {
            let error = ClientError::transport(&std::io::Error::other("refused"));
            let cache = TokenCache::new(Counting::new(None).failing(u32::MAX, error.clone()))
                .with_retry(4, Duration::from_millis(10));
            assert_eq!(cache.get().await.unwrap_err(), error);
            assert_eq!(cache.source().fetches(), 4);
        });
    }

    #[test]
    fn refused_credentials_are_not_retried() {
        rt().block_on(async {
            let error = ClientError::answered(
                crate::client::ClientErrorKind::BadUserCredentials,
                StatusCode::BAD_REQUEST,
                None,
                String::new(),
            );
            let cache = TokenCache::new(Counting::new(None).failing(u32::MAX, error.clone()));
            assert_eq!(cache.get().await.unwrap_err(), error);
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn failed_fetch_is_not_cached() {
        rt().block_on(async {
            let cache = TokenCache::new(
                Counting::new(None)
                    .failing(1, crate::client::ClientErrorKind::NoCallerToken.into()),
            );
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

    /// Lets the runtime run every task that can run (the paused clock moves on only when none
    /// can).
    async fn settle() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    #[test]
    fn due_token_is_answered_at_once_and_replaced_in_the_background() {
        rt().block_on(async {
            let cache = TokenCache::new(Counting::new(Some(Duration::from_secs(100))))
                .with_refresh_margin(Duration::from_secs(50));
            let first = cache.get().await.unwrap();
            tokio::time::advance(Duration::from_secs(60)).await;
            let asked = tokio::time::Instant::now();
            assert_eq!(cache.get().await.unwrap(), first);
            assert_eq!(tokio::time::Instant::now(), asked);
            settle().await;
            assert_eq!(cache.source().fetches(), 2);
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
                .with_retry(1, Duration::from_secs(1));
            let first = cache.get().await.unwrap();
            cache.source().broken.store(true, Ordering::SeqCst);
            tokio::time::advance(Duration::from_secs(60)).await;
            assert_eq!(cache.get().await.unwrap(), first);
            settle().await;
            assert_eq!(cache.source().fetches(), 2);
            // Within the backoff (1 s after the failure), no new refresh.
            assert_eq!(cache.get().await.unwrap(), first);
            settle().await;
            assert_eq!(cache.source().fetches(), 2);
            tokio::time::advance(Duration::from_secs(50)).await;
            assert!(cache.get().await.is_err());
            assert_eq!(cache.source().fetches(), 3);
        });
    }

    #[test]
    fn fetch_outlives_a_dropped_caller() {
        rt().block_on(async {
            let mut source = Counting::new(None);
            source.delay = Duration::from_secs(5);
            let cache = TokenCache::new(source);
            let gave_up = tokio::time::timeout(Duration::from_secs(1), cache.get()).await;
            assert!(gave_up.is_err());
            tokio::time::sleep(Duration::from_secs(10)).await;
            assert_eq!(
                cache.get().await.unwrap().token().as_str(),
                "token.number.1"
            );
            assert_eq!(cache.source().fetches(), 1);
        });
    }

    #[test]
    fn backoff_between_failed_refreshes_goes_on_doubling_from_the_retries() {
        let defaults = TokenCache::new(Counting::new(None)).settings;
        let waits: Vec<u64> = (1..=7)
            .map(|failures| defaults.backoff_after(failures).as_millis() as u64)
            .collect();
        assert_eq!(waits, [800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000]);
        let once = TokenCache::new(Counting::new(None))
            .with_retry(1, Duration::from_millis(300))
            .settings;
        assert_eq!(once.backoff_after(1), Duration::from_millis(300));
        assert_eq!(once.backoff_after(2), Duration::from_millis(600));
        assert_eq!(defaults.backoff_after(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn outside_a_tokio_runtime_the_caller_runs_the_fetch() {
        fn poll_to_end<F: std::future::Future>(future: F) -> F::Output {
            let mut future = std::pin::pin!(future);
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            loop {
                if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                    return output;
                }
            }
        }
        let cache = TokenCache::new(Counting::new(None));
        let first = poll_to_end(cache.get()).unwrap();
        assert_eq!(poll_to_end(cache.get()).unwrap(), first);
        assert_eq!(cache.source().fetches(), 1);
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
