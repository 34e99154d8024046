//! Kafka's `ExponentialBackoff`: `initial × 2^attempts`, capped at `max`, with ±jitter.

use kproto::rng::Rng;

/// Kafka's `org.apache.kafka.common.utils.ExponentialBackoff` with multiplier 2, computed in
/// integers (no `f64::ln`/`powf` in `core`): `initial × 2^min(attempts, expMax)` is the same as
/// `min(initial × 2^attempts, max)` because `initial × 2^expMax = max`. The random factor is
/// drawn uniformly from `[1 − jitter, 1 + jitter)` in millionths, from the seeded [`Rng`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExponentialBackoff {
    initial: u64,
    max: u64,
    /// The jitter in millionths (200_000 = Kafka's 0.2).
    jitter_ppm: u64,
}

/// Kafka's jitter for reconnect, connection-setup and retry backoffs (0.2).
pub const DEFAULT_JITTER_PPM: u64 = 200_000;

impl ExponentialBackoff {
    /// A backoff from `initial_ms` doubling up to `max_ms`, with `jitter_ppm` millionths of
    /// jitter either side. As Java, the initial interval is `min(initial, max)`.
    pub fn new(initial_ms: u64, max_ms: u64, jitter_ppm: u64) -> Self {
        ExponentialBackoff {
            initial: initial_ms.min(max_ms),
            max: max_ms,
            jitter_ppm: jitter_ppm.min(1_000_000),
        }
    }

    /// The initial interval.
    pub fn initial_interval(&self) -> u64 {
        self.initial
    }

    /// The backoff after `attempts` failures (Java's `backoff(long attempts)`). When `max` is
    /// not above `initial`, the initial interval is returned without jitter, as Java does.
    pub fn backoff(&self, attempts: u64, rng: &mut Rng) -> u64 {
        if self.max <= self.initial {
            return self.initial;
        }
        let term = if attempts >= 64 {
            self.max
        } else {
            self.initial
                .checked_mul(1u64 << attempts)
                .map_or(self.max, |t| t.min(self.max))
        };
        if self.jitter_ppm == 0 {
            return term.min(self.max);
        }
        let lo = 1_000_000 - self.jitter_ppm;
        let factor = lo + rng.below(2 * self.jitter_ppm);
        let value = u128::from(term) * u128::from(factor) / 1_000_000;
        u64::try_from(value).unwrap_or(u64::MAX).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_initial_to_max_within_the_jitter() {
        // reconnect.backoff.ms=50, reconnect.backoff.max.ms=1000 (Kafka's defaults).
        let b = ExponentialBackoff::new(50, 1000, DEFAULT_JITTER_PPM);
        let mut rng = Rng::new(1);
        for attempts in 0..10u64 {
            let term = (50u64 << attempts).min(1000);
            for _ in 0..200 {
                let v = b.backoff(attempts, &mut rng);
                assert!(v >= term * 8 / 10, "attempt {attempts}: {v} < 0.8 × {term}");
                assert!(v <= (term * 12 / 10).min(1000), "attempt {attempts}: {v}");
            }
        }
        assert_eq!(b.initial_interval(), 50);
    }

    #[test]
    fn no_growth_when_max_is_not_above_initial() {
        let b = ExponentialBackoff::new(100, 100, DEFAULT_JITTER_PPM);
        let mut rng = Rng::new(2);
        assert_eq!(b.backoff(5, &mut rng), 100);
        // initial is capped at max, as Java's constructor does
        let b = ExponentialBackoff::new(500, 100, DEFAULT_JITTER_PPM);
        assert_eq!(b.backoff(0, &mut rng), 100);
    }

    #[test]
    fn huge_attempt_counts_saturate_at_max() {
        let b = ExponentialBackoff::new(10_000, 30_000, 0);
        let mut rng = Rng::new(3);
        assert_eq!(b.backoff(0, &mut rng), 10_000);
        assert_eq!(b.backoff(1, &mut rng), 20_000);
        assert_eq!(b.backoff(2, &mut rng), 30_000);
        assert_eq!(b.backoff(u64::MAX, &mut rng), 30_000);
    }
}
