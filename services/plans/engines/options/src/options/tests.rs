//! The options engine's tests: shared fixtures, the invariants every answer keeps, and the
//! property test; the cases are in `tests/`.

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

use crate::rate::AnnualRate;

use OptionKind::{
    BreathingSpace, CatchUp, InterestFeeFreeze, PaymentHoliday, ReducedPayment, Settlement,
    TermExtension, TokenPayment,
};

mod hand_worked;
mod reference_cases;
mod units;

// `reference_check` runs the hand-worked cases through the Python reference too.
pub(super) use hand_worked::hand_worked_cases;

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
