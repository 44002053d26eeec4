//! `GetPlanOptions`' engine: every forbearance option that applies to one account, each with its
//! schedule preview, what it costs and saves, its expected recovery against writing the debt off,
//! a summary an agent can read aloud, and its reasons; plus every option considered but not
//! offered, and why.
//!
//! Sources (DESIGN.md "Affordability and options"):
//! - FCA CONC 7.3.4R: treat customers in default or arrears with forbearance and due
//!   consideration.
//! - FCA CONC 7.3.5G: forbearance includes suspending, reducing, waiving or cancelling further
//!   interest and charges, deferring arrears, and accepting token payments.
//! - EU CCD2 (Directive (EU) 2023/2225) art. 35: forbearance before enforcement — partial
//!   refinancing, modifying terms (extend the term, change the type, defer payments, change the
//!   rate, payment holiday), partial repayments, partial forgiveness.
//! - UK Standard Financial Statement: affordability is the disposable income of the statement.
//!
//! Invariants (tested, including by proptest, and against the independent reference
//! `amortisation_reference.py --options` in `options/reference_check.rs`):
//! - only affordable options are offered: every installment of every offered option is
//!   ≤ `max(disposable income, 0)` when a statement exists, so `monthly_amount` is too;
//! - every schedule sums exactly to its `total_payable`;
//! - every schedule is a true schedule (DESIGN.md "Money and time", for every kind, r = 0
//!   included): each row's interest is its opening balance × the rate in force, half-even (0
//!   while frozen), principal = amount − interest, closing = opening − principal, and the next
//!   row opens where this one closed; the first opening balance is what is owed (for a payment
//!   holiday, what is owed when payments resume); the last closing balance is
//!   `remaining_balance`, which is 0 exactly when the option pays the debt off and otherwise
//!   says, with `after_plan` and the summary, what remains and what happens to it;
//! - at least one option is always offered (a token payment with advice when nothing else fits);
//! - ranks are `1..=n` without gaps, and the same input always gives the same ranking.
//!
//! Money is `i64` minor units of the account's one currency; arithmetic is checked and overflow is
//! an error, never a panic. Summaries render money through the caller's `format_money`, so the
//! edge chooses the symbol, the exponent and the locale ([`plain_money_formatter`] is a simple
//! default).

use std::cmp::Reverse;

use jiff::Span;
use jiff::civil::Date;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::amortisation::{self, ScheduleError};
use crate::domain::rate::AnnualRate;
use crate::domain::schedule::{self, Installment};

const RULE_FORBEARANCE: &str = "FCA CONC 7.3.4R (forbearance and due consideration)";
const RULE_CATCH_UP: &str = "FCA CONC 7.3.4R; FCA CONC 7.3.5G (deferring arrears); EU CCD2 art. 35";
const RULE_FREEZE: &str = "FCA CONC 7.3.5G (suspend, reduce or waive interest and charges); \
     EU CCD2 art. 35 (change the rate)";
const RULE_EXTENSION: &str = "EU CCD2 art. 35 (extend the term, change the type); FCA CONC 7.3.4R";
const RULE_HOLIDAY: &str = "EU CCD2 art. 35 (payment holiday, defer payments); FCA CONC 7.3.4R";
const RULE_SETTLEMENT: &str = "EU CCD2 art. 35 (partial forgiveness); FCA CONC 7.3.4R";
const RULE_TOKEN: &str = "FCA CONC 7.3.5G (token payments, waiving interest and charges)";
const RULE_BREATHING_SPACE: &str = "Debt Respite Scheme (Breathing Space Moratorium and Mental \
     Health Crisis Moratorium) (England and Wales) Regulations 2020; FCA CONC 7.3.4R";
const RULE_AFFORDABLE: &str = "UK Standard Financial Statement; DESIGN.md: only affordable \
     options (monthly amount ≤ disposable income)";
const RULE_NO_PRESSURE: &str = "DESIGN.md: none pressures (no lump sums the customer does not \
     have, no shorter term than needed)";
const RULE_RANKING: &str = "DESIGN.md: ranked customer-first, then by expected recovery";
const RULE_RECOVERY: &str = "DESIGN.md: expected recovery compared with the write-off baseline";
const RULE_PROTECTION: &str =
    "DESIGN.md: while a protected state holds, no interest, fees or payment-demand contact";

// ---------------------------------------------------------------- inputs

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
    fn is_holding(self) -> bool {
        matches!(self, Self::TokenPayment | Self::BreathingSpace)
    }

    fn proto_order(self) -> usize {
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

// ---------------------------------------------------------------- outputs

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

// ---------------------------------------------------------------- the engine

/// Builds, checks and ranks every option for one account.
///
/// `format_money` renders minor units for the summaries and messages (the caller knows the
/// currency's exponent and symbol and the customer's locale).
///
/// Ranking ("customer-first, then expected recovery"), as a lexicographic key:
/// 1. **Tier.** When the customer has no statement yet, nothing left over (disposable ≤ 0), or a
///    protection in force, protection and advice come first: breathing space, then the token
///    payment, then any plan. Otherwise plans that resolve the debt come first and breathing
///    space after them.
/// 2. **Cost to the customer**, lowest first: the interest the customer pays. Frozen-interest
///    plans (reduced payment, freeze) cost 0; a term extension costs its schedule's interest, a
///    holiday that plus the interest of the break; a catch-up costs the contract's interest over
///    the remaining term (once up to date the customer is back on the contract); a settlement
///    costs minus its discount.
/// 3. **Monthly amount**, lowest first: more room in the budget.
/// 4. **Expected recovery**, highest first.
/// 5. **Proto order** of the kind, so the ranking is total and deterministic.
///
/// Which options are offered is documented on each builder in this file; in short: only
/// affordable ones (every installment ≤ disposable income), the token payment when nothing that
/// resolves the debt is affordable or there is no statement or a protection is in force (amount
/// 0 when disposable ≤ 0), breathing space unless already protected or used in the last 12
/// months.
///
/// # Errors
/// `InvalidTerms`, `InvalidSituation`, `InvalidConfig` name the bad field; `Overflow`,
/// `DateOutOfRange` and `Schedule` only for amounts or dates beyond what can be scheduled.
pub fn plan_options(
    terms: &AccountTerms,
    situation: &Situation,
    config: &OptionsConfig,
    format_money: &dyn Fn(i64) -> String,
) -> Result<Options, OptionsError> {
    config.validate()?;
    validate_terms(terms)?;
    validate_situation(situation)?;
    let engine = Engine::new(terms, situation, config, format_money)?;

    let mut drafts = Vec::new();
    let mut excluded = Vec::new();
    for kind in OptionKind::ALL {
        if kind.is_holding() {
            continue;
        }
        let outcome = match situation.disposable_income {
            None => Err(engine.needs_statement(kind)),
            Some(d) if d <= 0 => Err(engine.nothing_left_over(kind, d)),
            Some(d) => {
                let built = match kind {
                    OptionKind::CatchUp => engine.catch_up(d),
                    OptionKind::ReducedPayment => engine.reduced_payment(d),
                    OptionKind::TermExtension => engine.term_extension(d),
                    OptionKind::PaymentHoliday => engine.payment_holiday(d),
                    OptionKind::InterestFeeFreeze => engine.interest_fee_freeze(d),
                    OptionKind::Settlement => engine.settlement(d),
                    // Holding options need no affordability; they are decided below, once it
                    // is known whether anything else was affordable.
                    OptionKind::TokenPayment | OptionKind::BreathingSpace => continue,
                };
                match built {
                    // A tiny balance over a long term cannot be scheduled in whole minor units:
                    // that option does not apply, the others still do.
                    Err(OptionsError::Schedule(ScheduleError::TermTooLongForAmount { months })) => {
                        Err(engine.too_small_to_spread(kind, months))
                    }
                    other => other?,
                }
            }
        };
        keep(&mut drafts, &mut excluded, kind, outcome);
    }
    let resolving_offered = drafts.len();
    let token = engine.token_payment(resolving_offered)?;
    keep(&mut drafts, &mut excluded, OptionKind::TokenPayment, token);
    let breathing_space = engine.breathing_space()?;
    keep(
        &mut drafts,
        &mut excluded,
        OptionKind::BreathingSpace,
        breathing_space,
    );

    let offered = engine.rank(drafts);
    excluded.sort_by_key(|e| e.kind);
    Ok(Options {
        offered,
        excluded,
        write_off_baseline: engine.write_off_baseline,
    })
}

fn keep(
    drafts: &mut Vec<Draft>,
    excluded: &mut Vec<Excluded>,
    kind: OptionKind,
    outcome: Result<Draft, Explanation>,
) {
    match outcome {
        Ok(draft) => drafts.push(draft),
        Err(explanation) => excluded.push(Excluded { kind, explanation }),
    }
}

fn validate_terms(terms: &AccountTerms) -> Result<(), OptionsError> {
    let invalid = |field, reason| Err(OptionsError::InvalidTerms { field, reason });
    if terms.balance <= 0 {
        return invalid("balance", "must be positive");
    }
    if terms.arrears < 0 || terms.arrears > terms.balance {
        return invalid("arrears", "must be between 0 and the balance");
    }
    if terms.contractual_payment <= 0 {
        return invalid("contractual_payment", "must be positive");
    }
    if terms.fees_monthly < 0 {
        return invalid("fees_monthly", "must not be negative");
    }
    if terms.remaining_term_months > 1200 {
        return invalid("remaining_term_months", "must be at most 1200");
    }
    Ok(())
}

fn validate_situation(situation: &Situation) -> Result<(), OptionsError> {
    if !(1..=31).contains(&situation.payday) {
        return Err(OptionsError::InvalidSituation {
            field: "payday",
            reason: "must be a day of the month, 1 to 31",
        });
    }
    Ok(())
}

/// An offered option before ranking, with what the ranking needs.
struct Draft {
    option: PlanOption,
    /// Interest the customer pays in the plan (negative: a settlement's discount).
    cost_to_customer: i64,
}

/// Everything an option needs besides its schedule.
struct Shape {
    kind: OptionKind,
    schedule: Vec<Installment>,
    /// What happens to a remaining balance (ignored when the schedule pays the debt off).
    after_plan: AfterPlan,
    cost_to_customer: i64,
    interest_waived: i64,
    fees_waived: i64,
    annual_rate: Decimal,
    payment_free_months: u32,
    review_date: Option<Date>,
    requires_debt_advice_referral: bool,
}

struct Engine<'a> {
    terms: &'a AccountTerms,
    situation: &'a Situation,
    config: &'a OptionsConfig,
    money: &'a dyn Fn(i64) -> String,
    /// The remaining term, or the revolving term for a revolving account.
    base_term: u32,
    /// The longest plan: base + extension, at most `max_term_months` (never below base).
    cap_term: u32,
    /// Plans start on the first payday strictly after today: never a payment due the same day
    /// the customer agrees to it.
    first_after: Date,
    write_off_baseline: i64,
    /// The interest of the contractual annuity of the balance over the base term: what a
    /// frozen-interest plan waives.
    contract_interest: i64,
}

impl<'a> Engine<'a> {
    fn new(
        terms: &'a AccountTerms,
        situation: &'a Situation,
        config: &'a OptionsConfig,
        money: &'a dyn Fn(i64) -> String,
    ) -> Result<Self, OptionsError> {
        let base_term = if terms.remaining_term_months == 0 {
            config.revolving_term_months
        } else {
            terms.remaining_term_months
        };
        let cap_term = base_term
            .saturating_add(config.max_extension_months)
            .min(config.max_term_months)
            .max(base_term);
        let first_after = situation
            .today
            .tomorrow()
            .map_err(|_| OptionsError::DateOutOfRange("the first payment date"))?;
        let write_off_baseline = round_to_minor(
            Decimal::from(terms.balance)
                .checked_mul(config.write_off_recovery_rate)
                .ok_or(OptionsError::Overflow("the write-off baseline"))?,
            "the write-off baseline",
        )?;
        // A balance too small to amortise over the base term (the rounded payment would repay it
        // early) has no meaningful contractual interest to waive: count none.
        let contract_interest = match amortisation::amortise(terms.balance, &terms.rate, base_term)
        {
            Ok(lines) => amortisation::total_interest(&lines),
            Err(ScheduleError::TermTooLongForAmount { .. }) => 0,
            Err(other) => return Err(other.into()),
        };
        Ok(Self {
            terms,
            situation,
            config,
            money,
            base_term,
            cap_term,
            first_after,
            write_off_baseline,
            contract_interest,
        })
    }

    fn m(&self, minor: i64) -> String {
        (self.money)(minor)
    }

    fn fees_for(&self, months: u32) -> Result<i64, OptionsError> {
        self.terms
            .fees_monthly
            .checked_mul(i64::from(months))
            .ok_or(OptionsError::Overflow("fees waived"))
    }

    /// One month's interest on `balance` by DESIGN.md's convention (opening balance × r,
    /// half-even), from the amortisation module so the two always agree.
    fn month_interest(&self, balance: i64) -> Result<i64, OptionsError> {
        Ok(amortisation::monthly_interest(balance, &self.terms.rate)?)
    }

    /// Due dates for `amounts` on the customer's payday, the first strictly after today.
    fn on_paydays(&self, amounts: &[i64]) -> Result<Vec<(Date, i64)>, OptionsError> {
        let months = u32::try_from(amounts.len())
            .map_err(|_| OptionsError::Overflow("the number of months"))?;
        let dates = schedule::payday_dates(self.first_after, self.situation.payday, months)?;
        Ok(dates.into_iter().zip(amounts.iter().copied()).collect())
    }

