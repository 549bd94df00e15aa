//! Retry policy for launches: which failures are worth another attempt, and how long to wait
//! before it (exponential backoff with full jitter, so that many workers that failed together
//! do not all retry together).

use std::time::Duration;

use crate::errors::LaunchFailure;

/// Exponential backoff with full jitter: attempt `n` waits a uniformly random time in
/// `[0, min(max, initial * 2^n))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (0-based), given a uniform sample `unit` in [0, 1).
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2f64.powi(retry.min(30) as i32);
        let ceiling = (self.initial.as_secs_f64() * factor).min(self.max.as_secs_f64());
        Duration::from_secs_f64(ceiling * unit.clamp(0.0, 1.0))
    }

    /// A jittered delay drawn from the process-wide random source.
    pub fn jittered(&self, retry: u32) -> Duration {
        self.delay(retry, fastrand::f64())
    }
}

/// Reads Chrome's stderr to tell a permanent failure from a transient one.
pub fn classify_exit(stderr_tail: &str) -> LaunchFailure {
    let text = stderr_tail.to_ascii_lowercase();
    if text.contains("without --no-sandbox")
        || text.contains("no usable sandbox")
        || text.contains("chrome-sandbox")
        || text.contains("setuid sandbox")
    {
        LaunchFailure::Sandbox
    } else if text.contains("profile appears to be in use")
        || text.contains("singletonlock")
        || text.contains("user data directory is already in use")
    {
        LaunchFailure::ProfileInUse
    } else {
        LaunchFailure::Crashed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };

    #[test]
    fn delay_grows_exponentially_up_to_the_cap() {
        assert_eq!(BACKOFF.delay(0, 0.999_999).as_millis(), 99);
        assert_eq!(BACKOFF.delay(1, 0.999_999).as_millis(), 199);
        assert_eq!(BACKOFF.delay(3, 0.999_999).as_millis(), 799);
        assert_eq!(BACKOFF.delay(10, 0.999_999).as_millis(), 1999);
        assert_eq!(BACKOFF.delay(1000, 0.5).as_millis(), 1000);
    }

    #[test]
    fn full_jitter_spans_zero_to_ceiling() {
        assert_eq!(BACKOFF.delay(2, 0.0), Duration::ZERO);
        let samples: Vec<Duration> = (0..200).map(|_| BACKOFF.jittered(2)).collect();
        assert!(samples.iter().all(|d| *d < Duration::from_millis(400)));
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(distinct.len() > 100, "jitter should spread retries");
    }

    #[test]
    fn classifies_root_without_no_sandbox() {
        let tail = "[123:123:ERROR:zygote_host_impl_linux.cc(101)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.";
        assert_eq!(classify_exit(tail), LaunchFailure::Sandbox);
        assert_eq!(
            classify_exit("FATAL: No usable sandbox! Update your kernel"),
            LaunchFailure::Sandbox
        );
    }

    #[test]
    fn classifies_profile_lock_and_plain_crashes() {
        assert_eq!(
            classify_exit("The profile appears to be in use by another Chromium process"),
            LaunchFailure::ProfileInUse
        );
        assert_eq!(classify_exit("Segmentation fault"), LaunchFailure::Crashed);
        assert_eq!(classify_exit(""), LaunchFailure::Crashed);
    }
}
