//! The recovery report: does helping first pay? Amount recovered against what writing the debts
//! off would have recovered, how many accounts were cured, how long plans survive, and whether
//! customers in vulnerable circumstances fare as well as others.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::plans::v1::PlanStatus;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::account::Account;
use super::plan::Plan;

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

#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub accounts: u32,
    pub recovered: i64,
    pub expected_write_off_recovery: i64,
    pub delinquent: u32,
    pub cured: u32,
    pub plans_started: u32,
    pub plans_completed: u32,
    pub plans_broken: u32,
    pub survival: Vec<Survival>,
}

impl Cohort {
    pub fn cure_rate(&self) -> f64 {
        ratio(self.cured, self.delinquent)
    }
}

pub fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

/// One account's facts for the period.
#[derive(Debug, Clone)]
pub struct AccountFacts<'a> {
    pub account: &'a Account,
    /// Received in the period (billing-reported and on plans).
    pub recovered: i64,
}

/// Builds a cohort from its accounts and their plans, for [start, end).
pub fn cohort(
    accounts: &[AccountFacts<'_>],
    plans: &[&Plan],
    start: Timestamp,
    end: Timestamp,
    write_off_rate: Decimal,
) -> Cohort {
    let delinquent: Vec<&AccountFacts<'_>> = accounts
        .iter()
        .filter(|f| {
            f.account.ever_delinquent && f.account.became_delinquent_at.is_some_and(|at| at < end)
        })
        .collect();
    let cured = delinquent
        .iter()
        .filter(|f| {
            f.account.days_past_due == 0
                && f.account.cured_at.is_some_and(|at| at >= start && at < end)
        })
        .count();
    // What writing off the delinquent balances would have brought in: the configured share of
    // what was owed (today's balance plus what was recovered in the period).
    let owed: i64 = delinquent
        .iter()
        .map(|f| f.account.balance.saturating_add(f.recovered))
        .sum();
    let expected = (Decimal::from(owed) * write_off_rate)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven);
    let started: Vec<&&Plan> = plans
        .iter()
        .filter(|p| p.accepted_at >= start && p.accepted_at < end)
        .collect();
    Cohort {
        accounts: count(accounts.len()),
        recovered: accounts.iter().map(|f| f.recovered).sum(),
        expected_write_off_recovery: expected.to_i64().unwrap_or(i64::MAX),
        delinquent: count(delinquent.len()),
        cured: count(cured),
        plans_started: count(started.len()),
        plans_completed: count(
            started
                .iter()
                .filter(|p| p.status == PlanStatus::Completed)
                .count(),
        ),
        plans_broken: count(
            started
                .iter()
                .filter(|p| p.status == PlanStatus::Broken)
                .count(),
        ),
        survival: SURVIVAL_MONTHS
            .iter()
            .map(|m| survival(plans, *m, end))
            .collect(),
    }
}

/// Of the plans old enough to be measured at `months` by `as_of`, how many had not been broken
/// or cancelled by then (completed and re-planned ones count as surviving).
pub fn survival(plans: &[&Plan], months: u32, as_of: Timestamp) -> Survival {
    let mut measured = 0;
    let mut surviving = 0;
    for plan in plans {
        let Some(mark) = plan
            .accepted_at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(jiff::Span::new().months(i64::from(months)))
            .ok()
            .map(|z| z.timestamp())
        else {
            continue;
        };
        if mark > as_of {
            continue;
        }
        measured += 1;
        let failed_by_mark = matches!(plan.status, PlanStatus::Broken | PlanStatus::Cancelled)
            && plan.ended_at.is_some_and(|at| at <= mark);
        if !failed_by_mark {
            surviving += 1;
        }
    }
    Survival {
        months,
        measured,
        surviving,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether a customer is in the vulnerable cohort.
pub fn is_vulnerable(customer: Id, vulnerable: &[Id]) -> bool {
    vulnerable.contains(&customer)
}
