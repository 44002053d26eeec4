//! The recovery report: does helping first pay? Amount recovered against what writing the debts
//! off would have recovered, how many accounts were cured, how long plans survive, and whether
//! customers in vulnerable circumstances fare as well as others.
//!
//! Definitions (issue 19; the schema comments in reporting_service.proto):
//! - the report's accounts are those delinquent in the period: became delinquent before its end
//!   and not cured before its start;
//! - recovered: money received on them in the period, after they became delinquent;
//! - cured: back to current within the period; cure rate = cured ÷ accounts;
//! - expected write-off recovery: the balances when they became delinquent × the configured
//!   recovery rate, rounded half-even to the minor unit;
//! - plan survival at m months: of the plans started in the period on these accounts that are
//!   m months old by the report's time, the share not broken or cancelled by then.

use jiff::Timestamp;
use rapport_proto::plans::v1::PlanStatus;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Months after acceptance at which plan survival is measured.
pub const SURVIVAL_MONTHS: [u32; 3] = [3, 6, 12];

#[derive(Debug, Clone, PartialEq)]
pub struct Survival {
    pub months: u32,
    pub measured: u32,
    pub surviving: u32,
}

impl Survival {
    pub fn rate(&self) -> f64 {
        ratio(self.surviving, self.measured)
    }
}

/// One account's part in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOutcome {
    pub baseline: i64,
    pub cured: bool,
    pub recovered: i64,
}

/// A plan started in the period, as survival sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOutcome {
    pub status: PlanStatus,
    pub accepted_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// Outcomes of a group of accounts, added up one account and plan at a time (the report
/// streams pages of accounts through it).
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub accounts: u32,
    pub cured: u32,
    /// Wide, so adding a million balances cannot overflow before the answer is checked.
    pub recovered: i128,
    pub baseline: i128,
    pub plans_started: u32,
    pub plans_completed: u32,
    pub plans_broken: u32,
    pub survival: Vec<Survival>,
}

impl Default for Cohort {
    fn default() -> Self {
        Self {
            accounts: 0,
            cured: 0,
            recovered: 0,
            baseline: 0,
            plans_started: 0,
            plans_completed: 0,
            plans_broken: 0,
            survival: SURVIVAL_MONTHS
                .iter()
                .map(|&months| Survival {
                    months,
                    measured: 0,
                    surviving: 0,
                })
                .collect(),
        }
    }
}

impl Cohort {
    pub fn add_account(&mut self, a: &AccountOutcome) {
        self.accounts = self.accounts.saturating_add(1);
        self.cured = self.cured.saturating_add(u32::from(a.cured));
        self.recovered += i128::from(a.recovered);
        self.baseline += i128::from(a.baseline);
    }

    /// Adds a plan started in the period; survival is measured as of `now`.
    pub fn add_plan(&mut self, p: &PlanOutcome, now: Timestamp) {
        self.plans_started = self.plans_started.saturating_add(1);
        self.plans_completed = self
            .plans_completed
            .saturating_add(u32::from(p.status == PlanStatus::Completed));
        self.plans_broken = self
            .plans_broken
            .saturating_add(u32::from(p.status == PlanStatus::Broken));
        for s in &mut self.survival {
            let Some(mark) = p
                .accepted_at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(jiff::Span::new().months(i64::from(s.months)))
                .ok()
                .map(|z| z.timestamp())
            else {
                continue;
            };
            if mark > now {
                continue;
            }
            s.measured += 1;
            // Completed and re-planned (superseded) plans survive; broken or cancelled by the
            // mark do not.
            let failed = matches!(p.status, PlanStatus::Broken | PlanStatus::Cancelled)
                && p.ended_at.is_some_and(|at| at <= mark);
            s.surviving += u32::from(!failed);
        }
    }

    /// Both groups together.
    pub fn merged(&self, other: &Cohort) -> Cohort {
        Cohort {
            accounts: self.accounts.saturating_add(other.accounts),
            cured: self.cured.saturating_add(other.cured),
            recovered: self.recovered + other.recovered,
            baseline: self.baseline + other.baseline,
            plans_started: self.plans_started.saturating_add(other.plans_started),
            plans_completed: self.plans_completed.saturating_add(other.plans_completed),
            plans_broken: self.plans_broken.saturating_add(other.plans_broken),
            survival: self
                .survival
                .iter()
                .zip(&other.survival)
                .map(|(a, b)| Survival {
                    months: a.months,
                    measured: a.measured + b.measured,
                    surviving: a.surviving + b.surviving,
                })
                .collect(),
        }
    }

    /// cured ÷ accounts; 0 when there are none.
    pub fn cure_rate(&self) -> f64 {
        ratio(self.cured, self.accounts)
    }

    pub fn recovered_minor(&self) -> i64 {
        saturate(self.recovered)
    }

    /// The baseline × the write-off recovery rate, half-even to the minor unit.
    pub fn expected_write_off_recovery(&self, rate: Decimal) -> i64 {
        let baseline = Decimal::from_i128_with_scale(self.baseline, 0);
        baseline
            .checked_mul(rate)
            .map(|x| {
                x.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven)
            })
            .and_then(|x| x.to_i64())
            .unwrap_or(i64::MAX)
    }
}

fn saturate(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

pub fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a valid instant")
    }

    #[test]
    fn cure_rate_is_cured_over_accounts_and_write_off_rounds_half_even() {
        let mut c = Cohort::default();
        for (baseline, cured) in [(1_005, true), (2_000, false), (3_000, false)] {
            c.add_account(&AccountOutcome {
                baseline,
                cured,
                recovered: 10,
            });
        }
        assert!((c.cure_rate() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.recovered_minor(), 30);
        // 6 005 × 0.10 = 600.5 → 600 (half-even)
        assert_eq!(c.expected_write_off_recovery(Decimal::new(10, 2)), 600);
    }

    #[test]
    fn survival_counts_only_plans_old_enough_and_failed_by_the_mark() {
        let mut c = Cohort::default();
        let now = at("2026-12-01T00:00:00Z");
        // Accepted 1 Feb: 3 and 6 months measured (1 May, 1 Aug), 12 not (1 Feb 2027).
        c.add_plan(
            &PlanOutcome {
                status: PlanStatus::Broken,
                accepted_at: at("2026-02-01T00:00:00Z"),
                ended_at: Some(at("2026-06-01T00:00:00Z")),
            },
            now,
        );
        let s: Vec<_> = c
            .survival
            .iter()
            .map(|s| (s.measured, s.surviving))
            .collect();
        // Broken 1 Jun: survived 3 months, not 6.
        assert_eq!(s, vec![(1, 1), (1, 0), (0, 0)]);
    }
}
