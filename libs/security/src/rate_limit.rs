//! Per-caller rate limits: each caller gets `per_second` calls on average and may burst up to
//! `burst`; a call over the limit is refused with `RESOURCE_EXHAUSTED` and the wait until the
//! next call would be allowed.
//!
//! The arithmetic is governor's GCRA (a token bucket kept as one timestamp per caller), keyed on
//! a sharded map so callers do not queue behind one lock. There is one keyed limiter per
//! configured quota (the default and each role's), so a caller's state is only ever judged by the
//! quota it was counted under. Callers whose state has refilled (indistinguishable from a caller
//! never seen) are forgotten now and then, not on every call.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use governor::Quota;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;

use crate::policy::Role;
use crate::settings::{RateLimit, RateLimitSettings};

/// One call in 1000 s: below this a limit is a configuration mistake (and its period would not
/// fit governor's arithmetic for large bursts).
pub const MIN_PER_SECOND: f64 = 0.001;
/// A million calls a second per caller: above this a limit limits nothing.
pub const MAX_PER_SECOND: f64 = 1_000_000.0;
/// Keeps `burst / per_second` (the bucket's depth in time) within governor's u64 nanoseconds.
pub const MAX_BURST: u32 = 1_000_000;

/// Calls between two sweeps of refilled callers: at least this many, and at least as many as
/// the previous sweep kept, so a sweep's cost is spread over the calls that led to it (constant
/// per call on average) and the table holds at most the callers of one burst window plus the
/// callers seen since the last sweep.
const SWEEP_EVERY: u64 = 4096;

/// A quota in the settings that cannot be enforced; the text names the settings key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidRateLimit {
    #[error(
        "{key}.per_second must be at least {MIN_PER_SECOND} (one call in 1000 s) and at most \
         {MAX_PER_SECOND}; it is {value}"
    )]
    PerSecond { key: String, value: f64 },
    #[error("{key}.burst must be at least 1 and at most {MAX_BURST}; it is {value}")]
    Burst { key: String, value: u32 },
    #[error("{key} is not a role; the roles are {known}")]
    UnknownRole { key: String, known: String },
}

/// Keyed limiters, one per configured quota.
#[derive(Debug)]
pub struct RateLimiter {
    enabled: bool,
    default: QuotaLimiter,
    per_role: BTreeMap<Role, QuotaLimiter>,
    clock: ArrivalClock,
    /// Calls checked so far, and the count at which the next sweep is due.
    calls: AtomicU64,
    next_sweep: AtomicU64,
}

type KeyedLimiter =
    governor::RateLimiter<String, DashMapStateStore<String>, ArrivalClock, NoOpMiddleware<Nanos>>;

#[derive(Debug)]
struct QuotaLimiter {
    limit: RateLimit,
    limiter: KeyedLimiter,
}

impl RateLimiter {
    /// Checks every quota in `settings` (even when limiting is off: a bad value is still a
    /// mistake) and builds one limiter per quota.
    pub fn new(settings: RateLimitSettings) -> Result<Self, InvalidRateLimit> {
        let clock = ArrivalClock::default();
        let default =
            QuotaLimiter::new("server.rate_limit.default", settings.default, clock.clone())?;
        let mut per_role = BTreeMap::new();
        for (name, limit) in &settings.per_role {
            let key = format!("server.rate_limit.per_role.{name}");
            let role = Role::ALL
                .into_iter()
                .find(|role| role.as_str() == name.as_str())
                .ok_or_else(|| InvalidRateLimit::UnknownRole {
                    key: key.clone(),
                    known: Role::ALL.map(Role::as_str).join(", "),
                })?;
            per_role.insert(role, QuotaLimiter::new(&key, *limit, clock.clone())?);
        }
        Ok(Self {
            enabled: settings.enabled,
            default,
            per_role,
            clock,
            calls: AtomicU64::new(0),
            next_sweep: AtomicU64::new(SWEEP_EVERY),
        })
    }

    /// The limit for a caller holding `roles`: the most generous of their roles' limits (the
    /// higher rate, then the deeper burst), or the default.
    pub fn limit_for(&self, roles: &[Role]) -> RateLimit {
        self.quota_for(roles).limit
    }

    fn quota_for(&self, roles: &[Role]) -> &QuotaLimiter {
        roles
            .iter()
            .filter_map(|role| self.per_role.get(role))
            .max_by(|a, b| {
                a.limit
                    .per_second
                    .total_cmp(&b.limit.per_second)
                    .then(a.limit.burst.cmp(&b.limit.burst))
            })
            .unwrap_or(&self.default)
    }

