//! What the engine is given: the account, the customer's situation and the bank's settings.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::OptionsError;
use crate::rate::AnnualRate;

/// The option kinds of `PlanOptionKind`, in proto order (the last ranking tiebreak).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OptionKind {
    /// Contractual payment plus a share of the arrears.
    CatchUp,
    /// Lower payment with interest and fees frozen.
    ReducedPayment,
    /// Longer term, re-amortised annuity.
    TermExtension,
    PaymentHoliday,
    InterestFeeFreeze,
    Settlement,
    /// Token payment with a debt-advice referral and a review date.
    TokenPayment,
    BreathingSpace,
}

impl OptionKind {
    pub const ALL: [Self; 8] = [
        Self::CatchUp,
        Self::ReducedPayment,
        Self::TermExtension,
        Self::PaymentHoliday,
        Self::InterestFeeFreeze,
        Self::Settlement,
        Self::TokenPayment,
        Self::BreathingSpace,
    ];

    /// The option in plain words with its article, for sentences ("an interest and fee freeze").
    pub fn named(self) -> &'static str {
        match self {
            Self::CatchUp => "a catch-up plan",
            Self::ReducedPayment => "a reduced payment with interest and fees frozen",
            Self::TermExtension => "a longer term",
            Self::PaymentHoliday => "a payment holiday",
            Self::InterestFeeFreeze => "an interest and fee freeze",
            Self::Settlement => "a settlement",
            Self::TokenPayment => "a token payment with free debt advice",
            Self::BreathingSpace => "a breathing space",
        }
    }

    /// Holding options pause things while advice is sought; the others resolve the debt.
    pub(super) fn is_holding(self) -> bool {
        matches!(self, Self::TokenPayment | Self::BreathingSpace)
    }

    pub(super) fn proto_order(self) -> usize {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Self::ALL.len())
    }
}

/// What the bank knows about the account, in its one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTerms {
    /// Outstanding balance, > 0 (arrears included).
    pub balance: i64,
    /// Missed contractual payments, 0 ≤ arrears ≤ balance.
    pub arrears: i64,
    /// Contractual monthly payment, > 0.
    pub contractual_payment: i64,
    pub rate: AnnualRate,
    /// 0 = revolving or open-ended (then `OptionsConfig::revolving_term_months` is used).
    pub remaining_term_months: u32,
    /// Arrears and default fees that would accrue each month without a plan, ≥ 0.
    pub fees_monthly: i64,
}

/// The customer's situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// From the latest affordability assessment; `None` = no statement yet. May be negative.
    pub disposable_income: Option<i64>,
    /// A breathing space, mental-health crisis, dispute or vulnerability hold is in force.
    pub protected: bool,
    /// The case already records a referral to a free debt-advice service.
    pub has_debt_advice_referral: bool,
    /// A standard breathing space started in the last 12 months (DESIGN.md: one per 12 months).
    pub breathing_space_used_in_last_12_months: bool,
    /// In the customer's time zone.
    pub today: Date,
    /// The customer's chosen payday, day of month 1–31 (clamped to short months by `schedule`).
    pub payday: i8,
}

/// Probability (0–1) that a customer completes each kind of plan, for expected recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionLikelihood {
    pub catch_up: Decimal,
    pub reduced_payment: Decimal,
    pub term_extension: Decimal,
    pub payment_holiday: Decimal,
    pub interest_fee_freeze: Decimal,
    pub settlement: Decimal,
    pub token_payment: Decimal,
    pub breathing_space: Decimal,
}

impl CompletionLikelihood {
    pub fn of(&self, kind: OptionKind) -> Decimal {
        match kind {
            OptionKind::CatchUp => self.catch_up,
            OptionKind::ReducedPayment => self.reduced_payment,
            OptionKind::TermExtension => self.term_extension,
            OptionKind::PaymentHoliday => self.payment_holiday,
            OptionKind::InterestFeeFreeze => self.interest_fee_freeze,
            OptionKind::Settlement => self.settlement,
            OptionKind::TokenPayment => self.token_payment,
            OptionKind::BreathingSpace => self.breathing_space,
        }
    }
}

