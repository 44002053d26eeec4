//! An injectable clock.
//!
//! Every rule that depends on "now" (breathing-space expiry, SLA deadlines, survey frequency)
//! asks a [`Clock`], never the operating system directly, so tests can pin and move time.
//! Instants are UTC [`jiff::Timestamp`]s; storage keeps them as unix microseconds.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

pub use jiff::{SignedDuration, Timestamp};

/// A source of the current instant.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> Timestamp;
}

/// A shared clock handle, cheap to clone into every service.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Now, to the microsecond: the precision storage keeps, so a first answer and its replay
    /// (read back from storage) carry the same instants.
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    pub fn set(&self, to: Timestamp) {
        *self.lock() = to;
    }

    /// Moves the clock forward (or back, with a negative duration).
    ///
    /// # Panics
    /// If the result leaves jiff's supported range (years -9999..=9999), which no test needs.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.lock();
        *now = now
            .checked_add(by)
            .expect("manual clock moved outside the supported range");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A poisoned lock only means another test thread panicked; the instant is still valid.
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

/// Instants are stored as BIGINT unix microseconds (DESIGN.md, Storage).
pub fn to_unix_micros(at: Timestamp) -> i64 {
    // jiff's range (years -9999..=9999) fits in i64 microseconds.
    at.as_microsecond()
}

/// The inverse of [`to_unix_micros`]; `None` when the stored value is outside jiff's range.
pub fn from_unix_micros(micros: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(micros).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Timestamp::from_second(1_700_000_000).expect("valid");
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(48));
        assert_eq!(clock.now().as_second(), 1_700_000_000 + 48 * 3600);
    }

    #[test]
    fn the_system_clock_ticks_in_stored_microseconds() {
        let now = SystemClock.now();
        assert_eq!(from_unix_micros(to_unix_micros(now)), Some(now));
    }

    #[test]
    fn unix_micros_round_trip() {
        let at = Timestamp::from_microsecond(1_700_000_000_123_456).expect("valid");
        assert_eq!(from_unix_micros(to_unix_micros(at)), Some(at));
        assert_eq!(from_unix_micros(i64::MAX), None);
    }
}
