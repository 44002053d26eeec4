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

/// A business date for development, demos and integration tests (`rapport dev --clock`): the
/// time of another clock (the system's) shifted by an offset and running at a speed, both
/// adjustable while the suite runs, from any thread. Production refuses it (DESIGN.md, "Money and
/// time"). It only moves forward: data recorded at a later business instant would otherwise lie
/// in the future.
#[derive(Debug)]
pub struct MovableClock {
    base: SharedClock,
    anchor: Mutex<Anchor>,
}

/// The business instant `business` was read when the base clock read `real`; from there it runs
/// at `speed` business seconds per real second.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Timestamp,
    business: Timestamp,
    speed: f64,
}

/// Why a movable clock was not moved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoveError {
    #[error("the business clock only moves forward ({to} is before {now})")]
    Backwards { now: Timestamp, to: Timestamp },
    #[error("the speed must be a finite number ≥ 0 (got {0})")]
    Speed(f64),
    #[error("the business clock cannot move that far")]
    OutOfRange,
}

impl MovableClock {
    /// Starts at `start` (or the base clock's now) and runs at `speed` (1 = real time, 60 = a
    /// minute a second, 0 = stopped).
    pub fn new(base: SharedClock, start: Option<Timestamp>, speed: f64) -> Result<Self, MoveError> {
        check_speed(speed)?;
        let real = base.now();
        Ok(Self {
            base,
            anchor: Mutex::new(Anchor {
                real,
                business: start.unwrap_or(real),
                speed,
            }),
        })
    }

    /// Jumps to `to`, which must not be before now; the speed is kept.
    pub fn set(&self, to: Timestamp) -> Result<Timestamp, MoveError> {
        let mut anchor = self.lock();
        let real = self.base.now();
        let now = anchor.at(real);
        if to < now {
            return Err(MoveError::Backwards { now, to });
        }
        *anchor = Anchor {
            real,
            business: to,
            speed: anchor.speed,
        };
        Ok(to)
    }

    /// Moves forward by `by` (not negative); the speed is kept.
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, MoveError> {
        let mut anchor = self.lock();
        let real = self.base.now();
        let now = anchor.at(real);
        let to = now.checked_add(by).map_err(|_| MoveError::OutOfRange)?;
        if to < now {
            return Err(MoveError::Backwards { now, to });
        }
        *anchor = Anchor {
            real,
            business: to,
            speed: anchor.speed,
        };
        Ok(to)
    }

    /// Runs on from now at `speed`.
    pub fn set_speed(&self, speed: f64) -> Result<(), MoveError> {
        check_speed(speed)?;
        let mut anchor = self.lock();
        let real = self.base.now();
        *anchor = Anchor {
            real,
            business: anchor.at(real),
            speed,
        };
        Ok(())
    }

    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        // A poisoned lock only means a thread panicked while holding it; the anchor is whole.
        self.anchor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn check_speed(speed: f64) -> Result<(), MoveError> {
    if speed.is_finite() && speed >= 0.0 {
        Ok(())
    } else {
        Err(MoveError::Speed(speed))
    }
}

impl Anchor {
    fn at(&self, real: Timestamp) -> Timestamp {
        let elapsed = real.duration_since(self.real).as_micros();
        // Clock time, not money: a float is exact enough (a year at speed 3600 is ~1e17 µs).
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let scaled = (elapsed as f64 * self.speed) as i64;
        let at = self
            .business
            .checked_add(SignedDuration::from_micros(scaled))
            .unwrap_or(self.business);
        // To the microsecond, as the system clock (storage keeps microseconds).
        Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Timestamp {
        let real = self.base.now();
        self.lock().at(real)
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

    fn movable_on(start: i64, speed: f64) -> (Arc<ManualClock>, MovableClock) {
        let real = Arc::new(ManualClock::new(
            Timestamp::from_second(1_800_000_000).expect("valid"),
        ));
        let business = MovableClock::new(
            real.clone(),
            Some(Timestamp::from_second(start).expect("valid")),
            speed,
        )
        .expect("a valid speed");
        (real, business)
    }

    #[test]
    fn a_movable_clock_runs_at_its_speed_from_its_start() {
        let (real, business) = movable_on(1_700_000_000, 60.0);
        assert_eq!(business.now().as_second(), 1_700_000_000);
        real.advance(SignedDuration::from_secs(10));
        assert_eq!(business.now().as_second(), 1_700_000_000 + 600);
        business.set_speed(0.0).expect("stopped is a speed");
        real.advance(SignedDuration::from_hours(1));
        assert_eq!(business.now().as_second(), 1_700_000_000 + 600);
    }

    #[test]
    fn a_movable_clock_advances_and_jumps_but_never_goes_back() {
        let (real, business) = movable_on(1_700_000_000, 1.0);
        let to = business
            .advance(SignedDuration::from_hours(24 * 31))
            .expect("forward");
        assert_eq!(to.as_second(), 1_700_000_000 + 31 * 86_400);
        real.advance(SignedDuration::from_secs(5));
        assert_eq!(business.now().as_second(), 1_700_000_000 + 31 * 86_400 + 5);
        let back = Timestamp::from_second(1_700_000_000).expect("valid");
        assert!(matches!(
            business.set(back),
            Err(MoveError::Backwards { .. })
        ));
        assert!(business.advance(SignedDuration::from_secs(-1)).is_err());
        let later = Timestamp::from_second(1_800_000_000).expect("valid");
        assert_eq!(business.set(later), Ok(later));
        assert_eq!(business.now(), later);
        assert!(business.set_speed(f64::NAN).is_err());
        assert!(business.set_speed(-1.0).is_err());
    }

    #[test]
    fn a_movable_clock_is_shared_between_threads() {
        let (_real, business) = movable_on(1_700_000_000, 0.0);
        let business = Arc::new(business);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let business = business.clone();
                std::thread::spawn(move || {
                    business
                        .advance(SignedDuration::from_hours(1))
                        .expect("forward");
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("no panic");
        }
        assert_eq!(business.now().as_second(), 1_700_000_000 + 8 * 3600);
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