    fn add_days(&self, days: u32, what: &'static str) -> Result<Date, OptionsError> {
        let span = Span::new()
            .try_days(i64::from(days))
            .map_err(|_| OptionsError::DateOutOfRange(what))?;
        self.situation
            .today
            .checked_add(span)
            .map_err(|_| OptionsError::DateOutOfRange(what))
    }

    // ------------------------------------------------------------ exclusions shared by kinds

    fn needs_statement(&self, kind: OptionKind) -> Explanation {
        Explanation::new(
            "NEEDS_STATEMENT",
            ReasonEffect::Opposes,
            RULE_AFFORDABLE,
            format!(
                "{} needs an income and expenditure statement first, so we can be sure it is \
                 affordable; completing one unlocks it.",
                capitalise(kind.named())
            ),
        )
    }

    fn nothing_left_over(&self, kind: OptionKind, disposable: i64) -> Explanation {
        Explanation::new(
            "NO_DISPOSABLE_INCOME",
            ReasonEffect::Opposes,
            RULE_AFFORDABLE,
            format!(
                "There is no money left over each month, so we will not ask for {}.",
                kind.named()
            ),
        )
        .param("disposable_income", disposable)
    }

    fn too_small_to_spread(&self, kind: OptionKind, months: u32) -> Explanation {
        Explanation::new(
            "BALANCE_TOO_SMALL_TO_SPREAD",
            ReasonEffect::Opposes,
            RULE_NO_PRESSURE,
            format!(
                "{} would spread a balance of {} over {}, which is too small to divide into \
                 monthly payments; a shorter option suits better.",
                capitalise(kind.named()),
                self.m(self.terms.balance),
                months_phrase(months)
            ),
        )
        .param("balance", self.terms.balance)
        .param("months", months)
    }

    fn not_affordable(
        &self,
        code: &'static str,
        what: String,
        monthly: i64,
        disposable: i64,
    ) -> Explanation {
        Explanation::new(
            code,
            ReasonEffect::Opposes,
            RULE_AFFORDABLE,
            format!(
                "{what} would cost {} a month, more than the {} left over.",
                self.m(monthly),
                self.m(disposable)
            ),
        )
        .param("monthly_amount", monthly)
        .param("disposable_income", disposable)
    }

    // ------------------------------------------------------------ the options

