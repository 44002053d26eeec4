//! Velocity: more referrals in a rolling 24 hours than a person plausibly makes.

use super::{Finding, Signal};

/// The velocity window: a rolling 24 hours, so a burst straddling midnight is still one burst and
/// no time zone is needed.
pub const VELOCITY_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Default limit on referrals per referrer per day (configurable per jurisdiction).
pub const DEFAULT_MAX_REFERRALS_PER_DAY: u32 = 5;

/// Velocity: more than `max_per_day` of this referrer's referrals in the 24 hours up to `now`
/// (`now − 24h < t ≤ now`, unix seconds; include the referral being made) → Strong. Times after
/// `now` are not counted, so evaluating "as of" a past moment sees only what had happened.
pub fn velocity(referral_times: &[i64], now: i64, max_per_day: u32) -> Option<Finding> {
    let since = now.saturating_sub(VELOCITY_WINDOW_SECONDS);
    let in_window: Vec<i64> = referral_times
        .iter()
        .copied()
        .filter(|&t| t > since && t <= now)
        .collect();
    let count = in_window.len();
    if count as u64 <= u64::from(max_per_day) {
        return None;
    }
    let first = in_window.iter().min().copied().unwrap_or(now);
    let last = in_window.iter().max().copied().unwrap_or(now);
    Some(Finding::new(
        Signal::Velocity,
        format!(
            "{count} referrals by this referrer in the last 24 hours; the limit is {max_per_day} a day."
        ),
        vec![
            ("referrals_in_window".to_owned(), count.to_string()),
            ("max_per_day".to_owned(), max_per_day.to_string()),
            (
                "window_hours".to_owned(),
                (VELOCITY_WINDOW_SECONDS / 3600).to_string(),
            ),
            ("first_in_window_unix".to_owned(), first.to_string()),
            ("last_in_window_unix".to_owned(), last.to_string()),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fraud::Severity;

    // ------------------------------------------------------------ velocity

    const NOW: i64 = 1_760_000_000;
    const HOUR: i64 = 3600;

    #[test]
    fn velocity_at_the_limit_is_fine_and_one_more_is_flagged() {
        let five: Vec<i64> = (0..5).map(|i| NOW - i * HOUR).collect();
        assert_eq!(
            velocity(&five, NOW, 5),
            None,
            "5 in 24 hours is within a limit of 5"
        );

        let mut six = five.clone();
        six.push(NOW - 23 * HOUR);
        let finding = velocity(&six, NOW, 5).expect("6 in 24 hours");
        assert_eq!(
            (finding.signal, finding.severity),
            (Signal::Velocity, Severity::Strong)
        );
        assert_eq!(finding.evidence("referrals_in_window"), Some("6"));
        assert_eq!(finding.evidence("max_per_day"), Some("5"));
    }

    #[test]
    fn velocity_counts_a_rolling_24_hours_up_to_now() {
        let mut times: Vec<i64> = (0..5).map(|i| NOW - i * HOUR).collect();
        times.push(NOW - 24 * HOUR); // exactly a day ago: outside
        times.push(NOW - 30 * HOUR);
        times.push(NOW + 60); // after "now": not yet happened
        assert_eq!(velocity(&times, NOW, 5), None);
        times.push(NOW - 24 * HOUR + 1); // just inside
        assert!(velocity(&times, NOW, 5).is_some());
        assert!(
            velocity(&[i64::MIN + 1, i64::MIN + 2], i64::MIN + 2, 1).is_some(),
            "no overflow at the edges"
        );
        assert!(velocity(&[i64::MAX], i64::MAX, 0).is_some());
    }
}
