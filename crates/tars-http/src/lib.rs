//! HTTP plumbing shared by the Prometheus adapter and the integrations: one
//! retry loop with exponential backoff and jitter, and one reading of
//! `Retry-After`. Each caller decides what deserves another try.

use std::future::Future;
use std::time::Duration;

use http::HeaderMap;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Retries after the first try.
    pub retries: u32,
    /// Delay before the first retry; doubles for each further one.
    pub backoff: Duration,
    /// Longest single wait, whatever the backoff or the server asks.
    pub max_wait: Duration,
}

impl Retry {
    /// The backoff before retry `n` (1 = the first): doubling from
    /// `backoff`, capped at `max_wait`, then jittered down to as little as
    /// half so that clients that failed together do not retry together.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1).min(20));
        let full = self.backoff.saturating_mul(factor).min(self.max_wait);
        full.mul_f64(0.5 + 0.5 * fastrand::f64())
    }
}

/// Runs `attempt` until it asks for no further try or the retries are
/// spent. `attempt` receives the backoff it should wait if it wants another
/// try and returns its outcome with the wait it wants (`None`: done). Returns
/// the last outcome and the number of retries made.
pub async fn retry<T, F, Fut>(policy: &Retry, mut attempt: F) -> (T, u32)
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = (T, Option<Duration>)>,
{
    let mut retries = 0;
    loop {
        let (outcome, wait) = attempt(policy.delay(retries + 1)).await;
        match wait {
            Some(w) if retries < policy.retries => {
                retries += 1;
                tokio::time::sleep(w.min(policy.max_wait)).await;
            }
            _ => return (outcome, retries),
        }
    }
}

/// `Retry-After`, in seconds or as an HTTP date (a date in the past is 0).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = at.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(secs.max(0).unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Retry = Retry {
        retries: 3,
        backoff: Duration::from_millis(100),
        max_wait: Duration::from_millis(350),
    };

    #[test]
    fn delays_double_stay_under_the_cap_and_are_jittered() {
        for _ in 0..200 {
            let d1 = POLICY.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d2 = POLICY.delay(2);
            assert!(
                d2 >= Duration::from_millis(100) && d2 <= Duration::from_millis(200),
                "{d2:?}"
            );
            // 400 ms capped at 350, then jittered.
            let d3 = POLICY.delay(3);
            assert!(
                d3 >= Duration::from_millis(175) && d3 <= Duration::from_millis(350),
                "{d3:?}"
            );
        }
        let spread: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| POLICY.delay(2)).collect();
        assert!(spread.len() > 10, "no jitter: {spread:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_when_asked_or_when_spent() {
        let mut calls = 0;
        let (out, n) = retry(&POLICY, |_| {
            calls += 1;
            let c = calls;
            async move { (c, (c < 2).then_some(Duration::from_millis(1))) }
        })
        .await;
        assert_eq!((out, n), (2, 1));
        let mut calls = 0;
        let (out, n) = retry(&POLICY, |d| {
            calls += 1;
            let c = calls;
            async move { (c, Some(d)) }
        })
        .await;
        // The first try and three retries.
        assert_eq!((out, n), (4, 3));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
