//! Jitter for waits (the client's retries and refreshes, managed access's backoff and periodic
//! refreshes), so that services that start or fail together do not call REGARDS together.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// A number in [0, 1) that differs between calls and processes: std's randomly keyed hasher over
/// the current instant (jitter needs no cryptographic randomness, nor a dependency).
pub(crate) fn fraction() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// `step` with "equal jitter": a wait drawn between half of `step` and all of it, so that
/// callers that failed together do not try again together, and none waits longer than its step.
pub(crate) fn equal(step: Duration) -> Duration {
    step.mul_f64(0.5 + fraction() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_jitter_waits_lie_between_half_and_all_of_the_step_and_vary() {
        let step = Duration::from_millis(800);
        let waits: Vec<Duration> = (0..64).map(|_| equal(step)).collect();
        assert!(waits.iter().all(|wait| *wait >= step / 2 && *wait <= step));
        let first = waits[0];
        assert!(waits.iter().any(|wait| *wait != first), "{waits:?}");
    }

    #[test]
    fn fractions_lie_in_the_unit_interval_and_vary() {
        let mut fractions: Vec<f64> = (0..16).map(|_| fraction()).collect();
        assert!(
            fractions.iter().all(|f| (0.0..1.0).contains(f)),
            "{fractions:?}"
        );
        fractions.dedup();
        assert!(fractions.len() > 1, "{fractions:?}");
    }
}
