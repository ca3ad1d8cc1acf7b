//! The wait between attempts after failures, shared by the refresher (rs-admin) and the broker
//! listener: doubling up to a cap, jittered so that instances failing together do not retry in
//! step; and the spread of the periodic refreshes, so that projects and instances started
//! together do not read rs-admin together every period.

use std::time::Duration;

use crate::jitter;

/// Exponential backoff from `first` to `max`, each wait drawn between half and all of its step.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) const fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            first,
            max,
            failures: 0,
        }
    }

    /// The wait after one more failure.
    pub(crate) fn next(&mut self) -> Duration {
        let step = self
            .first
            .saturating_mul(1 << self.failures.min(16))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        jitter::equal(step)
    }

    /// After a success: the next failure waits `first` again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// What a periodic refresh's period is multiplied by: drawn in (0.9, 1], so that the wait lies
/// in the period's last tenth (never longer: the period stays a bound on how stale rights may
/// get) and the projects of one instance, and instances started together, spread their reads
/// of rs-admin instead of sending them all at once every period.
pub(crate) fn periodic_spread() -> f64 {
    1.0 - jitter::fraction() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let first = Duration::from_millis(500);
        let max = Duration::from_secs(30);
        let mut backoff = Backoff::new(first, max);
        for attempt in 0..20 {
            let wait = backoff.next();
            let step = first.saturating_mul(1 << attempt).min(max);
            assert!(wait >= step / 2 && wait <= step, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn backoff_starts_over_after_a_reset() {
        let first = Duration::from_secs(1);
        let mut backoff = Backoff::new(first, Duration::from_secs(60));
        for _ in 0..5 {
            backoff.next();
        }
        backoff.reset();
        assert!(backoff.next() <= first);
    }

    #[test]
    fn periodic_waits_lie_in_the_last_tenth_of_the_period_and_vary() {
        let period = Duration::from_secs(600);
        let mut waits: Vec<Duration> = (0..16).map(|_| period.mul_f64(periodic_spread())).collect();
        for wait in &waits {
            assert!(*wait > period * 9 / 10 && *wait <= period, "{wait:?}");
        }
        waits.dedup();
        assert!(waits.len() > 1, "{waits:?}");
    }

    #[test]
    fn jitter_spreads_waits_between_calls() {
        let mut waits: Vec<Duration> = (0..16)
            .map(|_| Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).next())
            .collect();
        waits.dedup();
        assert!(waits.len() > 1, "{waits:?}");
    }
}
