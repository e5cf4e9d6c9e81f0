//! Throttles failed sign-ins per account and per client address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account within the window.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failures allowed per client address within the window (several people may share one).
pub const ADDRESS_LIMIT: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    /// `Err(seconds to wait)` when the account or the address has failed too often.
    pub fn check(&self, email: &str, address: Option<&str>) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        let blocked = |key: String, limit: u32| {
            failures
                .get(&key)
                .filter(|(count, _)| *count >= limit)
                .map(|(_, since)| (WINDOW - now.duration_since(*since)).as_secs().max(1))
        };
        let account = blocked(account_key(email), ACCOUNT_LIMIT);
        let by_address = address.and_then(|a| blocked(address_key(a), ADDRESS_LIMIT));
        match account.max(by_address) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, email: &str, address: Option<&str>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let keys = std::iter::once(account_key(email)).chain(address.map(address_key));
        for key in keys {
            failures.entry(key).or_insert((0, now)).0 += 1;
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&account_key(email));
    }
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_blocked_after_its_limit_and_others_are_not() {
        let throttle = SignInThrottle::default();
        for _ in 0..ACCOUNT_LIMIT {
            assert!(throttle.check("a@x.test", Some("10.0.0.1")).is_ok());
            throttle.record_failure("A@x.test", Some("10.0.0.1"));
        }
        assert!(throttle.check("a@x.test", Some("10.0.0.2")).is_err());
        assert!(throttle.check("b@x.test", Some("10.0.0.1")).is_ok());
        throttle.record_success("a@x.test");
        assert!(throttle.check("a@x.test", None).is_ok());
    }

    #[test]
    fn an_address_is_blocked_after_many_accounts_fail_from_it() {
        let throttle = SignInThrottle::default();
        for n in 0..ADDRESS_LIMIT {
            throttle.record_failure(&format!("user{n}@x.test"), Some("10.9.9.9"));
        }
        assert!(throttle.check("fresh@x.test", Some("10.9.9.9")).is_err());
        assert!(throttle.check("fresh@x.test", Some("10.1.1.1")).is_ok());
    }
}
