//! When to try an API or token request again, and how long to wait first: a bounded number of
//! retries with exponential backoff and jitter, or exactly what `Retry-After` asks for.

use std::time::Duration;

use hyper::header::HeaderMap;

/// Retries after the first attempt (so at most this + 1 requests per step).
pub const MAX_RETRIES: u32 = 3;
/// First backoff; doubled on each retry (1 s, 2 s, 4 s), plus up to 250 ms of jitter.
const BASE: Duration = Duration::from_secs(1);
/// A `Retry-After` longer than this is not waited for: the message goes to the outbox
/// and `missive outbox flush` tries later.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// Exponential backoff for retry number `retry` (0-based), with jitter.
pub fn backoff(retry: u32) -> Duration {
    let exp = BASE.saturating_mul(1u32 << retry.min(6));
    exp + Duration::from_millis(jitter_ms(250))
}

fn jitter_ms(max: u64) -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0;
    }
    u64::from_le_bytes(b) % (max + 1)
}

/// `Retry-After` as seconds or as an HTTP date, relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Status codes worth another try: rate limits and server errors.
pub fn retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        for (retry, secs) in [(0u32, 1u64), (1, 2), (2, 4)] {
            let d = backoff(retry);
            assert!(d >= Duration::from_secs(secs), "{d:?}");
            assert!(d <= Duration::from_millis(secs * 1000 + 250), "{d:?}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:50Z")
            .map(|d| d.with_timezone(&chrono::Utc))
            .expect("date");
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().expect("value"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("value"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert("retry-after", "soon".parse().expect("value"));
        assert_eq!(retry_after(&h, now), None);
        assert!(retryable_status(429) && retryable_status(503) && !retryable_status(403));
    }
}
