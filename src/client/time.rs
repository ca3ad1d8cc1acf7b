//! The client side's one clock.

use std::time::Instant;

/// Now, on tokio's clock: the system's, unless a test paused it (`tokio::time::pause`). Every
/// instant of the client side (an [`AccessToken`](super::AccessToken)'s expiry, the cache's
/// refresh times, a request's start) is read from it, so that they compare with one another.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