impl Default for CompletionLikelihood {
    /// Illustrative starting points; calibrate from `GetRecoveryReport`'s plan survival.
    fn default() -> Self {
        Self {
            catch_up: Decimal::new(55, 2),
            reduced_payment: Decimal::new(70, 2),
            term_extension: Decimal::new(80, 2),
            payment_holiday: Decimal::new(65, 2),
            interest_fee_freeze: Decimal::new(75, 2),
            settlement: Decimal::new(90, 2),
            token_payment: Decimal::new(50, 2),
            breathing_space: Decimal::new(60, 2),
        }
    }
}

/// Tunable numbers (configurable per jurisdiction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsConfig {
    /// Share of the balance recovered if the debt is written off or sold (0–1).
    pub write_off_recovery_rate: Decimal,
    pub completion_likelihood: CompletionLikelihood,
    /// Arrears are spread over this many months (fewer only when the loan ends sooner).
    pub max_catch_up_months: u32,
    /// The term used for a revolving or open-ended account (`remaining_term_months == 0`).
    pub revolving_term_months: u32,
    /// How far beyond the remaining (or revolving) term a plan may run.
    pub max_extension_months: u32,
    /// No plan runs longer than this, unless the remaining term already does.
    pub max_term_months: u32,
    /// Months without payments in a payment holiday.
    pub holiday_months: u32,
    /// Share of the balance forgiven by a settlement (0 ≤ d < 1).
    pub settlement_discount: Decimal,
    /// The token monthly payment, minor units (e.g. 100 = £1.00).
    pub token_amount: i64,
    /// A token payment is reviewed this many days after today.
    pub review_after_days: u32,
    /// A standard breathing space lasts this many days.
    pub breathing_space_days: u32,
}

impl Default for OptionsConfig {
    fn default() -> Self {
        Self {
            write_off_recovery_rate: Decimal::new(10, 2),
            completion_likelihood: CompletionLikelihood::default(),
            max_catch_up_months: 12,
            revolving_term_months: 60,
            max_extension_months: 60,
            max_term_months: 480,
            holiday_months: 3,
            settlement_discount: Decimal::new(30, 2),
            token_amount: 100,
            review_after_days: 90,
            breathing_space_days: 60,
        }
    }
}

impl OptionsConfig {
    /// Checks every number; the error names the bad key.
    pub fn validate(&self) -> Result<(), OptionsError> {
        let unit = |value: Decimal| value >= Decimal::ZERO && value <= Decimal::ONE;
        let invalid = |field, reason| Err(OptionsError::InvalidConfig { field, reason });
        if !unit(self.write_off_recovery_rate) {
            return invalid("write_off_recovery_rate", "must be between 0 and 1");
        }
        for kind in OptionKind::ALL {
            if !unit(self.completion_likelihood.of(kind)) {
                return invalid(
                    "completion_likelihood",
                    "each likelihood must be between 0 and 1",
                );
            }
        }
        if self.settlement_discount < Decimal::ZERO || self.settlement_discount >= Decimal::ONE {
            return invalid("settlement_discount", "must be at least 0 and below 1");
        }
        if !(1..=120).contains(&self.max_catch_up_months) {
            return invalid("max_catch_up_months", "must be between 1 and 120");
        }
        if !(1..=1200).contains(&self.max_term_months) {
            return invalid("max_term_months", "must be between 1 and 1200");
        }
        if !(1..=self.max_term_months).contains(&self.revolving_term_months) {
            return invalid(
                "revolving_term_months",
                "must be between 1 and max_term_months",
            );
        }
        if self.max_extension_months > 1200 {
            return invalid("max_extension_months", "must be at most 1200");
        }
        if !(1..=24).contains(&self.holiday_months) {
            return invalid("holiday_months", "must be between 1 and 24");
        }
        if self.token_amount < 0 {
            return invalid("token_amount", "must not be negative");
        }
        if !(1..=3650).contains(&self.review_after_days) {
            return invalid("review_after_days", "must be between 1 and 3650");
        }
        if !(1..=3650).contains(&self.breathing_space_days) {
            return invalid("breathing_space_days", "must be between 1 and 3650");
        }
        Ok(())
    }
}
