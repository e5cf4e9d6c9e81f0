//! A per-token request rate for SCIM clients (GCRA, from `governor`): one identity provider
//! in a loop cannot starve the others or the console.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Requests per second a token may make, sustained, unless configured otherwise. Entra ID
/// expects an app to take 25 per second; Okta sends fewer.
pub const DEFAULT_PER_SECOND: u32 = 100;

pub struct ScimRateLimit {
    limiter: DefaultKeyedRateLimiter<i64>,
}

impl ScimRateLimit {
    /// `per_second` sustained, with bursts of up to two seconds' worth.
    pub fn new(per_second: NonZeroU32) -> ScimRateLimit {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        ScimRateLimit {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    /// `Err(wait)` when the token must wait before its next request.
    pub fn check(&self, token_id: i64) -> Result<(), Duration> {
        self.limiter
            .check_key(&token_id)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl Default for ScimRateLimit {
    fn default() -> Self {
        ScimRateLimit::new(NonZeroU32::new(DEFAULT_PER_SECOND).unwrap_or(NonZeroU32::MIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_past_its_burst_waits_and_others_do_not() {
        let limit = ScimRateLimit::new(NonZeroU32::MIN);
        assert!(limit.check(1).is_ok());
        assert!(limit.check(1).is_ok(), "a burst of two seconds' worth");
        let wait = limit.check(1).expect_err("third request within a second");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limit.check(2).is_ok(), "each token has its own budget");
    }
}
