//! Per-caller token buckets: each caller gets `per_second` calls on average and may burst up to
//! `burst`; a call over the limit is refused with `RESOURCE_EXHAUSTED` and the wait until the
//! next call would be allowed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::policy::Role;
use crate::settings::{RateLimit, RateLimitSettings};

/// Buckets by caller. Idle buckets are dropped once full again, so memory follows the number of
/// active callers.
#[derive(Debug)]
pub struct RateLimiter {
    settings: RateLimitSettings,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            settings,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limit for a caller holding `roles`: the most generous of their roles' limits, or the
    /// default.
    pub fn limit_for(&self, roles: &[Role]) -> RateLimit {
        roles
            .iter()
            .filter_map(|role| self.settings.per_role.get(role.as_str()))
            .copied()
            .max_by(|a, b| a.per_second.total_cmp(&b.per_second))
            .unwrap_or(self.settings.default)
    }

    /// Takes one call from `caller`'s bucket at `now`; `Err(wait)` when the bucket is empty.
    pub fn check(&self, caller: &str, roles: &[Role], now: Instant) -> Result<(), Duration> {
        if !self.settings.enabled {
            return Ok(());
        }
        let limit = self.limit_for(roles);
        let burst = f64::from(limit.burst.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 10_000 {
            // Forget callers whose buckets have refilled: they lose nothing.
            buckets.retain(|_, bucket| {
                let refilled = bucket.tokens
                    + now.saturating_duration_since(bucket.updated).as_secs_f64()
                        * limit.per_second;
                refilled < burst
            });
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else if limit.per_second > 0.0 {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / limit.per_second,
            ))
        } else {
            Err(Duration::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitSettings {
            enabled: true,
            default: RateLimit { per_second, burst },
            per_role: [(
                "service".to_owned(),
                RateLimit {
                    per_second: 1000.0,
                    burst: 1000,
                },
            )]
            .into(),
        })
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let limiter = limiter(10.0, 5);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limiter.check("agent-1", &[Role::Agent], start).is_ok());
        }
        let wait = limiter
            .check("agent-1", &[Role::Agent], start)
            .expect_err("the sixth call at once is over the burst");
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        // 100 ms later one more token has come back, and only one.
        let later = start + Duration::from_millis(100);
        assert!(limiter.check("agent-1", &[Role::Agent], later).is_ok());
        assert!(limiter.check("agent-1", &[Role::Agent], later).is_err());
    }

    #[test]
    fn callers_have_their_own_buckets_and_roles_their_limits() {
        let limiter = limiter(1.0, 1);
        let now = Instant::now();
        assert!(limiter.check("agent-1", &[Role::Agent], now).is_ok());
        assert!(limiter.check("agent-1", &[Role::Agent], now).is_err());
        assert!(limiter.check("agent-2", &[Role::Agent], now).is_ok());
        for _ in 0..500 {
            assert!(limiter.check("plans", &[Role::Service], now).is_ok());
        }
    }
}
