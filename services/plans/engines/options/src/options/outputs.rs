//! What the engine answers: the offered options, the excluded ones with their reasons, and its errors.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::OptionKind;
use crate::affordability::Explanation;
use crate::amortisation::ScheduleError;
use crate::schedule::Installment;

/// What happens to what is still owed when an option's schedule ends (`AfterPlan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPlan {
    /// Nothing remains: the schedule pays the debt off.
    PaidOff,
    /// Up to date again, the customer is back on the contractual payment (catch-up).
    ContractResumes,
    /// Agreed with the customer, and their debt adviser, at the review date (token payment,
    /// breathing space); interest and fees stay frozen until then.
    Review,
    /// Forgiven once the schedule is paid (a settlement's discount).
    Forgiven,
}

/// One offered option (`PlanOption`), ready to be read to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOption {
    pub kind: OptionKind,
    /// 1 = first choice.
    pub rank: u32,
    /// The regular payment: the first installment (the last may differ by the rounding
    /// remainder); 0 when there is no schedule. Every installment is affordable, not only this.
    pub monthly_amount: i64,
    /// Number of installments (`schedule.len()`); the payment-free months of a holiday are in
    /// `payment_free_months`, not here.
    pub months: u32,
    pub schedule: Vec<Installment>,
    /// Exactly the sum of `schedule`.
    pub total_payable: i64,
    /// Still owed when the schedule ends: its last closing balance, or the balance when there is
    /// no schedule. 0 exactly when the option pays the debt off.
    pub remaining_balance: i64,
    /// What happens to `remaining_balance`; `PaidOff` when it is 0.
    pub after_plan: AfterPlan,
    pub interest_waived: i64,
    pub fees_waived: i64,
    /// `disposable − monthly_amount`; `None` without a statement; floored at 0 for an option
    /// that asks for nothing when the disposable income is negative (the shortfall belongs to
    /// the affordability assessment, not to an option that asks for nothing).
    pub headroom: Option<i64>,
    pub expected_recovery: i64,
    pub write_off_baseline: i64,
    /// Probability used for `expected_recovery`.
    pub completion_likelihood: Decimal,
    /// Nominal annual rate the schedule charges (zero when interest is frozen).
    pub annual_rate: Decimal,
    /// Months with no payment before the schedule starts (payment holiday), else 0.
    pub payment_free_months: u32,
    pub first_payment_date: Option<Date>,
    /// Token payment, payment holiday, breathing space: when to look again with the customer.
    pub review_date: Option<Date>,
    pub requires_debt_advice_referral: bool,
    pub summary: String,
    /// Why offered and why ranked here.
    pub reasons: Vec<Explanation>,
}

impl PlanOption {
    /// `expected_recovery − write_off_baseline` (proto `recovery_advantage`); may be negative.
    pub fn recovery_advantage(&self) -> i64 {
        self.expected_recovery
            .saturating_sub(self.write_off_baseline)
    }
}

/// An option considered but not offered (`ExcludedOption`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub kind: OptionKind,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Ranked, rank 1 first; never empty.
    pub offered: Vec<PlanOption>,
    /// In `OptionKind` order.
    pub excluded: Vec<Excluded>,
    /// `round_half_even(balance × write_off_recovery_rate)`.
    pub write_off_baseline: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("account terms: {field} {reason}")]
    InvalidTerms {
        field: &'static str,
        reason: &'static str,
    },
    #[error("situation: {field} {reason}")]
    InvalidSituation {
        field: &'static str,
        reason: &'static str,
    },
    #[error("options config: {field} {reason}")]
    InvalidConfig {
        field: &'static str,
        reason: &'static str,
    },
    #[error("amounts too large to compute {0}")]
    Overflow(&'static str),
    #[error("date out of range while computing {0}")]
    DateOutOfRange(&'static str),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

/// Renders minor units with a decimal point after `exponent` digits and thousands separators:
/// `plain_money_formatter(2)(123456)` is `"1,234.56"`, `plain_money_formatter(0)(5000)` is
/// `"5,000"`. No currency symbol: callers that want one wrap it.
pub fn plain_money_formatter(exponent: u32) -> impl Fn(i64) -> String {
    move |minor: i64| {
        let digits = minor.unsigned_abs().to_string();
        let exponent = exponent as usize;
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        let (whole, fraction) = padded.split_at(padded.len() - exponent);
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (index, digit) in whole.chars().enumerate() {
            if index > 0 && (whole.len() - index) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if minor < 0 { "-" } else { "" };
        if fraction.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{fraction}")
        }
    }
}