    /// Counts one call from `caller` arriving at `now`; `Err(wait)` when it is over the limit.
    /// `now` is the call's arrival as the guard saw it; time never goes back for the limiter, so
    /// an instant older than one already handed in counts as that later one.
    pub fn check(&self, caller: &str, roles: &[Role], now: Instant) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let arrival = self.clock.advance_to(now);
        let outcome = self
            .quota_for(roles)
            .limiter
            .check_key(&caller.to_owned())
            .map_err(|not_until| not_until.wait_time_from(arrival));
        self.sweep_when_due();
        outcome
    }

    /// Forgets every caller whose state has refilled: they lose nothing, and come back as new.
    /// Returns how many callers are still tracked.
    pub fn forget_refilled_callers(&self) -> usize {
        self.quotas()
            .map(|quota| {
                quota.limiter.retain_recent();
                quota.limiter.shrink_to_fit();
                quota.limiter.len()
            })
            .sum()
    }

    /// Callers tracked across all quotas (those not yet forgotten).
    pub fn tracked_callers(&self) -> usize {
        self.quotas().map(|quota| quota.limiter.len()).sum()
    }

    fn quotas(&self) -> impl Iterator<Item = &QuotaLimiter> {
        std::iter::once(&self.default).chain(self.per_role.values())
    }

    fn sweep_when_due(&self) {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let due = self.next_sweep.load(Ordering::Acquire);
        if calls < due {
            return;
        }
        // One thread sweeps; until it is done no other sweep is due.
        if self
            .next_sweep
            .compare_exchange(due, u64::MAX, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let kept = u64::try_from(self.forget_refilled_callers()).unwrap_or(u64::MAX);
        self.next_sweep.store(
            calls.saturating_add(SWEEP_EVERY.max(kept)),
            Ordering::Release,
        );
    }
}

impl QuotaLimiter {
    fn new(key: &str, limit: RateLimit, clock: ArrivalClock) -> Result<Self, InvalidRateLimit> {
        // `contains` is false for NaN, so NaN is refused with the rest.
        if !(MIN_PER_SECOND..=MAX_PER_SECOND).contains(&limit.per_second) {
            return Err(InvalidRateLimit::PerSecond {
                key: key.to_owned(),
                value: limit.per_second,
            });
        }
        let burst = NonZeroU32::new(limit.burst)
            .filter(|burst| burst.get() <= MAX_BURST)
            .ok_or_else(|| InvalidRateLimit::Burst {
                key: key.to_owned(),
                value: limit.burst,
            })?;
        // The bounds above keep the period between 1 µs and 1000 s.
        let quota = Quota::with_period(Duration::from_secs_f64(1.0 / limit.per_second))
            .ok_or_else(|| InvalidRateLimit::PerSecond {
                key: key.to_owned(),
                value: limit.per_second,
            })?
            .allow_burst(burst);
        Ok(Self {
            limit,
            limiter: governor::RateLimiter::dashmap_with_clock(quota, clock),
        })
    }
}

/// The limiters' time: the latest arrival handed to [`RateLimiter::check`], as nanoseconds since
/// the first. It never goes back, as GCRA needs; calls racing on two threads are judged at the
/// later of their instants, a difference of microseconds.
#[derive(Debug, Clone, Default)]
struct ArrivalClock {
    shared: Arc<ArrivalTime>,
}

#[derive(Debug, Default)]
struct ArrivalTime {
    origin: OnceLock<Instant>,
    latest: AtomicU64,
}

impl ArrivalClock {
    fn advance_to(&self, now: Instant) -> Nanos {
        let origin = *self.shared.origin.get_or_init(|| now);
        let since =
            u64::try_from(now.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX);
        let before = self.shared.latest.fetch_max(since, Ordering::AcqRel);
        Nanos::new(before.max(since))
    }
}