    /// Catch-up: the contractual payment plus the arrears spread over `max_catch_up_months`
    /// (the longest allowed, so the smallest monthly; fewer months only when the loan ends
    /// sooner): `n` payments sharing `contractual payment × n + arrears` by DESIGN.md's
    /// convention at r = 0 (the level part half-even, the last absorbing the remainder).
    /// Interest keeps running at the contract rate on what is really owed, so each row's interest
    /// follows the catch-up's own payments. A payment that would clear the balance is cut to what
    /// is owed and ends the plan; a plan that ends with the loan's term ends with what is owed
    /// (the convention's last installment). Otherwise what remains once the arrears are cleared
    /// goes back to the contractual payment. Arrears fees stop while it is kept.
    /// CONC 7.3.4R, CONC 7.3.5G (deferring arrears), CCD2 art. 35.
    fn catch_up(&self, disposable: i64) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::CatchUp;
        let (arrears, contractual) = (self.terms.arrears, self.terms.contractual_payment);
        if arrears == 0 {
            return Ok(Err(Explanation::new(
                "NO_ARREARS",
                ReasonEffect::Opposes,
                RULE_CATCH_UP,
                "There are no arrears to catch up.",
            )));
        }
        let months = self.config.max_catch_up_months.min(self.base_term);
        let total = contractual
            .checked_mul(i64::from(months))
            .and_then(|t| t.checked_add(arrears))
            .ok_or(OptionsError::Overflow("the catch-up total"))?;
        let payments: Vec<(Date, i64)> =
            schedule::equal_installments(total, months, self.first_after, self.situation.payday)?
                .iter()
                .map(|i| (i.due_date, i.amount))
                .collect();
        let ends_with_term = self.terms.remaining_term_months == months;
        let installments = match schedule::paid_installments(
            self.terms.balance,
            &self.terms.rate,
            &payments,
            ends_with_term,
        ) {
            Ok(installments) => installments,
            Err(ScheduleError::PaymentDoesNotCoverInterest {
                month,
                payment,
                interest,
            }) => {
                return Ok(Err(Explanation::new(
                    "CATCH_UP_DOES_NOT_COVER_INTEREST",
                    ReasonEffect::Opposes,
                    RULE_CATCH_UP,
                    format!(
                        "A catch-up payment of {} would not cover the {} of interest in month \
                         {month}, so the balance would grow; a reduced payment or a longer term \
                         suits better.",
                        self.m(payment),
                        self.m(interest)
                    ),
                )
                .param("payment", payment)
                .param("interest", interest)
                .param("month", month)));
            }
            Err(other) => return Err(other.into()),
        };
        if largest(&installments) > disposable {
            return Ok(Err(self
                .not_affordable(
                    "CATCH_UP_NOT_AFFORDABLE",
                    format!(
                        "Clearing the arrears of {} over {}",
                        self.m(arrears),
                        months_phrase(months)
                    ),
                    first_amount(&installments),
                    disposable,
                )
                .param("months", months)));
        }
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let plan_months = u32::try_from(installments.len())
            .map_err(|_| OptionsError::Overflow("the number of months"))?;
        let remaining = remaining_after(&installments, self.terms.balance);
        let mut reasons = vec![
            Explanation::new(
                "CATCH_UP_ARREARS_SPREAD",
                ReasonEffect::Supports,
                RULE_CATCH_UP,
                format!(
                    "The arrears of {} are spread over {}, the longest catch-up allowed, so the \
                     monthly amount is as low as it can be.",
                    self.m(arrears),
                    months_phrase(months)
                ),
            )
            .param("arrears", arrears)
            .param("months", months)
            .param("contractual_payment", contractual),
        ];
        let summary = if remaining == 0 {
            format!(
                "Pay {} a month for {} and the balance is cleared, arrears included; no arrears \
                 fees are added while you keep to it.{}",
                self.m(monthly),
                months_phrase(plan_months),
                self.last_note(monthly, last)
            )
        } else {
            // The term cannot end inside the plan: a plan as long as the term clears the debt.
            let after = if self.terms.remaining_term_months == 0 {
                format!(
                    "your contractual payment of {} a month resumes",
                    self.m(contractual)
                )
            } else {
                format!(
                    "your contractual payment of {} a month resumes for the {} left of your term",
                    self.m(contractual),
                    months_phrase(self.terms.remaining_term_months - months)
                )
            };
            reasons.push(
                Explanation::new(
                    "AFTER_THE_PLAN",
                    ReasonEffect::Neutral,
                    RULE_CATCH_UP,
                    format!(
                        "Once the arrears are cleared, {} is still owed and {after}.",
                        self.m(remaining)
                    ),
                )
                .param("remaining_balance", remaining)
                .param("contractual_payment", contractual),
            );
            format!(
                "Pay {} a month for {} and you will be up to date; no arrears fees are added \
                 while you keep to it.{} Then {} is still owed, and {after}.",
                self.m(monthly),
                months_phrase(plan_months),
                self.last_note(monthly, last),
                self.m(remaining)
            )
        };
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::ContractResumes,
                // Once up to date the customer is back on the contract, so what the catch-up
                // costs them is the contract's interest over the remaining term.
                cost_to_customer: self.contract_interest,
                interest_waived: 0,
                fees_waived: self.fees_for(plan_months)?,
                annual_rate: self.terms.rate.as_decimal(),
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }

    /// Reduced payment: the whole balance, interest and fees frozen, by DESIGN.md's convention at
    /// r = 0 (`balance / months` half-even, the last absorbing the remainder) over the remaining
    /// term (the revolving term for a card); when that is more than the customer has left over,
    /// over the fewest longer months (up to the cap) whose installments all fit.
    /// CONC 7.3.5G (waive interest and charges), CCD2 art. 35 (change the rate, extend the term).
    fn reduced_payment(&self, disposable: i64) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::ReducedPayment;
        let balance = self.terms.balance;
        let needed = u32::try_from(div_ceil(balance, disposable)).unwrap_or(u32::MAX);
        let mut months = self.base_term.max(needed);
        let installments = loop {
            if months > self.cap_term {
                return Ok(Err(self
                    .not_affordable(
                        "REDUCED_PAYMENT_NOT_AFFORDABLE",
                        format!(
                            "Even with interest frozen, spreading the balance over {}",
                            months_phrase(self.cap_term)
                        ),
                        amortisation::level_payment(balance, &AnnualRate::zero(), self.cap_term)?,
                        disposable,
                    )
                    .param("max_months", self.cap_term)));
            }
            let candidate = schedule::equal_installments(
                balance,
                months,
                self.first_after,
                self.situation.payday,
            )?;
            if largest(&candidate) <= disposable {
                break candidate;
            }
            months += 1;
        };
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let summary = format!(
            "Pay {} a month for {} and the balance is cleared; we freeze interest and fees, so \
             you pay {} in total and no more.{}",
            self.m(monthly),
            months_phrase(months),
            self.m(balance),
            self.last_note(monthly, last)
        );
        let mut reasons = vec![
            Explanation::new(
                "INTEREST_AND_FEES_FROZEN",
                ReasonEffect::Supports,
                RULE_FREEZE,
                format!(
                    "{} waived; the balance is spread over {}.",
                    self.waived_phrase(self.contract_interest, self.fees_for(months)?),
                    months_phrase(months)
                ),
            )
            .param("months", months)
            .param("base_term_months", self.base_term),
        ];
        if months > self.base_term {
            reasons.push(
                Explanation::new(
                    "TERM_LENGTHENED_TO_FIT",
                    ReasonEffect::Neutral,
                    RULE_NO_PRESSURE,
                    format!(
                        "Over {} the payment would be more than the customer has left over, so \
                         the plan runs for the fewest months that fit.",
                        months_phrase(self.base_term)
                    ),
                )
                .param("base_term_months", self.base_term)
                .param("months", months),
            );
        }
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: 0,
                interest_waived: self.contract_interest,
                fees_waived: self.fees_for(months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }

    /// Term extension: the balance (arrears included) re-amortised at the contract rate over the
    /// shortest term longer than the remaining one whose payments are affordable, up to the cap.
    /// The shortest affordable term keeps the interest as low as it can be. It is a real
    /// extension or nothing: when the remaining term already fits the budget, or the longer term
    /// would not lower the payment below the contractual one, it is not offered (DESIGN.md: no
    /// longer term than needed; a plan that only adds interest does not help). CCD2 art. 35
    /// (extend the term; for a revolving account, change the type), CONC 7.3.4R.
    fn term_extension(&self, disposable: i64) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::TermExtension;
        let (balance, rate) = (self.terms.balance, &self.terms.rate);
        let at_cap = amortisation::level_payment(balance, rate, self.cap_term)?;
        if at_cap > disposable {
            return Ok(Err(self
                .not_affordable(
                    "TERM_EXTENSION_NOT_AFFORDABLE",
                    format!("Even {}", months_phrase(self.cap_term)),
                    at_cap,
                    disposable,
                )
                .param("max_months", self.cap_term)));
        }
        // The level payment does not rise with the term: binary search the shortest that fits.
        let (mut low, mut high) = (self.base_term, self.cap_term);
        while low < high {
            let mid = low + (high - low) / 2;
            if amortisation::level_payment(balance, rate, mid)? <= disposable {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if low == self.base_term {
            let fits = amortisation::level_payment(balance, rate, self.base_term)?;
            return Ok(Err(Explanation::new(
                "TERM_EXTENSION_NOT_NEEDED",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "Over the {} left the balance, arrears included, would cost {} a month, which \
                     already fits the budget, so a longer term would only add interest.",
                    months_phrase(self.base_term),
                    self.m(fits)
                ),
            )
            .param("base_term_months", self.base_term)
            .param("monthly_amount", fits)));
        }
        // The last installment absorbs the rounding remainder and may be a little larger.
        let mut months = low;
        let installments = loop {
            let candidate = schedule::annuity_installments(
                balance,
                rate,
                months,
                self.first_after,
                self.situation.payday,
            )?;
            if largest(&candidate) <= disposable {
                break candidate;
            }
            if months >= self.cap_term {
                return Ok(Err(self
                    .not_affordable(
                        "TERM_EXTENSION_NOT_AFFORDABLE",
                        format!("Even {}", months_phrase(self.cap_term)),
                        largest(&candidate),
                        disposable,
                    )
                    .param("max_months", self.cap_term)));
            }
            months += 1;
        };
        let monthly = first_amount(&installments);
        let contractual = self.terms.contractual_payment;
        if monthly >= contractual {
            return Ok(Err(Explanation::new(
                "TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "Over {} the payment would be {}, no lower than the contractual {}, so a \
                     longer term would only add interest.",
                    months_phrase(months),
                    self.m(monthly),
                    self.m(contractual)
                ),
            )
            .param("months", months)
            .param("monthly_amount", monthly)
            .param("contractual_payment", contractual)));
        }
        let interest = sum_interest(&installments)?;
        let last = last_amount(&installments);
        let summary = format!(
            "Your payment becomes {} a month, down from {}, by spreading the balance over {} \
             instead of {}. Interest still applies, so you pay {} in total.{}",
            self.m(monthly),
            self.m(contractual),
            months_phrase(months),
            months_phrase(self.base_term),
            self.m(sum_amounts(&installments)?),
            self.last_note(monthly, last)
        );
        let reason = Explanation::new(
            "TERM_RE_AMORTISED",
            ReasonEffect::Supports,
            RULE_EXTENSION,
            format!(
                "The balance is re-amortised over {}, the shortest term beyond the {} left whose \
                 payments fit the budget, which keeps the interest as low as it can be.",
                months_phrase(months),
                months_phrase(self.base_term)
            ),
        )
        .param("months", months)
        .param("base_term_months", self.base_term)
        .param("annual_rate", self.terms.rate.as_decimal())
        .param("interest", interest);
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: interest,
                interest_waived: 0,
                fees_waived: self.fees_for(months)?,
                annual_rate: self.terms.rate.as_decimal(),
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            vec![reason],
        )
        .map(Ok)
    }

    /// Payment holiday: `holiday_months` without payments, then the balance plus the interest
    /// of the break re-amortised over the remaining (or revolving) term, which therefore ends
    /// that much later. Interest keeps building during the break (monthly, compounding, by the
    /// amortisation convention) unless a protection is in force, which freezes it. Fees stop.
    /// A bridge for a temporary shock. CCD2 art. 35 (payment holiday, defer payments).
    fn payment_holiday(&self, disposable: i64) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::PaymentHoliday;
        let holiday = self.config.holiday_months;
        let mut balance = self.terms.balance;
        let mut holiday_interest = 0_i64;
        if !self.situation.protected {
            for _ in 0..holiday {
                let interest = self.month_interest(balance)?;
                holiday_interest = holiday_interest
                    .checked_add(interest)
                    .ok_or(OptionsError::Overflow("holiday interest"))?;
                balance = balance
                    .checked_add(interest)
                    .ok_or(OptionsError::Overflow("holiday interest"))?;
            }
        }
        let holiday_end = self
            .situation
            .today
            .checked_add(Span::new().months(i64::from(holiday)))
            .map_err(|_| OptionsError::DateOutOfRange("the end of the payment holiday"))?;
        let resume_after = holiday_end
            .tomorrow()
            .map_err(|_| OptionsError::DateOutOfRange("the end of the payment holiday"))?;
        let months = self.base_term;
        let installments = schedule::annuity_installments(
            balance,
            &self.terms.rate,
            months,
            resume_after,
            self.situation.payday,
        )?;
        if largest(&installments) > disposable {
            return Ok(Err(self
                .not_affordable(
                    "PAYMENT_HOLIDAY_NOT_AFFORDABLE",
                    format!("After a {}-month break, the payment", holiday),
                    largest(&installments),
                    disposable,
                )
                .param("holiday_months", holiday)));
        }
        let interest = sum_interest(&installments)?
            .checked_add(holiday_interest)
            .ok_or(OptionsError::Overflow("holiday interest"))?;
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let interest_note = if self.situation.protected {
            "no interest builds during the break because your account is protected".to_owned()
        } else if holiday_interest == 0 {
            "no interest builds during the break".to_owned()
        } else {
            format!(
                "interest of {} builds during the break",
                self.m(holiday_interest)
            )
        };
        let summary = format!(
            "Pay nothing for {} while you get back on your feet, then {} a month for {}. This is \
             a bridge for a short-term setback; {interest_note}.{}",
            months_phrase(holiday),
            self.m(monthly),
            months_phrase(months),
            self.last_note(monthly, last)
        );
        let reasons =
            vec![
            Explanation::new(
                "PAYMENT_HOLIDAY_BRIDGE",
                ReasonEffect::Supports,
                RULE_HOLIDAY,
                format!(
                    "Payments pause for {} and then restart at an amount that fits today's \
                     budget; suited to a temporary setback such as illness or a gap between jobs.",
                    months_phrase(holiday)
                ),
            )
            .param("holiday_months", holiday)
            .param("months_after_holiday", months),
            Explanation::new(
                "HOLIDAY_INTEREST",
                ReasonEffect::Neutral,
                if self.situation.protected { RULE_PROTECTION } else { RULE_HOLIDAY },
                if self.situation.protected {
                    "A protection is in force, so no interest builds during the break.".to_owned()
                } else {
                    format!(
                        "Interest of {} builds during the break and is spread over the payments \
                         that follow.",
                        self.m(holiday_interest)
                    )
                },
            )
            .param("holiday_interest", holiday_interest)
            .param("protected", self.situation.protected),
        ];
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: interest,
                interest_waived: 0,
                fees_waived: self.fees_for(holiday.saturating_add(months))?,
                annual_rate: self.terms.rate.as_decimal(),
                payment_free_months: holiday,
                review_date: Some(holiday_end),
                requires_debt_advice_referral: false,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }

    /// Interest and fee freeze: the customer keeps paying the contractual amount and all of it
    /// goes to the balance; the last payment is whatever is left. CONC 7.3.5G.
    fn interest_fee_freeze(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::InterestFeeFreeze;
        let (balance, payment) = (
            self.terms.balance,
            self.terms.contractual_payment.min(self.terms.balance),
        );
        if payment > disposable {
            return Ok(Err(self.not_affordable(
                "INTEREST_FEE_FREEZE_NOT_AFFORDABLE",
                "Keeping the contractual payment".to_owned(),
                payment,
                disposable,
            )));
        }
        let months = div_ceil(balance, payment);
        let months = match u32::try_from(months) {
            Ok(months) if months <= self.cap_term => months,
            _ => {
                return Ok(Err(Explanation::new(
                    "INTEREST_FEE_FREEZE_TOO_LONG",
                    ReasonEffect::Opposes,
                    RULE_FREEZE,
                    format!(
                        "At {} a month the balance would take more than {} to clear; a reduced \
                         payment or a longer term suits better.",
                        self.m(payment),
                        months_phrase(self.cap_term)
                    ),
                )
                .param("months", months)
                .param("max_months", self.cap_term)));
            }
        };
        // The contractual payment each month, the last what is left: it pays the balance off.
        let amounts: Vec<i64> = (1..=i64::from(months))
            .map(|month| payment.min(balance - payment * (month - 1)))
            .collect();
        let payments = self.on_paydays(&amounts)?;
        let installments =
            schedule::paid_installments(balance, &AnnualRate::zero(), &payments, false)?;
        let last = last_amount(&installments);
        let summary = format!(
            "Keep paying {} a month and all of it goes to the balance: we freeze interest and \
             fees, and you are clear in {}.{}",
            self.m(payment),
            months_phrase(months),
            self.last_note(payment, last)
        );
        let reason = Explanation::new(
            "INTEREST_AND_FEES_FROZEN",
            ReasonEffect::Supports,
            RULE_FREEZE,
            format!(
                "{} waived; the contractual payment clears the balance in {}.",
                self.waived_phrase(self.contract_interest, self.fees_for(months)?),
                months_phrase(months)
            ),
        )
        .param("months", months)
        .param("contractual_payment", payment);
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: 0,
                interest_waived: self.contract_interest,
                fees_waived: self.fees_for(months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            vec![reason],
        )
        .map(Ok)
    }

    /// Settlement: one payment of `balance × (1 − discount)` (half-even, at least one minor
    /// unit), offered only when that lump sum fits in one month's disposable income — never a
    /// lump sum the customer does not have. CCD2 art. 35 (partial forgiveness).
    fn settlement(&self, disposable: i64) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::Settlement;
        let balance = self.terms.balance;
        let share = Decimal::ONE - self.config.settlement_discount;
        let lump = round_to_minor(
            Decimal::from(balance)
                .checked_mul(share)
                .ok_or(OptionsError::Overflow("the settlement amount"))?,
            "the settlement amount",
        )?
        .clamp(1, balance);
        let discount = balance - lump;
        if lump > disposable {
            return Ok(Err(Explanation::new(
                "SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "A one-off payment of {} is more than the {} left over in a month, and we \
                     never ask for money the customer does not have.",
                    self.m(lump),
                    self.m(disposable)
                ),
            )
            .param("settlement_amount", lump)
            .param("disposable_income", disposable)));
        }
        // One payment against the whole balance; what it leaves is the discount, forgiven.
        let payment = self.on_paydays(&[lump])?;
        let installments =
            schedule::paid_installments(balance, &AnnualRate::zero(), &payment, false)?;
        let due = installments.first().map(|i| i.due_date);
        let forgiven = if discount == 0 {
            String::new()
        } else {
            format!(
                " The remaining {} is forgiven once it arrives.",
                self.m(discount)
            )
        };
        let summary = format!(
            "Pay {} once{} and the account is settled: that is {} less than the {} you \
             owe.{forgiven}",
            self.m(lump),
            due.map(|d| format!(", on {},", long_date(d)))
                .unwrap_or_default(),
            self.m(discount),
            self.m(balance)
        );
        let reason = Explanation::new(
            "SETTLEMENT_DISCOUNT",
            ReasonEffect::Supports,
            RULE_SETTLEMENT,
            format!(
                "A one-off payment of {} fits within this month's {} left over; {} of the \
                 balance is forgiven.",
                self.m(lump),
                self.m(disposable),
                self.m(discount)
            ),
        )
        .param("settlement_amount", lump)
        .param("discount", discount)
        .param("discount_rate", self.config.settlement_discount);
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::Forgiven,
                cost_to_customer: -discount,
                interest_waived: 0,
                fees_waived: 0,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            vec![reason],
        )
        .map(Ok)
    }

    /// Token payment with free debt advice and a review date: offered whenever nothing that
    /// resolves the debt is affordable, when there is no statement yet, or when a protection is
    /// in force; otherwise excluded (a plan the customer can afford serves them better).
    ///
    /// Amount: `token_amount` without a statement; `min(token_amount, disposable)` when
    /// something is left over; **0 when disposable ≤ 0** ("pay nothing now; we will review with
    /// your adviser"). Payments fall on the paydays after today up to the review date
    /// (`today + review_after_days`); interest and fees are frozen until then. CONC 7.3.5G.
    fn token_payment(
        &self,
        resolving_offered: usize,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::TokenPayment;
        let disposable = self.situation.disposable_income;
        let needed =
            disposable.is_none_or(|d| d <= 0) || self.situation.protected || resolving_offered == 0;
        if !needed {
            return Ok(Err(Explanation::new(
                "TOKEN_PAYMENT_NOT_NEEDED",
                ReasonEffect::Opposes,
                RULE_TOKEN,
                "A token payment is for when nothing else is affordable; the customer can afford \
                 a plan that clears the debt.",
            )
            .param("affordable_plans", resolving_offered)));
        }
        let amount = match disposable {
            None => self.config.token_amount,
            Some(d) if d <= 0 => 0,
            Some(d) => self.config.token_amount.min(d),
        };
        let review = self.add_days(self.config.review_after_days, "the review date")?;
        let mut payments = Vec::new();
        if amount > 0 {
            // Paydays at least 28 days apart: this many reach past the review date.
            let bound = self.config.review_after_days / 28 + 1;
            let dates = schedule::payday_dates(self.first_after, self.situation.payday, bound)?;
            payments.extend(
                dates
                    .into_iter()
                    .filter(|d| *d <= review)
                    .map(|d| (d, amount)),
            );
        }
        // Interest and fees are frozen until the review; a payment that would clear a tiny
        // balance is cut to it and is the last.
        let installments =
            schedule::paid_installments(self.terms.balance, &AnnualRate::zero(), &payments, false)?;
        let remaining = remaining_after(&installments, self.terms.balance);
        let hold_months = self.config.review_after_days / 30;
        let interest_waived = self
            .month_interest(self.terms.balance)?
            .checked_mul(i64::from(hold_months))
            .ok_or(OptionsError::Overflow("interest waived"))?;
        let review_on = long_date(review);
        let summary = match (
            installments.first(),
            self.situation.has_debt_advice_referral,
        ) {
            (None, true) => format!(
                "Pay nothing now: we freeze interest and fees and will review things with you and \
                 your debt adviser on {review_on}."
            ),
            (None, false) => format!(
                "Pay nothing now: we put you in touch with free debt advice, freeze interest and \
                 fees, and will review things with you on {review_on}."
            ),
            (Some(first), true) => format!(
                "Pay {} a month for now while your debt adviser helps you; we freeze interest and \
                 fees and will review things with you on {review_on}.",
                self.m(first.amount)
            ),
            (Some(first), false) => format!(
                "Pay {} a month for now and we put you in touch with free debt advice; we freeze \
                 interest and fees and will review things with you on {review_on}.",
                self.m(first.amount)
            ),
        };
        let rest = if remaining == 0 {
            " These payments clear the balance.".to_owned()
        } else if installments.is_empty() {
            format!(
                " The {} you owe stays as it is until then, and at the review we agree together \
                 what happens to it.",
                self.m(remaining)
            )
        } else {
            format!(
                " After these payments {} is still owed; it stays as it is until the review, \
                 where we agree together what happens to it.",
                self.m(remaining)
            )
        };
        let summary = summary + &rest;
        let mut reasons = vec![
            Explanation::new(
                "TOKEN_PAYMENT_WITH_ADVICE",
                ReasonEffect::Supports,
                RULE_TOKEN,
                "A small payment, or none, keeps things steady while free debt advice looks at \
                 the whole picture; interest and fees are frozen until the review.",
            )
            .param("token_amount", amount)
            .param("review_date", review)
            .param("review_after_days", self.config.review_after_days),
            self.advice_reason(),
        ];
        reasons.extend(self.holding_context());
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::Review,
                cost_to_customer: 0,
                interest_waived,
                fees_waived: self.fees_for(hold_months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: Some(review),
                requires_debt_advice_referral: true,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }

    /// Breathing space: pause interest, fees and payment requests for `breathing_space_days`
    /// while the customer gets debt advice; no schedule. Excluded when a protection is already
    /// in force or a standard breathing space was used in the last 12 months (DESIGN.md).
    fn breathing_space(&self) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::BreathingSpace;
        if self.situation.protected {
            return Ok(Err(Explanation::new(
                "ALREADY_PROTECTED",
                ReasonEffect::Opposes,
                RULE_PROTECTION,
                "A protection is already in force, so interest, fees and payment requests are \
                 already paused.",
            )));
        }
        if self.situation.breathing_space_used_in_last_12_months {
            return Ok(Err(Explanation::new(
                "BREATHING_SPACE_USED_IN_LAST_12_MONTHS",
                ReasonEffect::Opposes,
                RULE_BREATHING_SPACE,
                "A standard breathing space was already used in the last 12 months; free debt \
                 advice is still available, and a mental-health crisis breathing space has no \
                 such limit.",
            )));
        }
        let days = self.config.breathing_space_days;
        let ends = self.add_days(days, "the end of the breathing space")?;
        let hold_months = days / 30;
        let interest_waived = self
            .month_interest(self.terms.balance)?
            .checked_mul(i64::from(hold_months))
            .ok_or(OptionsError::Overflow("interest waived"))?;
        let summary = format!(
            "We pause interest, fees and payment requests for {days} days while you get free \
             debt advice; there is nothing to pay during that time, and we will look at things \
             together again by {}. The {} you owe stays as it is, and then we agree together \
             what happens to it.",
            long_date(ends),
            self.m(self.terms.balance)
        );
        let mut reasons = vec![
            Explanation::new(
                "BREATHING_SPACE_PAUSE",
                ReasonEffect::Supports,
                RULE_BREATHING_SPACE,
                "Everything pauses while a debt adviser helps: no interest, no fees and no \
                 requests for payment.",
            )
            .param("days", days)
            .param("ends", ends),
            self.advice_reason(),
        ];
        reasons.extend(self.holding_context());
        self.draft(
            Shape {
                kind,
                schedule: Vec::new(),
                after_plan: AfterPlan::Review,
                cost_to_customer: 0,
                interest_waived,
                fees_waived: self.fees_for(hold_months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: Some(ends),
                requires_debt_advice_referral: true,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }

    fn advice_reason(&self) -> Explanation {
        if self.situation.has_debt_advice_referral {
            Explanation::new(
                "DEBT_ADVICE_ALREADY_REFERRED",
                ReasonEffect::Neutral,
                RULE_FORBEARANCE,
                "The customer already has a referral to free debt advice; the review includes the \
                 adviser.",
            )
        } else {
            Explanation::new(
                "DEBT_ADVICE_REFERRAL_INCLUDED",
                ReasonEffect::Supports,
                RULE_FORBEARANCE,
                "Choosing this includes a referral to a free debt-advice service.",
            )
        }
    }

    /// Why a holding option is on the table: no statement yet, or a protection in force.
    fn holding_context(&self) -> Vec<Explanation> {
        let mut reasons = Vec::new();
        if self.situation.disposable_income.is_none() {
            reasons.push(Explanation::new(
                "STATEMENT_UNLOCKS_MORE_OPTIONS",
                ReasonEffect::Neutral,
                RULE_AFFORDABLE,
                "There is no income and expenditure statement yet. Completing one lets us offer \
                 plans that fit the customer's budget, such as a reduced payment or a longer term.",
            ));
        }
        if self.situation.protected {
            reasons.push(Explanation::new(
                "PROTECTION_IN_FORCE",
                ReasonEffect::Neutral,
                RULE_PROTECTION,
                "A protection is in force: no interest or fees are added and we do not ask for \
                 payment until it ends. The customer may still choose to pay.",
            ));
        }
        reasons
    }

    // ------------------------------------------------------------ shared assembly

    /// "Interest of £1.00 and fees of £2.00 are" / "Interest of £1.00 is" / "Nothing is".
    fn waived_phrase(&self, interest: i64, fees: i64) -> String {
        match (interest, fees) {
            (0, 0) => "No interest or fees would have been charged, so nothing is".to_owned(),
            (i, 0) => format!("Interest of {} is", self.m(i)),
            (0, f) => format!("Fees of {} are", self.m(f)),
            (i, f) => format!("Interest of {} and fees of {} are", self.m(i), self.m(f)),
        }
    }

    fn last_note(&self, monthly: i64, last: i64) -> String {
        if last == monthly {
            String::new()
        } else {
            format!(" The last payment is {}.", self.m(last))
        }
    }

    /// Fills the fields every option shares: totals, headroom, recovery, likelihood, reasons.
    fn draft(
        &self,
        shape: Shape,
        summary: String,
        mut reasons: Vec<Explanation>,
    ) -> Result<Draft, OptionsError> {
        let kind = shape.kind;
        let total_payable = sum_amounts(&shape.schedule)?;
        let remaining_balance = remaining_after(&shape.schedule, self.terms.balance);
        let after_plan = if remaining_balance == 0 {
            AfterPlan::PaidOff
        } else {
            shape.after_plan
        };
        let monthly_amount = first_amount(&shape.schedule);
        let months = u32::try_from(shape.schedule.len())
            .map_err(|_| OptionsError::Overflow("the number of months"))?;
        let headroom = self.situation.disposable_income.map(|d| {
            let left = d.saturating_sub(monthly_amount);
            if monthly_amount == 0 {
                left.max(0)
            } else {
                left
            }
        });
        if remaining_balance > 0 && !reasons.iter().any(|r| r.code == "AFTER_THE_PLAN") {
            let owed = self.m(remaining_balance);
            let message = match (after_plan, shape.review_date) {
                (AfterPlan::Forgiven, _) => {
                    format!("The remaining {owed} is forgiven once the payment arrives.")
                }
                (AfterPlan::Review, Some(review)) => format!(
                    "{owed} is still owed when this ends; it stays as it is, without interest or \
                     fees, until the review on {}, where what happens to it is agreed with the \
                     customer.",
                    long_date(review)
                ),
                _ => format!("{owed} is still owed when this ends."),
            };
            reasons.push(
                Explanation::new(
                    "AFTER_THE_PLAN",
                    ReasonEffect::Neutral,
                    RULE_FORBEARANCE,
                    message,
                )
                .param("remaining_balance", remaining_balance),
            );
        }
        let likelihood = self.config.completion_likelihood.of(kind);
        let expected_recovery =
            self.expected_recovery(total_payable, shape.cost_to_customer, likelihood)?;

        if let (Some(d), Some(h)) = (self.situation.disposable_income, headroom) {
            let message = if monthly_amount == 0 {
                "It asks for no payment now.".to_owned()
            } else {
                format!(
                    "It fits within the {} left over each month, leaving {}.",
                    self.m(d),
                    self.m(h)
                )
            };
            reasons.push(
                Explanation::new(
                    "AFFORDABLE",
                    ReasonEffect::Supports,
                    RULE_AFFORDABLE,
                    message,
                )
                .param("disposable_income", d)
                .param("monthly_amount", monthly_amount)
                .param("headroom", h),
            );
        }
        reasons.push(
            Explanation::new(
                "EXPECTED_RECOVERY",
                ReasonEffect::Neutral,
                RULE_RECOVERY,
                format!(
                    "Expected to recover {} (a {}% chance of completing, weighted), against {} if \
                     the debt were written off.",
                    self.m(expected_recovery),
                    (likelihood * Decimal::ONE_HUNDRED).normalize(),
                    self.m(self.write_off_baseline)
                ),
            )
            .param("expected_recovery", expected_recovery)
            .param("write_off_baseline", self.write_off_baseline)
            .param("completion_likelihood", likelihood)
            .param(
                "write_off_recovery_rate",
                self.config.write_off_recovery_rate,
            ),
        );

        let option = PlanOption {
            kind,
            rank: 0,
            monthly_amount,
            months,
            first_payment_date: shape.schedule.first().map(|i| i.due_date),
            schedule: shape.schedule,
            total_payable,
            remaining_balance,
            after_plan,
            interest_waived: shape.interest_waived,
            fees_waived: shape.fees_waived,
            headroom,
            expected_recovery,
            write_off_baseline: self.write_off_baseline,
            completion_likelihood: likelihood,
            annual_rate: shape.annual_rate,
            payment_free_months: shape.payment_free_months,
            review_date: shape.review_date,
            requires_debt_advice_referral: shape.requires_debt_advice_referral,
            summary,
            reasons,
        };
        Ok(Draft {
            option,
            cost_to_customer: shape.cost_to_customer,
        })
    }

    /// `min(total, balance + interest payable) × likelihood + balance × recovery rate ×
    /// (1 − likelihood)`, half-even to the minor unit: the plan's payments if it completes, the
    /// write-off recovery on the balance if it does not. Only the option's own schedule counts
    /// (a conservative figure for catch-up, token payment and breathing space, whose value lies
    /// in what follows them).
    fn expected_recovery(
        &self,
        total_payable: i64,
        cost_to_customer: i64,
        likelihood: Decimal,
    ) -> Result<i64, OptionsError> {
        let overflow = || OptionsError::Overflow("expected recovery");
        let cap = self
            .terms
            .balance
            .checked_add(cost_to_customer.max(0))
            .ok_or_else(overflow)?;
        let paid = Decimal::from(total_payable.min(cap));
        let if_completed = paid.checked_mul(likelihood).ok_or_else(overflow)?;
        let if_not = Decimal::from(self.terms.balance)
            .checked_mul(self.config.write_off_recovery_rate)
            .and_then(|v| v.checked_mul(Decimal::ONE - likelihood))
            .ok_or_else(overflow)?;
        round_to_minor(
            if_completed.checked_add(if_not).ok_or_else(overflow)?,
            "expected recovery",
        )
    }

    /// Sorts by the key documented on [`plan_options`] and numbers the ranks from 1.
    fn rank(&self, mut drafts: Vec<Draft>) -> Vec<PlanOption> {
        let protection_first =
            self.situation.disposable_income.is_none_or(|d| d <= 0) || self.situation.protected;
        let tier = |kind: OptionKind| match (kind, protection_first) {
            (OptionKind::BreathingSpace, true) => 0,
            (OptionKind::TokenPayment, true) => 1,
            (_, true) => 2,
            (OptionKind::BreathingSpace, false) => 1,
            (OptionKind::TokenPayment, false) => 2,
            (_, false) => 0,
        };
        drafts.sort_by_key(|d| {
            (
                tier(d.option.kind),
                d.cost_to_customer,
                d.option.monthly_amount,
                Reverse(d.option.expected_recovery),
                d.option.kind.proto_order(),
            )
        });
        let count = drafts.len();
        let mut offered = Vec::with_capacity(count);
        for (rank, draft) in (1_u32..).zip(drafts) {
            let mut option = draft.option;
            option.rank = rank;
            option.reasons.push(self.rank_reason(
                &option,
                draft.cost_to_customer,
                count,
                protection_first,
            ));
            offered.push(option);
        }
        offered
    }

    fn rank_reason(
        &self,
        option: &PlanOption,
        cost: i64,
        count: usize,
        protection_first: bool,
    ) -> Explanation {
        let why = if option.kind.is_holding() {
            if protection_first {
                match (self.situation.disposable_income, self.situation.protected) {
                    (_, true) => {
                        "with a protection in force, protection and free advice come first"
                    }
                    (None, _) => "without a statement yet, protection and free advice come first",
                    _ => "with nothing left over each month, protection and free advice come first",
                }
                .to_owned()
            } else {
                "plans that clear the debt and cost the customer least come first; this one \
                 pauses things while the customer gets advice"
                    .to_owned()
            }
        } else if cost < 0 {
            format!(
                "options that cost the customer least come first; this one saves {}",
                self.m(-cost)
            )
        } else if cost == 0 {
            "options that cost the customer least come first; this one adds no interest".to_owned()
        } else {
            format!(
                "options that cost the customer least come first; this one adds {} in interest",
                self.m(cost)
            )
        };
        let ties = if option.kind.is_holding() {
            ""
        } else {
            "; ties go to the lower monthly payment, then the higher expected recovery"
        };
        Explanation::new(
            "RANKED_CUSTOMER_FIRST",
            ReasonEffect::Neutral,
            RULE_RANKING,
            format!("Ranked {} of {count}: {why}{ties}.", option.rank),
        )
        .param("rank", option.rank)
        .param("cost_to_customer", cost)
        .param("monthly_amount", option.monthly_amount)
        .param("expected_recovery", option.expected_recovery)
    }
}

// ---------------------------------------------------------------- small helpers

fn round_to_minor(value: Decimal, what: &'static str) -> Result<i64, OptionsError> {
    value
        .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
        .to_i64()
        .ok_or(OptionsError::Overflow(what))
}

/// `⌈a / b⌉` for `a ≥ 0`, `b > 0`.
fn div_ceil(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

/// What is still owed when `schedule` ends: its last closing balance, or `owed` without one.
fn remaining_after(schedule: &[Installment], owed: i64) -> i64 {
    schedule.last().map_or(owed, |i| i.closing_balance)
}

fn largest(schedule: &[Installment]) -> i64 {
    schedule.iter().map(|i| i.amount).max().unwrap_or(0)
}

fn first_amount(schedule: &[Installment]) -> i64 {
    schedule.first().map_or(0, |i| i.amount)
}

fn last_amount(schedule: &[Installment]) -> i64 {
    schedule.last().map_or(0, |i| i.amount)
}

fn sum_amounts(schedule: &[Installment]) -> Result<i64, OptionsError> {
    schedule
        .iter()
        .try_fold(0_i64, |t, i| t.checked_add(i.amount))
        .ok_or(OptionsError::Overflow("the total payable"))
}

fn sum_interest(schedule: &[Installment]) -> Result<i64, OptionsError> {
    schedule
        .iter()
        .try_fold(0_i64, |t, i| t.checked_add(i.interest))
        .ok_or(OptionsError::Overflow("the interest payable"))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn months_phrase(months: u32) -> String {
    if months == 1 {
        "1 month".to_owned()
    } else {
        format!("{months} months")
    }
}

/// "1 March 2025": unambiguous when read aloud.
fn long_date(date: Date) -> String {
    date.strftime("%-d %B %Y").to_string()
}

#[cfg(test)]
mod reference_check;

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    use OptionKind::{
        BreathingSpace, CatchUp, InterestFeeFreeze, PaymentHoliday, ReducedPayment, Settlement,
        TermExtension, TokenPayment,
    };

    fn rate(text: &str) -> AnnualRate {
        AnnualRate::parse(text).expect("valid rate")
    }

    fn pounds(minor: i64) -> String {
        format!("£{}", plain_money_formatter(2)(minor))
    }

    fn yen(minor: i64) -> String {
        format!("¥{}", plain_money_formatter(0)(minor))
    }

    fn terms(
        balance: i64,
        arrears: i64,
        contractual_payment: i64,
        annual_rate: &str,
        remaining_term_months: u32,
        fees_monthly: i64,
    ) -> AccountTerms {
        AccountTerms {
            balance,
            arrears,
            contractual_payment,
            rate: rate(annual_rate),
            remaining_term_months,
            fees_monthly,
        }
    }

    fn today() -> Date {
        date(2025, 3, 10)
    }

    fn situation(disposable_income: Option<i64>) -> Situation {
        Situation {
            disposable_income,
            protected: false,
            has_debt_advice_referral: false,
            breathing_space_used_in_last_12_months: false,
            today: today(),
            payday: 28,
        }
    }

    fn protected(disposable_income: Option<i64>) -> Situation {
        Situation {
            protected: true,
            ..situation(disposable_income)
        }
    }

    fn run(terms: &AccountTerms, situation: &Situation) -> Options {
        plan_options(terms, situation, &OptionsConfig::default(), &pounds).expect("valid input")
    }

    fn offered_kinds(options: &Options) -> Vec<OptionKind> {
        options.offered.iter().map(|o| o.kind).collect()
    }

    fn option(options: &Options, kind: OptionKind) -> &PlanOption {
        options
            .offered
            .iter()
            .find(|o| o.kind == kind)
            .expect("offered")
    }

    fn exclusion(options: &Options, kind: OptionKind) -> &Explanation {
        &options
            .excluded
            .iter()
            .find(|e| e.kind == kind)
            .expect("excluded")
            .explanation
    }

    /// The invariants the issue requires of every answer, checked for the reference cases and
    /// by proptest.
    fn check_invariants(terms: &AccountTerms, situation: &Situation, options: &Options) {
        assert!(!options.offered.is_empty(), "never nothing");
        let ranks: Vec<u32> = options.offered.iter().map(|o| o.rank).collect();
        let expected: Vec<u32> = (1..).take(options.offered.len()).collect();
        assert_eq!(ranks, expected, "ranks are 1..=n without gaps, in order");
        let mut all_kinds: Vec<OptionKind> = offered_kinds(options);
        all_kinds.extend(options.excluded.iter().map(|e| e.kind));
        all_kinds.sort();
        assert_eq!(
            all_kinds,
            OptionKind::ALL.to_vec(),
            "every kind offered or excluded once"
        );

        for o in &options.offered {
            let sum: i64 = o.schedule.iter().map(|i| i.amount).sum();
            assert_eq!(
                sum, o.total_payable,
                "{:?}: schedule sums to the total",
                o.kind
            );
            assert_eq!(schedule::schedule_total(&o.schedule), o.total_payable);
            assert_eq!(o.months as usize, o.schedule.len(), "{:?}", o.kind);
            assert_eq!(o.monthly_amount, first_amount(&o.schedule), "{:?}", o.kind);
            if let Some(d) = situation.disposable_income {
                let limit = d.max(0);
                assert!(
                    o.monthly_amount <= limit,
                    "{:?}: monthly ≤ disposable",
                    o.kind
                );
                for i in &o.schedule {
                    assert!(
                        i.amount <= limit,
                        "{:?}: every installment ≤ disposable",
                        o.kind
                    );
                }
                assert!(o.headroom.is_some_and(|h| h >= 0), "{:?}: headroom", o.kind);
            } else {
                assert_eq!(o.headroom, None);
                assert!(
                    o.kind.is_holding(),
                    "without a statement only holding options"
                );
            }
            for (index, i) in o.schedule.iter().enumerate() {
                assert_eq!(i.sequence as usize, index + 1);
                assert!(i.amount > 0 && i.principal >= 0 && i.interest >= 0);
                assert_eq!(i.principal + i.interest, i.amount);
                assert!(
                    i.due_date > situation.today,
                    "no payment due on the day it is agreed"
                );
            }
            assert!(o.schedule.windows(2).all(|w| w[0].due_date < w[1].due_date));
            assert_eq!(o.first_payment_date, o.schedule.first().map(|i| i.due_date));
            assert!(o.expected_recovery >= 0);
            assert_eq!(o.write_off_baseline, options.write_off_baseline);
            assert!(o.interest_waived >= 0 && o.fees_waived >= 0);
            assert!(!o.summary.is_empty());
            assert!(o.reasons.iter().any(|r| r.code == "RANKED_CUSTOMER_FIRST"));
            assert!(o.reasons.iter().any(|r| r.code == "EXPECTED_RECOVERY"));
            if o.kind.is_holding() {
                assert!(o.requires_debt_advice_referral && o.review_date.is_some());
            }
            check_true_schedule(terms, o);
            let principal: i64 = o.schedule.iter().map(|i| i.principal).sum();
            match o.kind {
                ReducedPayment | TermExtension | InterestFeeFreeze => {
                    assert_eq!(principal, terms.balance, "{:?} repays the balance", o.kind);
                    assert_eq!(o.remaining_balance, 0, "{:?} pays the debt off", o.kind);
                }
                // The break's interest is capitalised, so more than the balance is repaid.
                PaymentHoliday => {
                    assert!(principal >= terms.balance);
                    assert_eq!(o.remaining_balance, 0);
                }
                Settlement | TokenPayment | BreathingSpace => {
                    assert!(
                        o.total_payable <= terms.balance,
                        "{:?} asks for no more than is owed",
                        o.kind
                    );
                }
                CatchUp => {}
            }
        }
        for e in &options.excluded {
            assert_eq!(e.explanation.effect, ReasonEffect::Opposes);
            assert!(!e.explanation.message.is_empty());
        }
    }

    /// Every row of `o` is a true schedule's row (the invariant at the top of the file).
    fn check_true_schedule(terms: &AccountTerms, o: &PlanOption) {
        let kind = o.kind;
        let mut opening = match (o.schedule.first(), kind) {
            // Opens with what is owed when payments resume: the balance and the break's interest.
            (Some(first), PaymentHoliday) => {
                assert!(first.opening_balance >= terms.balance);
                first.opening_balance
            }
            _ => terms.balance,
        };
        for i in &o.schedule {
            assert_eq!(
                i.opening_balance, opening,
                "{kind:?} row {} opens",
                i.sequence
            );
            assert_eq!(
                i.principal + i.interest,
                i.amount,
                "{kind:?} row {}",
                i.sequence
            );
            assert_eq!(
                i.closing_balance,
                i.opening_balance - i.principal,
                "{kind:?} row {} closes",
                i.sequence
            );
            assert!(i.closing_balance >= 0 && i.interest >= 0);
            if o.annual_rate.is_zero() {
                assert_eq!(i.interest, 0, "{kind:?}: no interest while frozen");
            }
            opening = i.closing_balance;
        }
        // Every row but the last leaves something owed: a plan stops when the debt is paid.
        if let Some((_, rest)) = o.schedule.split_last() {
            assert!(rest.iter().all(|i| i.closing_balance > 0), "{kind:?}");
        }
        assert_eq!(o.remaining_balance, opening, "{kind:?}: what remains");
        assert_eq!(
            o.remaining_balance == 0,
            o.after_plan == AfterPlan::PaidOff,
            "{kind:?}: paid off exactly when nothing remains"
        );
        if o.remaining_balance > 0 {
            let said = [0, 2, 3].iter().any(|&exponent| {
                o.summary
                    .contains(&plain_money_formatter(exponent)(o.remaining_balance))
            });
            assert!(
                said,
                "{kind:?}: the summary says what remains: {}",
                o.summary
            );
            assert!(
                o.reasons.iter().any(|r| r.code == "AFTER_THE_PLAN"),
                "{kind:?}: a reason says what happens to it"
            );
        }
    }

    // ------------------------------------------------------------ reference hardship cases

    struct ReferenceCase {
        name: &'static str,
        terms: AccountTerms,
        situation: Situation,
        format_money: fn(i64) -> String,
        config: OptionsConfig,
        must: &'static [OptionKind],
        must_not: &'static [OptionKind],
        /// The option ranked first.
        first: OptionKind,
    }

    /// Reference hardship cases (GBP in pence unless stated; today 10 March 2025, payday 28).
    ///
    /// | # | case | account | disposable | must get | must not get | first |
    /// |---|---|---|---|---|---|---|
    /// | 1 | job loss, no disposable income | £5,200 loan, 12.9 %, 40 months left, £450 arrears, £12 fees | −£80 | token (£0), breathing space | catch-up, reduced, extension, holiday, freeze, settlement | breathing space |
    /// | 2 | reduced income, small surplus | £3,000 loan, 19.9 %, 30 months, £200 arrears | £60 | reduced payment (lengthened to 50 months), breathing space | catch-up, extension, holiday, freeze, settlement, token | reduced payment |
    /// | 3 | temporary illness, recovers in 3 months | £8,000 loan, 6.9 %, 48 months, £380 arrears | £210 | holiday, reduced, freeze | catch-up, extension (48 months already fit), settlement, token | reduced payment |
    /// | 4 | large surplus, only arrears | £6,000 loan, 8.9 %, 48 months, £300 arrears | £900 | catch-up, reduced, holiday, freeze, breathing space | extension (not needed), settlement, token | reduced payment |
    /// | 5 | revolving card, high rate | £3,500 card, 29.9 %, revolving, £150 arrears, £12 fees | £90 | reduced payment (60 months), breathing space | extension (even 120 months costs more), catch-up, holiday, freeze, settlement, token | reduced payment |
    /// | 6 | already in breathing space | £2,000 loan, 15 %, 30 months, protected | £50 | token, reduced payment | breathing space, catch-up, freeze, settlement | token |
    /// | 7 | no statement yet | £4,000 loan, 9.9 %, 36 months | none | token (£1.00), breathing space | every plan that needs affordability | breathing space |
    /// | 8 | JPY loan (exponent 0) | ¥1,200,000, 3.9 %, 44 months, ¥90,000 arrears | ¥40,000 | catch-up (¥34,800), reduced, holiday, freeze | extension (not needed), settlement, token | reduced payment |
    /// | 9 | small balance, settlement affordable | £400 loan, 20 %, 8 months, £100 arrears | £350 | settlement (first, £280), catch-up, reduced, freeze | token | settlement |
    /// | 10 | mental-health crisis, no statement | £2,500 card, protected | none | token | breathing space, every plan | token |
    /// | 11 | breathing space used this year, nothing left over | £1,500 loan, 12 months | £0 | token (£0) | breathing space, every plan | token |
    /// | 12 | KWD car loan (exponent 3), income cut before any arrears | KWD 4,500.000, 5.5 %, 36 months, no arrears | KWD 120.000 | reduced (38 months), extension (beyond 36 months), breathing space | catch-up (no arrears), holiday, freeze, settlement, token | reduced payment |
    fn reference_cases() -> Vec<ReferenceCase> {
        let gbp = OptionsConfig::default();
        vec![
            ReferenceCase {
                name: "1 job loss, no disposable income",
                terms: terms(520_000, 45_000, 15_000, "0.129", 40, 1_200),
                situation: situation(Some(-8_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[TokenPayment, BreathingSpace],
                must_not: &[
                    CatchUp,
                    ReducedPayment,
                    TermExtension,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                ],
                first: BreathingSpace,
            },
            ReferenceCase {
                name: "2 reduced income, small surplus",
                terms: terms(300_000, 20_000, 12_000, "0.199", 30, 0),
                situation: situation(Some(6_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[ReducedPayment, BreathingSpace],
                must_not: &[
                    CatchUp,
                    TermExtension,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                    TokenPayment,
                ],
                first: ReducedPayment,
            },
            ReferenceCase {
                name: "3 temporary illness, recovers in 3 months",
                terms: terms(800_000, 38_000, 19_000, "0.069", 48, 0),
                situation: situation(Some(21_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[PaymentHoliday, ReducedPayment, InterestFeeFreeze],
                must_not: &[CatchUp, TermExtension, Settlement, TokenPayment],
                first: ReducedPayment,
            },
            ReferenceCase {
                name: "4 large surplus, only arrears",
                terms: terms(600_000, 30_000, 15_000, "0.089", 48, 1_000),
                situation: situation(Some(90_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[
                    CatchUp,
                    ReducedPayment,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    BreathingSpace,
                ],
                must_not: &[TermExtension, Settlement, TokenPayment],
                first: ReducedPayment,
            },
            ReferenceCase {
                name: "5 revolving card, high rate",
                terms: terms(350_000, 15_000, 10_500, "0.299", 0, 1_200),
                situation: situation(Some(9_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[ReducedPayment, BreathingSpace],
                must_not: &[
                    TermExtension,
                    CatchUp,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                    TokenPayment,
                ],
                first: ReducedPayment,
            },
            ReferenceCase {
                name: "6 already in breathing space",
                terms: terms(200_000, 10_000, 8_000, "0.15", 30, 0),
                situation: protected(Some(5_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[TokenPayment, ReducedPayment],
                must_not: &[BreathingSpace, CatchUp, InterestFeeFreeze, Settlement],
                first: TokenPayment,
            },
            ReferenceCase {
                name: "7 no statement yet",
                terms: terms(400_000, 25_000, 13_000, "0.099", 36, 0),
                situation: situation(None),
                format_money: pounds,
                config: gbp.clone(),
                must: &[TokenPayment, BreathingSpace],
                must_not: &[
                    CatchUp,
                    ReducedPayment,
                    TermExtension,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                ],
                first: BreathingSpace,
            },
            ReferenceCase {
                name: "8 JPY loan",
                terms: terms(1_200_000, 90_000, 27_300, "0.039", 44, 0),
                situation: situation(Some(40_000)),
                format_money: yen,
                config: OptionsConfig {
                    token_amount: 1_000,
                    ..gbp.clone()
                },
                must: &[CatchUp, ReducedPayment, PaymentHoliday, InterestFeeFreeze],
                must_not: &[TermExtension, Settlement, TokenPayment],
                first: ReducedPayment,
            },
            ReferenceCase {
                name: "9 small balance, settlement affordable",
                terms: terms(40_000, 10_000, 3_900, "0.2", 8, 0),
                situation: situation(Some(35_000)),
                format_money: pounds,
                config: gbp.clone(),
                must: &[Settlement, CatchUp, ReducedPayment, InterestFeeFreeze],
                must_not: &[TokenPayment],
                first: Settlement,
            },
            ReferenceCase {
                name: "10 mental-health crisis, no statement",
                terms: terms(250_000, 12_000, 7_500, "0.249", 0, 1_200),
                situation: protected(None),
                format_money: pounds,
                config: gbp.clone(),
                must: &[TokenPayment],
                must_not: &[
                    BreathingSpace,
                    CatchUp,
                    ReducedPayment,
                    TermExtension,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                ],
                first: TokenPayment,
            },
            ReferenceCase {
                name: "11 breathing space used this year, nothing left over",
                terms: terms(150_000, 26_000, 13_000, "0.12", 12, 0),
                situation: Situation {
                    breathing_space_used_in_last_12_months: true,
                    has_debt_advice_referral: true,
                    ..situation(Some(0))
                },
                format_money: pounds,
                config: gbp.clone(),
                must: &[TokenPayment],
                must_not: &[
                    BreathingSpace,
                    CatchUp,
                    ReducedPayment,
                    TermExtension,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                ],
                first: TokenPayment,
            },
            ReferenceCase {
                name: "12 KWD car loan, income cut before any arrears",
                terms: terms(4_500_000, 0, 136_000, "0.055", 36, 0),
                situation: situation(Some(120_000)),
                format_money: |minor| format!("KWD {}", plain_money_formatter(3)(minor)),
                config: OptionsConfig {
                    token_amount: 1_000,
                    ..gbp
                },
                must: &[ReducedPayment, TermExtension, BreathingSpace],
                must_not: &[
                    CatchUp,
                    PaymentHoliday,
                    InterestFeeFreeze,
                    Settlement,
                    TokenPayment,
                ],
                first: ReducedPayment,
            },
        ]
    }

    #[test]
    fn reference_hardship_cases_get_the_options_they_must_and_not_those_they_must_not() {
        for case in reference_cases() {
            let options = plan_options(
                &case.terms,
                &case.situation,
                &case.config,
                &case.format_money,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            check_invariants(&case.terms, &case.situation, &options);
            let offered = offered_kinds(&options);
            for kind in case.must {
                assert!(
                    offered.contains(kind),
                    "{}: must offer {kind:?}; got {offered:?}",
                    case.name
                );
            }
            for kind in case.must_not {
                assert!(
                    !offered.contains(kind),
                    "{}: must not offer {kind:?}",
                    case.name
                );
                assert!(
                    options.excluded.iter().any(|e| e.kind == *kind),
                    "{}: {kind:?} is excluded with a reason",
                    case.name
                );
            }
            assert_eq!(
                offered[0], case.first,
                "{}: ranked first; got {offered:?}",
                case.name
            );
        }
    }

    #[test]
    fn reference_case_details() {
        let cases = reference_cases();
        let by_name = |prefix: &str| {
            let case = cases
                .iter()
                .find(|c| c.name.starts_with(prefix))
                .expect("case");
            plan_options(
                &case.terms,
                &case.situation,
                &case.config,
                &case.format_money,
            )
            .expect("valid")
        };

        // 1: nothing left over → token of 0, no schedule, review in 90 days, advice referral.
        let job_loss = by_name("1 ");
        let token = option(&job_loss, TokenPayment);
        assert_eq!(
            (token.monthly_amount, token.months, token.total_payable),
            (0, 0, 0)
        );
        assert_eq!(token.review_date, Some(date(2025, 6, 8)));
        assert!(token.requires_debt_advice_referral);
        assert_eq!(token.headroom, Some(0));
        assert!(
            token.summary.starts_with("Pay nothing now"),
            "{}",
            token.summary
        );
        assert_eq!(
            exclusion(&job_loss, ReducedPayment).code,
            "NO_DISPOSABLE_INCOME"
        );

        // 2: the remaining term would cost £100 a month; lengthened to 50 months at £60.
        let reduced = by_name("2 ");
        let r = option(&reduced, ReducedPayment);
        assert_eq!(
            (r.monthly_amount, r.months, r.total_payable),
            (6_000, 50, 300_000)
        );
        assert!(r.reasons.iter().any(|x| x.code == "TERM_LENGTHENED_TO_FIT"));
        assert_eq!(r.headroom, Some(0));
        assert_eq!(
            exclusion(&reduced, TermExtension).code,
            "TERM_EXTENSION_NOT_AFFORDABLE"
        );

        // 3: the holiday is a bridge, says so, and interest builds during it.
        let illness = by_name("3 ");
        let h = option(&illness, PaymentHoliday);
        assert_eq!(h.payment_free_months, 3);
        assert!(
            h.summary.contains("bridge for a short-term setback"),
            "{}",
            h.summary
        );
        assert!(
            h.summary.starts_with("Pay nothing for 3 months"),
            "{}",
            h.summary
        );
        assert_eq!(h.review_date, Some(date(2025, 6, 10)));
        assert_eq!(h.first_payment_date, Some(date(2025, 6, 28)));
        assert_eq!(exclusion(&illness, CatchUp).code, "CATCH_UP_NOT_AFFORDABLE");

        // 5: even 120 months of a 29.9 % card is more than £90: the message says so.
        let card = by_name("5 ");
        let ext = exclusion(&card, TermExtension);
        assert!(
            ext.message.starts_with("Even 120 months would cost £"),
            "{}",
            ext.message
        );
        assert!(
            ext.message
                .ends_with("a month, more than the £90.00 left over."),
            "{}",
            ext.message
        );
        assert_eq!(option(&card, ReducedPayment).months, 60);

        // 6: already protected → breathing space excluded with its reason; the token is £1.
        let bs = by_name("6 ");
        assert_eq!(exclusion(&bs, BreathingSpace).code, "ALREADY_PROTECTED");
        assert_eq!(option(&bs, TokenPayment).monthly_amount, 100);

        // 7: no statement → token of the configured amount, and the statement unlocks more.
        let none = by_name("7 ");
        let token = option(&none, TokenPayment);
        assert_eq!(token.monthly_amount, 100);
        assert_eq!(token.headroom, None);
        assert!(
            token
                .reasons
                .iter()
                .any(|r| r.code == "STATEMENT_UNLOCKS_MORE_OPTIONS")
        );
        assert_eq!(exclusion(&none, CatchUp).code, "NEEDS_STATEMENT");

        // 8: JPY amounts are whole yen and the summary shows them so.
        let jpy = by_name("8 ");
        let catch_up = option(&jpy, CatchUp);
        assert_eq!(catch_up.monthly_amount, 27_300 + 90_000 / 12);
        assert!(
            catch_up
                .summary
                .starts_with("Pay ¥34,800 a month for 12 months"),
            "{}",
            catch_up.summary
        );

        // 9: the settlement is one payment of 70 % of the balance.
        let small = by_name("9 ");
        let s = option(&small, Settlement);
        assert_eq!(
            (s.monthly_amount, s.months, s.total_payable, s.rank),
            (28_000, 1, 28_000, 1)
        );

        // 11: breathing space used this year.
        let used = by_name("11 ");
        assert_eq!(
            exclusion(&used, BreathingSpace).code,
            "BREATHING_SPACE_USED_IN_LAST_12_MONTHS"
        );
        assert!(
            option(&used, TokenPayment)
                .summary
                .contains("your debt adviser")
        );

        // 12: no arrears, nothing to catch up; the longer term really is longer.
        let kwd = by_name("12 ");
        assert_eq!(exclusion(&kwd, CatchUp).code, "NO_ARREARS");
        assert_eq!(option(&kwd, ReducedPayment).months, 38);
        let ext = option(&kwd, TermExtension);
        assert!(ext.months > 36 && ext.monthly_amount <= 120_000);
        assert!(
            ext.summary.contains("instead of 36 months"),
            "{}",
            ext.summary
        );
    }

    #[test]
    fn summaries_offer_help_in_plain_words_without_threats() {
        let forbidden = [
            "legal",
            "court",
            "bailiff",
            "enforce",
            "default notice",
            "must ",
            "final demand",
        ];
        for case in reference_cases() {
            let options = plan_options(
                &case.terms,
                &case.situation,
                &case.config,
                &case.format_money,
            )
            .expect("valid");
            let texts = options
                .offered
                .iter()
                .map(|o| o.summary.as_str())
                .chain(
                    options
                        .offered
                        .iter()
                        .flat_map(|o| o.reasons.iter().map(|r| r.message.as_str())),
                )
                .chain(
                    options
                        .excluded
                        .iter()
                        .map(|e| e.explanation.message.as_str()),
                );
            for text in texts {
                let lower = text.to_lowercase();
                for word in forbidden {
                    assert!(!lower.contains(word), "{}: {word:?} in {text:?}", case.name);
                }
            }
        }
    }

    // ------------------------------------------------------------ hand-worked cases, every kind

    /// Worked by hand from DESIGN.md's convention (r = annual / 12; interest = opening × r,
    /// half-even); the arithmetic is beside each figure in the tests below. All go through the
    /// independent reference too, with the random cases (`reference_check`). Today is
    /// 10 March 2025 and the payday the 28th, so plans start on 28 March 2025.
    pub(super) fn hand_worked_cases() -> Vec<reference_check::Case> {
        use reference_check::{case, config_for, loan, situation_on};
        let on = |d| situation_on(today(), d, 28);
        // EUR 10,000.00 at 12.99 % with 24 months left and two missed payments of 475.40.
        let issue_loan = || loan(1_000_000, 95_080, 47_540, "0.1299", 24);
        vec![
            case(
                "hand 1 EUR loan in arrears, 600.00 left over",
                2,
                issue_loan(),
                on(Some(60_000)),
                config_for(2),
            ),
            case(
                "hand 2 EUR loan in arrears, 450.00 left over",
                2,
                issue_loan(),
                on(Some(45_000)),
                config_for(2),
            ),
            case(
                "hand 3 KWD 5,000.000 at 5.5 % over 36 months, income cut",
                3,
                loan(5_000_000, 0, 151_000, "0.055", 36),
                on(Some(140_000)),
                config_for(3),
            ),
            case(
                "hand 4 JPY 1,200,000 at 3.9 % over 44 months",
                0,
                loan(1_200_000, 90_000, 27_300, "0.039", 44),
                on(Some(40_000)),
                config_for(0),
            ),
            case(
                "hand 5 EUR holiday at 12 %",
                2,
                loan(1_000_000, 20_000, 25_000, "0.12", 48),
                on(Some(40_000)),
                config_for(2),
            ),
            case(
                "hand 6 EUR small loan whose catch-up ends with its term",
                2,
                loan(40_000, 10_000, 3_900, "0.2", 8),
                on(Some(35_000)),
                config_for(2),
            ),
            case(
                "hand 7 EUR no statement yet",
                2,
                loan(300_000, 30_000, 10_000, "0.2", 36),
                on(None),
                config_for(2),
            ),
            case(
                "hand 8 EUR nothing left over",
                2,
                loan(300_000, 30_000, 10_000, "0.2", 36),
                on(Some(-1)),
                config_for(2),
            ),
            case(
                "hand 9 EUR catch-up that clears the loan early",
                2,
                loan(100_000, 10_000, 50_000, "0.12", 24),
                on(Some(100_000)),
                config_for(2),
            ),
            case(
                "hand 10 EUR revolving card at 29.9 %",
                2,
                loan(350_000, 15_000, 10_500, "0.299", 0),
                on(Some(90_000)),
                config_for(2),
            ),
            case(
                "hand 11 EUR payments below the interest",
                2,
                loan(1_000_000, 50_000, 5_000, "0.3", 60),
                on(Some(100_000)),
                config_for(2),
            ),
            case(
                "hand 12 EUR a longer term that would not lower the payment",
                2,
                loan(1_000_000, 95_080, 40_000, "0.1299", 24),
                on(Some(46_000)),
                config_for(2),
            ),
        ]
    }

    fn hand_worked(number: u32) -> (reference_check::Case, Options) {
        let prefix = format!("hand {number} ");
        let case = hand_worked_cases()
            .into_iter()
            .find(|c| c.id.starts_with(&prefix))
            .expect("a hand-worked case");
        let options = plan_options(
            &case.terms,
            &case.situation,
            &case.config,
            &plain_money_formatter(case.exponent),
        )
        .expect("valid");
        check_invariants(&case.terms, &case.situation, &options);
        (case, options)
    }

    /// (opening, amount, interest, principal, closing) of a row.
    fn row(i: &Installment) -> (i64, i64, i64, i64, i64) {
        (
            i.opening_balance,
            i.amount,
            i.interest,
            i.principal,
            i.closing_balance,
        )
    }

    #[test]
    fn a_catch_up_charges_interest_on_what_is_really_owed_and_says_what_remains() {
        let (_, options) = hand_worked(1);
        let c = option(&options, CatchUp);
        // 12 × 475.40 + 950.80 = 6,655.60 in 12 payments: 554.633… → 554.63, the last
        // 6,655.60 − 11 × 554.63 = 554.67.
        assert_eq!(
            (c.months, c.monthly_amount, c.total_payable),
            (12, 55_463, 665_560)
        );
        // It opens with the 10,000.00 owed; 10,000.00 × 12.99 % / 12 = 108.25.
        assert_eq!(
            row(&c.schedule[0]),
            (1_000_000, 55_463, 10_825, 44_638, 955_362)
        );
        // 9,553.62 × 0.010825 = 103.4179… → 103.42: the interest follows the catch-up's own
        // payments, not the contract's schedule.
        assert_eq!(
            row(&c.schedule[1]),
            (955_362, 55_463, 10_342, 45_121, 910_241)
        );
        // 4,815.25 × 0.010825 = 52.1251… → 52.13.
        assert_eq!(
            row(&c.schedule[11]),
            (481_525, 55_467, 5_213, 50_254, 431_271)
        );
        // 10,000.00 + 968.31 interest − 6,655.60 paid = 4,312.71 still owed, not 0.
        let interest: i64 = c.schedule.iter().map(|i| i.interest).sum();
        assert_eq!(interest, 96_831);
        assert_eq!(c.remaining_balance, 431_271);
        assert_eq!(c.after_plan, AfterPlan::ContractResumes);
        assert!(
            c.summary.ends_with(
                "Then 4,312.71 is still owed, and your contractual payment of 475.40 a month \
                 resumes for the 12 months left of your term."
            ),
            "{}",
            c.summary
        );
        assert!(c.reasons.iter().any(|r| r.code == "AFTER_THE_PLAN"));
    }

    #[test]
    fn a_catch_up_that_clears_the_balance_stops_there_and_one_that_ends_with_the_term_settles_it() {
        // 12 × 500.00 + 100.00 = 6,100.00 a year: 508.33 a month. 1,000.00 at 1 % a month:
        // 10.00 interest, 498.33 off; then 501.67 + 5.02 (501.67 × 1 % = 5.0167) = 506.69, less
        // than a payment, so the second payment is what is owed and the loan is clear.
        let (_, options) = hand_worked(9);
        let c = option(&options, CatchUp);
        let rows: Vec<_> = c.schedule.iter().map(row).collect();
        assert_eq!(
            rows,
            [
                (100_000, 50_833, 1_000, 49_833, 50_167),
                (50_167, 50_669, 502, 50_167, 0)
            ]
        );
        assert_eq!((c.remaining_balance, c.after_plan), (0, AfterPlan::PaidOff));
        assert!(
            c.summary.contains("the balance is cleared"),
            "{}",
            c.summary
        );

        // 8 months left and an 8-month catch-up: 8 × 39.00 + 100.00 = 412.00, 51.50 a month;
        // 400.00 × 20 % / 12 = 6.6667 → 6.67. The term ends with the plan, so the last payment
        // is what is owed: 70.03 + 1.17 (70.03 × 0.01666… = 1.1672) = 71.20.
        let (_, options) = hand_worked(6);
        let c = option(&options, CatchUp);
        assert_eq!(row(&c.schedule[0]), (40_000, 5_150, 667, 4_483, 35_517));
        assert_eq!(row(&c.schedule[7]), (7_003, 7_120, 117, 7_003, 0));
        assert_eq!((c.total_payable, c.remaining_balance), (43_170, 0));

        // A card: no term to run out; its minimum payment comes back.
        let (_, options) = hand_worked(10);
        let c = option(&options, CatchUp);
        // 3,500.00 × 29.9 % / 12 = 87.2083 → 87.21.
        assert_eq!(
            row(&c.schedule[0]),
            (350_000, 11_750, 8_721, 3_029, 346_971)
        );
        assert_eq!(c.remaining_balance, 308_231);
        assert!(
            c.summary.ends_with(
                "Then 3,082.31 is still owed, and your contractual payment of 105.00 a month \
                 resumes."
            ),
            "{}",
            c.summary
        );

        // JPY: ¥1,200,000 × 3.9 % / 12 = ¥3,900; 12 × ¥27,300 + ¥90,000 = ¥417,600, ¥34,800 a
        // month; ¥822,500 remains.
        let (_, options) = hand_worked(4);
        let c = option(&options, CatchUp);
        assert_eq!(c.schedule[0].interest, 3_900);
        assert_eq!((c.monthly_amount, c.remaining_balance), (34_800, 822_500));

        // 100.00 a month would not even cover the 250.00 of interest (10,000.00 × 30 % / 12).
        let (_, options) = hand_worked(11);
        assert_eq!(
            exclusion(&options, CatchUp).code,
            "CATCH_UP_DOES_NOT_COVER_INTEREST"
        );
    }

    #[test]
    fn a_reduced_payment_at_zero_rounds_half_even_in_every_currency() {
        // EUR 10,000.00 / 24 = 416.666… → 416.67; the last 10,000.00 − 23 × 416.67 = 416.59.
        let (_, options) = hand_worked(1);
        let r = option(&options, ReducedPayment);
        assert_eq!((r.months, r.monthly_amount), (24, 41_667));
        assert_eq!(row(&r.schedule[0]), (1_000_000, 41_667, 0, 41_667, 958_333));
        assert_eq!(row(&r.schedule[23]), (41_659, 41_659, 0, 41_659, 0));
        // KWD 5,000.000 / 36 = 138.888… → 138.889; the last 5,000.000 − 35 × 138.889 = 138.885.
        let (_, options) = hand_worked(3);
        let r = option(&options, ReducedPayment);
        assert_eq!((r.months, r.monthly_amount), (36, 138_889));
        assert_eq!(row(&r.schedule[35]), (138_885, 138_885, 0, 138_885, 0));
        assert_eq!((r.total_payable, r.remaining_balance), (5_000_000, 0));
    }

    #[test]
    fn a_term_extension_is_longer_and_lower_or_is_not_offered() {
        // The 24 months left cost 475.37 a month (the reference table in `amortisation`), which
        // fits 600.00: a longer term would only add interest.
        let (_, options) = hand_worked(1);
        assert!(!offered_kinds(&options).contains(&TermExtension));
        let why = exclusion(&options, TermExtension);
        assert_eq!(why.code, "TERM_EXTENSION_NOT_NEEDED");
        assert!(why.message.contains("475.37 a month"), "{}", why.message);

        // With 450.00 left over: 25 months cost 458.71, 26 months 443.34, which fits.
        let (_, options) = hand_worked(2);
        let e = option(&options, TermExtension);
        assert_eq!((e.months, e.monthly_amount), (26, 44_334));
        assert!(
            e.monthly_amount < 47_540,
            "lower than the contractual payment"
        );
        assert_eq!(
            row(&e.schedule[0]),
            (1_000_000, 44_334, 10_825, 33_509, 966_491)
        );
        assert_eq!(row(&e.schedule[25]), (43_860, 44_335, 475, 43_860, 0));
        assert_eq!(e.total_payable, 1_152_685);
        assert!(
            e.summary.starts_with(
                "Your payment becomes 443.34 a month, down from 475.40, by spreading the balance \
                 over 26 months instead of 24 months."
            ),
            "{}",
            e.summary
        );

        // KWD: 36 months cost 150.980; 40 months 137.094 fits 140.000 and is below 151.000.
        let (_, options) = hand_worked(3);
        let e = option(&options, TermExtension);
        assert_eq!(
            (e.months, e.monthly_amount, e.total_payable),
            (40, 137_094, 5_483_747)
        );

        // 25 months cost 458.71, which fits 460.00 but is no lower than the contractual 400.00.
        let (_, options) = hand_worked(12);
        assert_eq!(
            exclusion(&options, TermExtension).code,
            "TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT"
        );
    }

    #[test]
    fn a_payment_holiday_opens_with_what_is_owed_when_payments_resume() {
        // 1 % a month on a growing balance: 10,000.00 → 10,100.00 → 10,201.00 → 10,303.01;
        // then 48 months of 271.32 from 28 June 2025.
        let (_, options) = hand_worked(5);
        let h = option(&options, PaymentHoliday);
        assert_eq!(h.first_payment_date, Some(date(2025, 6, 28)));
        assert_eq!(
            row(&h.schedule[0]),
            (1_030_301, 27_132, 10_303, 16_829, 1_013_472)
        );
        assert_eq!(row(&h.schedule[47]), (26_852, 27_121, 269, 26_852, 0));
        assert_eq!((h.total_payable, h.remaining_balance), (1_302_325, 0));
    }

    #[test]
    fn a_freeze_pays_the_balance_off_and_a_settlement_forgives_the_rest() {
        // 21 × 475.40 = 9,983.40, then the last 16.60.
        let (_, options) = hand_worked(1);
        let f = option(&options, InterestFeeFreeze);
        assert_eq!(f.months, 22);
        assert_eq!(row(&f.schedule[0]), (1_000_000, 47_540, 0, 47_540, 952_460));
        assert_eq!(row(&f.schedule[21]), (1_660, 1_660, 0, 1_660, 0));
        assert_eq!(f.after_plan, AfterPlan::PaidOff);

        // 70 % of 400.00 = 280.00 once; the 120.00 left is forgiven.
        let (_, options) = hand_worked(6);
        let s = option(&options, Settlement);
        let rows: Vec<_> = s.schedule.iter().map(row).collect();
        assert_eq!(rows, [(40_000, 28_000, 0, 28_000, 12_000)]);
        assert_eq!(
            (s.remaining_balance, s.after_plan),
            (12_000, AfterPlan::Forgiven)
        );
        assert!(
            s.summary
                .ends_with("The remaining 120.00 is forgiven once it arrives."),
            "{}",
            s.summary
        );
    }

    #[test]
    fn a_token_payment_and_a_breathing_space_say_what_waits_for_the_review() {
        // Without a statement: 1.00 on 28 March, 28 April and 28 May (the review is 8 June),
        // interest frozen; 3,000.00 − 3.00 = 2,997.00 waits for the review.
        let (_, options) = hand_worked(7);
        let t = option(&options, TokenPayment);
        let rows: Vec<_> = t.schedule.iter().map(row).collect();
        assert_eq!(
            rows,
            [
                (300_000, 100, 0, 100, 299_900),
                (299_900, 100, 0, 100, 299_800),
                (299_800, 100, 0, 100, 299_700)
            ]
        );
        assert_eq!(
            (t.remaining_balance, t.after_plan),
            (299_700, AfterPlan::Review)
        );
        assert!(
            t.summary.contains("2,997.00 is still owed"),
            "{}",
            t.summary
        );
        let b = option(&options, BreathingSpace);
        assert!(b.schedule.is_empty());
        assert_eq!(
            (b.remaining_balance, b.after_plan),
            (300_000, AfterPlan::Review)
        );
        assert!(
            b.summary.contains("The 3,000.00 you owe stays as it is"),
            "{}",
            b.summary
        );

        // Nothing left over: nothing asked, everything waits.
        let (_, options) = hand_worked(8);
        let t = option(&options, TokenPayment);
        assert!(t.schedule.is_empty());
        assert_eq!(t.remaining_balance, 300_000);
        assert!(t.summary.starts_with("Pay nothing now"), "{}", t.summary);
        assert!(
            t.summary.contains("The 3,000.00 you owe stays as it is"),
            "{}",
            t.summary
        );
    }

    // ------------------------------------------------------------ unit tests

    #[test]
    fn ranking_is_deterministic_and_breaks_ties_by_recovery_then_kind() {
        // Zero rate: nothing costs interest. The freeze asks least (90.00); catch-up, reduced
        // payment and holiday all ask 100.00 a month for the same 1,200.00; expected recovery
        // decides, then proto order. The remaining 12 months already fit the budget, so there is
        // no longer term.
        let t = terms(120_000, 12_000, 9_000, "0", 12, 0);
        let s = situation(Some(20_000));
        let first = run(&t, &s);
        for _ in 0..5 {
            assert_eq!(run(&t, &s), first);
        }
        // Default likelihoods: reduced 0.70 > holiday 0.65 > catch-up 0.55.
        assert_eq!(
            offered_kinds(&first),
            vec![
                InterestFeeFreeze,
                ReducedPayment,
                PaymentHoliday,
                CatchUp,
                BreathingSpace
            ]
        );
        assert_eq!(
            exclusion(&first, TermExtension).code,
            "TERM_EXTENSION_NOT_NEEDED"
        );
        // Equal likelihoods: nothing left to tell them apart but proto order.
        let even = Decimal::new(5, 1);
        let config = OptionsConfig {
            completion_likelihood: CompletionLikelihood {
                catch_up: even,
                reduced_payment: even,
                term_extension: even,
                payment_holiday: even,
                interest_fee_freeze: even,
                settlement: even,
                token_payment: even,
                breathing_space: even,
            },
            ..OptionsConfig::default()
        };
        let tied = plan_options(&t, &s, &config, &pounds).expect("valid");
        assert_eq!(
            offered_kinds(&tied),
            vec![
                InterestFeeFreeze,
                CatchUp,
                ReducedPayment,
                PaymentHoliday,
                BreathingSpace
            ]
        );
    }

    #[test]
    fn customer_first_puts_cheaper_plans_above_higher_recovery() {
        // Case 4: frozen-interest plans (cost 0) come first, the lower monthly first; the
        // catch-up costs the contract's interest; the holiday adds the break's interest and
        // comes last of the plans, though its expected recovery beats the catch-up's and the
        // reduced payment's. Breathing space follows the plans when the customer has a surplus.
        let t = terms(600_000, 30_000, 15_000, "0.089", 48, 1_000);
        let options = run(&t, &situation(Some(90_000)));
        assert_eq!(
            offered_kinds(&options),
            vec![
                ReducedPayment,
                InterestFeeFreeze,
                CatchUp,
                PaymentHoliday,
                BreathingSpace
            ]
        );
        assert!(
            option(&options, PaymentHoliday).expected_recovery
                > option(&options, CatchUp).expected_recovery
        );
        assert!(
            option(&options, ReducedPayment).expected_recovery
                < option(&options, PaymentHoliday).expected_recovery,
            "customer-first before recovery"
        );
    }

    #[test]
    fn settlement_only_when_the_lump_sum_is_affordable() {
        let t = terms(40_000, 10_000, 5_000, "0.2", 8, 0);
        let short = run(&t, &situation(Some(27_999)));
        assert!(!offered_kinds(&short).contains(&Settlement));
        let why = exclusion(&short, Settlement);
        assert_eq!(why.code, "SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE");
        assert!(why.message.contains("£280.00"), "{}", why.message);

        let enough = run(&t, &situation(Some(28_000)));
        let s = option(&enough, Settlement);
        assert_eq!(
            (s.monthly_amount, s.total_payable, s.months, s.rank),
            (28_000, 28_000, 1, 1)
        );
        assert_eq!(s.headroom, Some(0));
        assert_eq!(s.schedule[0].due_date, date(2025, 3, 28));
        assert!(
            s.summary.starts_with("Pay £280.00 once, on 28 March 2025"),
            "{}",
            s.summary
        );
        assert!(
            s.summary.contains("£120.00 less than the £400.00 you owe"),
            "{}",
            s.summary
        );
    }

    #[test]
    fn token_amount_follows_the_disposable_income() {
        let t = terms(300_000, 30_000, 10_000, "0.2", 36, 500);
        let token = |d| {
            let options = run(&t, &situation(d));
            option(&options, TokenPayment).clone()
        };
        let negative = token(Some(-1));
        assert_eq!((negative.monthly_amount, negative.total_payable), (0, 0));
        assert!(negative.schedule.is_empty());
        let zero = token(Some(0));
        assert_eq!(zero.monthly_amount, 0);
        let tiny = token(Some(37));
        assert_eq!(tiny.monthly_amount, 37);
        let unknown = token(None);
        assert_eq!(unknown.monthly_amount, 100);
        // Paydays after today up to the review date (8 June 2025): 28 March, 28 April, 28 May.
        let dates: Vec<Date> = unknown.schedule.iter().map(|i| i.due_date).collect();
        assert_eq!(
            dates,
            vec![date(2025, 3, 28), date(2025, 4, 28), date(2025, 5, 28)]
        );
        assert_eq!(unknown.total_payable, 300);
        assert_eq!(unknown.fees_waived, 3 * 500);
        assert!(
            unknown.summary.starts_with("Pay £1.00 a month for now"),
            "{}",
            unknown.summary
        );

        // With an affordable plan and no protection, the token is not needed.
        let options = run(&t, &situation(Some(50_000)));
        assert_eq!(
            exclusion(&options, TokenPayment).code,
            "TOKEN_PAYMENT_NOT_NEEDED"
        );
    }

    #[test]
    fn holiday_interest_compounds_unless_protected() {
        let t = terms(1_000_000, 20_000, 25_000, "0.12", 48, 0);
        let open = run(&t, &situation(Some(40_000)));
        let h = option(&open, PaymentHoliday);
        // 1 % a month, half-even, on the growing balance: 10_000, 10_100, 10_201.
        let capitalised: i64 = h.schedule.iter().map(|i| i.principal).sum();
        assert_eq!(capitalised, 1_000_000 + 10_000 + 10_100 + 10_201);
        assert_eq!(h.months, 48);
        assert!(
            h.summary
                .contains("interest of £303.01 builds during the break"),
            "{}",
            h.summary
        );

        let calm = run(&t, &protected(Some(40_000)));
        let h = option(&calm, PaymentHoliday);
        let capitalised: i64 = h.schedule.iter().map(|i| i.principal).sum();
        assert_eq!(capitalised, 1_000_000);
        assert!(
            h.summary
                .contains("no interest builds during the break because your account is protected")
        );
    }

    #[test]
    fn interest_and_fees_waived_are_reported() {
        let t = terms(600_000, 30_000, 15_000, "0.089", 48, 1_000);
        let options = run(&t, &situation(Some(90_000)));
        let contract = amortisation::amortise(600_000, &rate("0.089"), 48).expect("amortises");
        let contract_interest = amortisation::total_interest(&contract);
        let reduced = option(&options, ReducedPayment);
        assert_eq!(reduced.interest_waived, contract_interest);
        assert_eq!(reduced.fees_waived, 1_000 * 48);
        assert_eq!(reduced.annual_rate, Decimal::ZERO);
        let freeze = option(&options, InterestFeeFreeze);
        assert_eq!(freeze.interest_waived, contract_interest);
        assert_eq!(freeze.months, 40);
        assert_eq!(freeze.monthly_amount, 15_000);
        let holiday = option(&options, PaymentHoliday);
        assert_eq!(holiday.interest_waived, 0);
        assert_eq!(holiday.annual_rate, Decimal::new(89, 3));
        let catch_up = option(&options, CatchUp);
        assert_eq!((catch_up.monthly_amount, catch_up.months), (17_500, 12));
        assert_eq!(catch_up.total_payable, 12 * 15_000 + 30_000);
        assert_eq!(catch_up.interest_waived, 0);
        // Interest runs at the contract rate on what the catch-up's own payments leave owed:
        // 6,000.00 × 8.9 % / 12 = 44.50 in the first month, less each month after.
        assert_eq!(catch_up.schedule[0].interest, 4_450);
        for i in &catch_up.schedule {
            assert_eq!(
                Ok(i.interest),
                amortisation::monthly_interest(i.opening_balance, &rate("0.089"))
            );
        }
        let interest: i64 = catch_up.schedule.iter().map(|i| i.interest).sum();
        assert_eq!(
            catch_up.remaining_balance,
            600_000 + interest - catch_up.total_payable
        );
        assert_eq!(catch_up.after_plan, AfterPlan::ContractResumes);
    }

    #[test]
    fn expected_recovery_weights_the_schedule_and_the_write_off() {
        let t = terms(600_000, 30_000, 15_000, "0.089", 48, 0);
        let options = run(&t, &situation(Some(90_000)));
        assert_eq!(options.write_off_baseline, 60_000);
        let reduced = option(&options, ReducedPayment);
        // 600_000 × 0.70 + 600_000 × 0.10 × 0.30
        assert_eq!(reduced.expected_recovery, 420_000 + 18_000);
        assert_eq!(reduced.recovery_advantage(), 438_000 - 60_000);
        let bs = option(&options, BreathingSpace);
        // Nothing scheduled: only the write-off share if it does not lead anywhere.
        assert_eq!(bs.expected_recovery, 60_000 * 4 / 10);
        // Half-even: 0.5 rounds to the even neighbour.
        let odd = terms(5, 0, 5, "0", 1, 0);
        let options = plan_options(
            &odd,
            &situation(Some(1_000)),
            &OptionsConfig {
                write_off_recovery_rate: Decimal::new(1, 1),
                ..OptionsConfig::default()
            },
            &pounds,
        )
        .expect("valid");
        assert_eq!(options.write_off_baseline, 0); // 0.5 → 0
    }

    #[test]
    fn a_tiny_balance_still_gets_options_and_never_errors() {
        let t = terms(50, 0, 5, "0.3", 0, 0);
        let options = run(&t, &situation(Some(1_000)));
        check_invariants(&t, &situation(Some(1_000)), &options);
        assert!(offered_kinds(&options).contains(&Settlement));
        assert_eq!(
            exclusion(&options, ReducedPayment).code,
            "BALANCE_TOO_SMALL_TO_SPREAD"
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let good = terms(100_000, 0, 5_000, "0.1", 24, 0);
        let s = situation(Some(10_000));
        let config = OptionsConfig::default();
        let err = |t: &AccountTerms, s: &Situation, c: &OptionsConfig| {
            plan_options(t, s, c, &pounds)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            err(
                &AccountTerms {
                    balance: 0,
                    ..good.clone()
                },
                &s,
                &config
            ),
            "account terms: balance must be positive"
        );
        assert!(
            err(
                &AccountTerms {
                    arrears: 100_001,
                    ..good.clone()
                },
                &s,
                &config
            )
            .contains("arrears")
        );
        assert!(
            err(
                &AccountTerms {
                    contractual_payment: 0,
                    ..good.clone()
                },
                &s,
                &config
            )
            .contains("contractual_payment")
        );
        assert!(
            err(
                &AccountTerms {
                    fees_monthly: -1,
                    ..good.clone()
                },
                &s,
                &config
            )
            .contains("fees_monthly")
        );
        assert!(
            err(
                &good,
                &Situation {
                    payday: 0,
                    ..s.clone()
                },
                &config
            )
            .contains("payday")
        );
        assert!(
            err(
                &good,
                &Situation {
                    payday: 32,
                    ..s.clone()
                },
                &config
            )
            .contains("payday")
        );
        let bad = OptionsConfig {
            settlement_discount: Decimal::ONE,
            ..config.clone()
        };
        assert!(err(&good, &s, &bad).contains("settlement_discount"));
        let bad = OptionsConfig {
            completion_likelihood: CompletionLikelihood {
                token_payment: Decimal::new(11, 1),
                ..CompletionLikelihood::default()
            },
            ..config.clone()
        };
        assert!(err(&good, &s, &bad).contains("completion_likelihood"));
        let bad = OptionsConfig {
            token_amount: -1,
            ..config
        };
        assert!(err(&good, &s, &bad).contains("token_amount"));
    }

    #[test]
    fn huge_amounts_are_errors_not_panics() {
        let t = terms(i64::MAX, 0, i64::MAX, "0.5", 12, i64::MAX);
        let result = plan_options(
            &t,
            &situation(Some(i64::MAX)),
            &OptionsConfig::default(),
            &pounds,
        );
        assert!(result.is_err() || result.is_ok_and(|o| !o.offered.is_empty()));
    }

    #[test]
    fn plain_formatter_renders_minor_units() {
        assert_eq!(plain_money_formatter(2)(123_456), "1,234.56");
        assert_eq!(plain_money_formatter(2)(5), "0.05");
        assert_eq!(plain_money_formatter(2)(-5), "-0.05");
        assert_eq!(plain_money_formatter(2)(0), "0.00");
        assert_eq!(plain_money_formatter(0)(5_000), "5,000");
        assert_eq!(plain_money_formatter(3)(1_234_567), "1,234.567");
        assert_eq!(
            plain_money_formatter(2)(i64::MIN),
            "-92,233,720,368,547,758.08"
        );
    }

    // ------------------------------------------------------------ properties

    fn arb_terms() -> impl Strategy<Value = AccountTerms> {
        (
            1_i64..=50_000_000,
            0_u32..=100,
            1_i64..=2_000_000,
            0_i64..=4_999,
            0_u32..=480,
            0_i64..=5_000,
        )
            .prop_map(
                |(balance, arrears_pct, contractual, bps, remaining, fees)| AccountTerms {
                    balance,
                    arrears: balance / 100 * i64::from(arrears_pct) % (balance + 1),
                    contractual_payment: contractual,
                    rate: AnnualRate::parse(&Decimal::new(bps, 4).to_string()).expect("valid rate"),
                    remaining_term_months: remaining,
                    fees_monthly: fees,
                },
            )
    }

    fn arb_situation() -> impl Strategy<Value = Situation> {
        (
            prop::option::weighted(0.9, -500_000_i64..=5_000_000),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.2),
            0_i64..=3_650,
            1_i8..=31,
        )
            .prop_map(
                |(disposable_income, protected, referral, used, offset, payday)| Situation {
                    disposable_income,
                    protected,
                    has_debt_advice_referral: referral,
                    breathing_space_used_in_last_12_months: used,
                    today: date(2020, 1, 1)
                        .checked_add(Span::new().days(offset))
                        .expect("in range"),
                    payday,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// For random accounts and situations: every offered installment ≤ disposable income
        /// (when known), every schedule sums exactly to its total, at least one option is
        /// offered, ranks are 1..=n without gaps; and the answer is the same twice.
        #[test]
        fn options_are_affordable_exact_never_empty_and_gapless(
            terms in arb_terms(),
            situation in arb_situation(),
        ) {
            let options = plan_options(&terms, &situation, &OptionsConfig::default(), &pounds)
                .expect("valid input never errors");
            check_invariants(&terms, &situation, &options);
            let again = plan_options(&terms, &situation, &OptionsConfig::default(), &pounds)
                .expect("valid input never errors");
            prop_assert_eq!(again, options);
        }
    }
}
