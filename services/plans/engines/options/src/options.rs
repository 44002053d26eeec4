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

use jiff::Span;
use jiff::civil::Date;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::affordability::{Explanation, ReasonEffect};
use crate::amortisation::{self, ScheduleError};
use crate::schedule::{self, Installment};

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

mod assembly;
mod breathing_space;
mod catch_up;
mod inputs;
mod interest_fee_freeze;
mod outputs;
mod payment_holiday;
mod ranking;
mod reduced_payment;
mod settlement;
mod term_extension;
mod token_payment;

pub use inputs::{AccountTerms, CompletionLikelihood, OptionKind, OptionsConfig, Situation};
pub use outputs::{AfterPlan, Excluded, Options, OptionsError, PlanOption, plain_money_formatter};

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
/// Which options are offered is documented on each builder (one file per kind); in short: only
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
mod tests;