impl Clock for ArrivalClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::new(self.shared.latest.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_second: f64, burst: u32) -> RateLimitSettings {
        RateLimitSettings {
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
        }
    }

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(settings(per_second, burst)).expect("valid limits")
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

    #[test]
    fn a_caller_with_two_roles_gets_the_more_generous_quota() {
        let limiter = RateLimiter::new(RateLimitSettings {
            enabled: true,
            default: RateLimit {
                per_second: 1.0,
                burst: 1,
            },
            per_role: [
                (
                    "agent".to_owned(),
                    RateLimit {
                        per_second: 2.0,
                        burst: 2,
                    },
                ),
                (
                    "supervisor".to_owned(),
                    RateLimit {
                        per_second: 20.0,
                        burst: 20,
                    },
                ),
            ]
            .into(),
        })
        .expect("valid limits");
        let now = Instant::now();
        for roles in [
            [Role::Agent, Role::Supervisor],
            [Role::Supervisor, Role::Agent],
        ] {
            let caller = format!("{roles:?}");
            assert_eq!(limiter.limit_for(&roles).burst, 20);
            for _ in 0..20 {
                assert!(limiter.check(&caller, &roles, now).is_ok(), "{caller}");
            }
            assert!(limiter.check(&caller, &roles, now).is_err(), "{caller}");
        }
        // The agent alone has the agent's two; a role with no quota of its own, the default.
        assert!(limiter.check("agent", &[Role::Agent], now).is_ok());
        assert!(limiter.check("agent", &[Role::Agent], now).is_ok());
        assert!(limiter.check("agent", &[Role::Agent], now).is_err());
        assert!(limiter.check("sre", &[Role::Sre], now).is_ok());
        assert!(limiter.check("sre", &[Role::Sre], now).is_err());
    }

    #[test]
    fn tiny_zero_negative_and_non_numeric_rates_are_refused_at_start_naming_the_key() {
        for per_second in [
            0.0,
            -1.0,
            f64::NAN,
            1e-9,
            0.000_999,
            f64::INFINITY,
            MAX_PER_SECOND * 10.0,
        ] {
            let mut settings = settings(50.0, 100);
            settings.per_role.insert(
                "agent".to_owned(),
                RateLimit {
                    per_second,
                    burst: 10,
                },
            );
            let error = RateLimiter::new(settings).expect_err("refused");
            assert!(
                error.to_string().starts_with(
                    "server.rate_limit.per_role.agent.per_second must be at least 0.001"
                ),
                "{per_second}: {error}"
            );
            // The default is checked the same way, even with limiting off.
            let mut settings = self::settings(per_second, 10);
            settings.enabled = false;
            let error = RateLimiter::new(settings).expect_err("refused");
            assert!(
                error
                    .to_string()
                    .starts_with("server.rate_limit.default.per_second must be"),
                "{per_second}: {error}"
            );
        }
        // The smallest accepted rate builds (its one-per-1000 s period was a panic before).
        assert!(RateLimiter::new(settings(MIN_PER_SECOND, 1)).is_ok());

        let error = RateLimiter::new(settings(50.0, 0)).expect_err("no burst");
        assert_eq!(
            error.to_string(),
            "server.rate_limit.default.burst must be at least 1 and at most 1000000; it is 0"
        );
        let mut misspelt = settings(50.0, 100);
        misspelt.per_role.insert(
            "servce".to_owned(),
            RateLimit {
                per_second: 1000.0,
                burst: 1000,
            },
        );
        let error = RateLimiter::new(misspelt).expect_err("unknown role");
        assert!(
            error
                .to_string()
                .starts_with("server.rate_limit.per_role.servce is not a role"),
            "{error}"
        );
    }

    #[test]
    fn fifty_thousand_callers_each_get_their_burst_and_are_forgotten_once_refilled() {
        let limiter = limiter(10.0, 3);
        let start = Instant::now();
        let callers: Vec<String> = (0..50_000).map(|i| format!("agent-{i}")).collect();
        for caller in &callers {
            for _ in 0..3 {
                assert!(limiter.check(caller, &[Role::Agent], start).is_ok());
            }
            let wait = limiter
                .check(caller, &[Role::Agent], start)
                .expect_err("over the burst");
            // Judged by its own quota: one call back after 100 ms, whatever the table's size.
            assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100));
        }
        // Nobody has refilled yet: every caller is still needed.
        assert_eq!(limiter.tracked_callers(), 50_000);
        // Every bucket is full again after 300 ms, so nothing is lost by forgetting them (governor
        // keeps a caller one period, 100 ms, past its refill).
        let later = start + Duration::from_millis(400);
        assert!(limiter.check("agent-new", &[Role::Agent], later).is_ok());
        assert_eq!(
            limiter.forget_refilled_callers(),
            1,
            "only agent-new remains"
        );
        for caller in &callers[..100] {
            for _ in 0..3 {
                assert!(limiter.check(caller, &[Role::Agent], later).is_ok());
            }
        }
    }

    #[test]
    fn the_table_stays_bounded_as_callers_come_and_go_without_a_scan_per_call() {
        // Each caller calls once, a millisecond after the previous one; a caller has refilled
        // 100 ms after its call, so about a hundred are live at any time.
        let limiter = limiter(10.0, 1);
        let start = Instant::now();
        let mut largest = 0;
        for i in 0..50_000_u64 {
            let now = start + Duration::from_millis(i);
            assert!(
                limiter
                    .check(&format!("caller-{i}"), &[Role::Agent], now)
                    .is_ok()
            );
            largest = largest.max(limiter.tracked_callers());
        }
        let bound = usize::try_from(SWEEP_EVERY).expect("small") + 200;
        assert!(
            largest <= bound,
            "at most {bound} tracked, saw {largest} (50,000 without sweeps)"
        );
    }

    #[test]
    fn limiting_off_lets_everything_through() {
        let mut settings = settings(1.0, 1);
        settings.enabled = false;
        let limiter = RateLimiter::new(settings).expect("valid limits");
        let now = Instant::now();
        for _ in 0..10 {
            assert!(limiter.check("agent-1", &[Role::Agent], now).is_ok());
        }
    }
}
