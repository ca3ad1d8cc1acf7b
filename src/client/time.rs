//! The client side's one clock, and the jitter of its waits.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// Now, on tokio's clock: the system's, unless a test paused it (`tokio::time::pause`). Every
/// instant of the client side (an [`AccessToken`](super::AccessToken)'s expiry, the cache's
/// refresh times, a request's start) is read from it, so that they compare with one another.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// `step` with jitter: a wait drawn between half of `step` and all of it ("equal jitter"), so
/// that clients that failed together do not try again together, and none waits longer than its
/// step.
pub(crate) fn jittered(step: Duration) -> Duration {
    step.mul_f64(0.5 + fraction() / 2.0)
}

/// A number in [0, 1) that differs between calls and processes: std's randomly keyed hasher
/// over the current instant (jitter needs no cryptographic randomness, nor a dependency).
fn fraction() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jittered_waits_lie_between_half_and_all_of_the_step_and_vary() {
        let step = Duration::from_millis(800);
        let waits: Vec<Duration> = (0..64).map(|_| jittered(step)).collect();
        assert!(waits.iter().all(|wait| *wait >= step / 2 && *wait <= step));
        let first = waits[0];
        assert!(waits.iter().any(|wait| *wait != first), "{waits:?}");
    }
}
