//! Every option kind against an independent reference, to the minor unit.
//!
//! STYLE.md: a property test that compares the engine with itself cannot catch a wrong schedule.
//! `amortisation_reference.py --options` is the options engine written a second time, in Python
//! with exact integers and fractions, from the specification in its comments rather than from
//! this code. Each case (hand-worked ones first, then random ones) goes to it as a JSON line; for
//! every kind it answers either the schedule (due date, opening balance, amount, interest,
//! principal, closing balance of every row, what remains and what happens to it) or the code of
//! the reason the kind is not offered. Both answers must be equal; so the first opening balance,
//! the sums, the last closing balance and every installment agree to the minor unit.
//!
//! The random cases come from proptest strategies on a deterministic runner (the same cases on
//! every run): balances of 1 to 10^9 minor units, every order of magnitude alike; rates of 0 to
//! 40 % with up to 10 decimals; remaining terms of 1 to 480 months or revolving; arrears,
//! contractual payments and disposable income around the account's own annuity; paydays 1 to 31
//! from dates in 2020–2029; currencies of exponent 0, 2 and 3 (the token payment one major
//! unit); protections, used breathing spaces and a varied options config now and then. Each
//! kind's test also requires that the cases reached every outcome listed for it, so no kind is
//! "checked" only where it is excluded. Due dates are compared too: a change to the payday
//! rules of `schedule::payday_dates` needs the same change in the reference's `paydays`.
//!
//! python3 is on every CI machine: without it these tests fail, they never skip.
//! `RAPPORT_OPTIONS_REFERENCE_CASES` sets the number of random cases (default
//! [`DEFAULT_RANDOM_CASES`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use jiff::Span;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{
    AccountTerms, AfterPlan, OptionKind, Options, OptionsConfig, Situation, plain_money_formatter,
    plan_options,
};
use crate::amortisation;
use crate::rate::AnnualRate;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/amortisation_reference.py");

const DEFAULT_RANDOM_CASES: usize = 2_000;

/// One input to both implementations; amounts in minor units of a currency of `exponent`.
#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) id: String,
    pub(super) exponent: u32,
    pub(super) terms: AccountTerms,
    pub(super) situation: Situation,
    pub(super) config: OptionsConfig,
}

impl Case {
    fn to_json(&self) -> Value {
        let (t, s, c) = (&self.terms, &self.situation, &self.config);
        json!({
            "id": self.id,
            "balance": t.balance,
            "arrears": t.arrears,
            "contractual": t.contractual_payment,
            "rate": t.rate.as_decimal().normalize().to_string(),
            "remaining_term": t.remaining_term_months,
            "disposable": s.disposable_income,
            "protected": s.protected,
            "breathing_space_used": s.breathing_space_used_in_last_12_months,
            "today": s.today.to_string(),
            "payday": s.payday,
            "config": {
                "max_catch_up_months": c.max_catch_up_months,
                "revolving_term_months": c.revolving_term_months,
                "max_extension_months": c.max_extension_months,
                "max_term_months": c.max_term_months,
                "holiday_months": c.holiday_months,
                "settlement_discount": c.settlement_discount.normalize().to_string(),
                "token_amount": c.token_amount,
                "review_after_days": c.review_after_days,
            },
        })
    }

    fn run(&self) -> Options {
        let format = plain_money_formatter(self.exponent);
        plan_options(&self.terms, &self.situation, &self.config, &format)
            .unwrap_or_else(|e| panic!("{}: the engine refused a valid case: {e}", self.id))
    }
}

fn kind_name(kind: OptionKind) -> &'static str {
    match kind {
        OptionKind::CatchUp => "CATCH_UP",
        OptionKind::ReducedPayment => "REDUCED_PAYMENT",
        OptionKind::TermExtension => "TERM_EXTENSION",
        OptionKind::PaymentHoliday => "PAYMENT_HOLIDAY",
        OptionKind::InterestFeeFreeze => "INTEREST_FEE_FREEZE",
        OptionKind::Settlement => "SETTLEMENT",
        OptionKind::TokenPayment => "TOKEN_PAYMENT",
        OptionKind::BreathingSpace => "BREATHING_SPACE",
    }
}

fn after_name(after: AfterPlan) -> &'static str {
    match after {
        AfterPlan::PaidOff => "PAID_OFF",
        AfterPlan::ContractResumes => "CONTRACT_RESUMES",
        AfterPlan::Review => "REVIEW",
        AfterPlan::Forgiven => "FORGIVEN",
    }
}

/// The engine's answer in the reference's shape, plus the option's own totals.
fn engine_answer(options: &Options) -> BTreeMap<&'static str, Value> {
    let mut answer = BTreeMap::new();
    for option in &options.offered {
        let rows: Vec<Value> = option
            .schedule
            .iter()
            .map(|i| {
                json!([
                    i.due_date.to_string(),
                    i.opening_balance,
                    i.amount,
                    i.interest,
                    i.principal,
                    i.closing_balance
                ])
            })
            .collect();
        answer.insert(
            kind_name(option.kind),
            json!({
                "offered": true,
                "rows": rows,
                "remaining": option.remaining_balance,
                "after": after_name(option.after_plan),
                "monthly": option.monthly_amount,
                "months": option.months,
                "total": option.total_payable,
            }),
        );
    }
    for excluded in &options.excluded {
        answer.insert(
            kind_name(excluded.kind),
            json!({ "offered": false, "code": excluded.explanation.code }),
        );
    }
    answer
}

/// The reference's answer for one kind, with the totals its rows imply.
fn with_totals(mut reference: Value) -> Value {
    if let Some(rows) = reference.get("rows").and_then(Value::as_array).cloned() {
        let amount = |row: &Value| row.get(2).and_then(Value::as_i64).expect("amount");
        let total: i64 = rows.iter().map(amount).sum();
        let monthly = rows.first().map_or(0, amount);
        reference["monthly"] = json!(monthly);
        reference["months"] = json!(rows.len());
        reference["total"] = json!(total);
    }
    reference
}

/// Runs the Python reference over every case, in one process.
fn reference_answers(cases: &[Case]) -> Vec<Value> {
    let mut input = String::new();
    for case in cases {
        input.push_str(&case.to_json().to_string());
        input.push('\n');
    }
    let mut child = Command::new("python3")
        .arg(REFERENCE)
        .arg("--options")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "python3 runs the independent reference {REFERENCE} and is present on CI \
                 machines; it could not be started: {e}"
            )
        });
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("the reference runs");
    writer
        .join()
        .expect("writing to the reference")
        .expect("the reference reads every case");
    assert!(
        output.status.success(),
        "the reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(answers.len(), cases.len(), "one answer a case");
    answers
}

/// Both implementations over the same cases.
struct Comparison {
    /// Where they disagree: the kind's name and one line about the case.
    mismatches: Vec<(&'static str, String)>,
    /// How often each kind (by name) had each outcome: offered and what happens after it, or
    /// the code of the reason it was not.
    outcomes: BTreeMap<(&'static str, String), usize>,
    cases: usize,
}

fn compare(cases: &[Case]) -> Comparison {
    let answers = reference_answers(cases);
    let mut mismatches = Vec::new();
    let mut outcomes = BTreeMap::new();
    for (case, reference) in cases.iter().zip(answers) {
        assert_eq!(reference["id"], json!(case.id));
        let engine = engine_answer(&case.run());
        for kind in OptionKind::ALL {
            let name = kind_name(kind);
            let theirs = with_totals(reference["kinds"][name].clone());
            let ours = engine.get(name).cloned().unwrap_or(Value::Null);
            let outcome = match (ours.get("after"), ours.get("code")) {
                (Some(after), _) => format!("offered, then {}", after.as_str().unwrap_or("?")),
                (_, Some(code)) => code.as_str().unwrap_or("?").to_owned(),
                _ => "missing".to_owned(),
            };
            *outcomes.entry((name, outcome)).or_insert(0) += 1;
            if ours != theirs {
                mismatches.push((
                    name,
                    format!(
                        "{} {name}: {}\n  engine    {}\n  reference {}",
                        case.id,
                        first_difference(&ours, &theirs),
                        abbreviated(&ours),
                        abbreviated(&theirs)
                    ),
                ));
            }
        }
    }
    Comparison {
        mismatches,
        outcomes,
        cases: cases.len(),
    }
}

fn first_difference(ours: &Value, theirs: &Value) -> String {
    for key in [
        "offered",
        "code",
        "months",
        "monthly",
        "total",
        "remaining",
        "after",
    ] {
        if ours.get(key) != theirs.get(key) {
            return format!(
                "{key} {} vs {}",
                ours.get(key).unwrap_or(&Value::Null),
                theirs.get(key).unwrap_or(&Value::Null)
            );
        }
    }
    let empty = Vec::new();
    let our_rows = ours["rows"].as_array().unwrap_or(&empty);
    let their_rows = theirs["rows"].as_array().unwrap_or(&empty);
    for (index, (a, b)) in our_rows.iter().zip(their_rows).enumerate() {
        if a != b {
            return format!(
                "row {} (date, opening, amount, interest, principal, closing) {a} vs {b}",
                index + 1
            );
        }
    }
    "rows differ".to_owned()
}

/// A row list cut to its first and last two rows, for a readable failure.
fn abbreviated(value: &Value) -> String {
    let mut value = value.clone();
    if let Some(rows) = value.get_mut("rows").and_then(Value::as_array_mut)
        && rows.len() > 4
    {
        let tail = rows.split_off(rows.len() - 2);
        rows.truncate(2);
        rows.push(json!("…"));
        rows.extend(tail);
    }
    value.to_string()
}

// ---------------------------------------------------------------- the cases

pub(super) fn case(
    id: &str,
    exponent: u32,
    terms: AccountTerms,
    situation: Situation,
    config: OptionsConfig,
) -> Case {
    Case {
        id: id.to_owned(),
        exponent,
        terms,
        situation,
        config,
    }
}

pub(super) fn loan(
    balance: i64,
    arrears: i64,
    contractual_payment: i64,
    rate: &str,
    remaining_term_months: u32,
) -> AccountTerms {
    AccountTerms {
        balance,
        arrears,
        contractual_payment,
        rate: AnnualRate::parse(rate).expect("valid rate"),
        remaining_term_months,
        fees_monthly: 0,
    }
}

pub(super) fn situation_on(today: Date, disposable_income: Option<i64>, payday: i8) -> Situation {
    Situation {
        disposable_income,
        protected: false,
        has_debt_advice_referral: false,
        breathing_space_used_in_last_12_months: false,
        today,
        payday,
    }
}

/// `OptionsConfig::default()` with a token payment of one major unit, as the service sets it.
pub(super) fn config_for(exponent: u32) -> OptionsConfig {
    OptionsConfig {
        token_amount: 10_i64.pow(exponent),
        ..OptionsConfig::default()
    }
}

/// A rate from 0 to 40 % with 0 to 10 decimals.
fn arb_rate() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("0".to_owned()),
        6 => (0_u32..=4_000).prop_map(|bps| Decimal::new(i64::from(bps), 4).normalize().to_string()),
        3 => (1_u32..=10).prop_flat_map(|decimals| {
            let top = 4 * 10_i64.pow(decimals - 1);
            (0..=top).prop_map(move |n| Decimal::new(n, decimals).normalize().to_string())
        }),
    ]
}

/// 1 to 10^9 minor units, every order of magnitude equally likely.
fn arb_balance() -> impl Strategy<Value = i64> {
    (0_u32..=9).prop_flat_map(|digits| 1..=10_i64.pow(digits).max(1))
}

fn arb_case(index: usize) -> impl Strategy<Value = Case> {
    let amounts = (
        arb_balance(),
        arb_rate(),
        prop_oneof![1 => Just(0_u32), 3 => 1_u32..=480, 2 => 1_u32..=36],
        prop_oneof![1 => Just(0_u32), 3 => 1_u32..=100],
        (0_u32..=3, 50_i64..=150),
        // No statement, nothing left over, a share of the balance, or around the contractual
        // payment, where most options are decided.
        prop_oneof![
            1 => Just((0_u32, 0_i64)),
            1 => (Just(1_u32), 0_i64..=300),
            3 => (Just(2_u32), 1_i64..=300),
            5 => (Just(3_u32), 30_i64..=200),
        ],
    );
    let situation = (
        0_i64..=3_650,
        1_i8..=31,
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        prop_oneof![Just(0_u32), Just(2_u32), Just(3_u32)],
    );
    let config = prop_oneof![
        3 => Just(None),
        1 => (1_u32..=24, 1_u32..=120, 0_u32..=120, 1_u32..=6, 0_i64..=90, 1_u32..=365)
            .prop_map(Some),
    ];
    (amounts, situation, config).prop_map(
        move |(
            (balance, rate, remaining, arrears_pct, (contract_kind, contract_pct), income),
            (offset, payday, protected, used, exponent),
            varied,
        )| {
            let rate = AnnualRate::parse(&rate).expect("valid rate");
            let mut config = config_for(exponent);
            if let Some((catch_up, revolving, extension, holiday, discount, review)) = varied {
                config.max_catch_up_months = catch_up;
                config.revolving_term_months = revolving;
                config.max_extension_months = extension;
                config.holiday_months = holiday;
                config.settlement_discount = Decimal::new(discount, 2);
                config.review_after_days = review;
            }
            let base = if remaining == 0 {
                config.revolving_term_months
            } else {
                remaining
            };
            // Mostly the contract's own annuity, give or take; sometimes any amount at all.
            let annuity = amortisation::level_payment(balance, &rate, base)
                .unwrap_or(1)
                .max(1);
            let contractual = match contract_kind {
                0 => 1 + (balance - 1) * contract_pct / 150,
                _ => (annuity * contract_pct / 100).max(1),
            };
            let (income_kind, income_pct) = income;
            let disposable = match income_kind {
                0 => None,
                1 => Some(-(balance * income_pct / 300)),
                2 => Some((balance * income_pct / 300).max(1)),
                _ => Some((contractual * income_pct / 100).max(1)),
            };
            Case {
                id: format!("random {index}"),
                exponent,
                terms: AccountTerms {
                    balance,
                    arrears: balance * i64::from(arrears_pct) / 100,
                    contractual_payment: contractual,
                    rate,
                    remaining_term_months: remaining,
                    fees_monthly: 0,
                },
                situation: Situation {
                    disposable_income: disposable,
                    protected,
                    has_debt_advice_referral: false,
                    breathing_space_used_in_last_12_months: used,
                    today: date(2020, 1, 1)
                        .checked_add(Span::new().days(offset))
                        .expect("in range"),
                    payday,
                },
                config,
            }
        },
    )
}

/// `count` random cases, the same ones on every run (proptest's deterministic generator).
fn random_cases(count: usize) -> Vec<Case> {
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|index| {
            arb_case(index)
                .new_tree(&mut runner)
                .expect("a case")
                .current()
        })
        .collect()
}

fn random_case_count() -> usize {
    std::env::var("RAPPORT_OPTIONS_REFERENCE_CASES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(DEFAULT_RANDOM_CASES)
}

// ---------------------------------------------------------------- the comparison

/// The hand-worked cases of `options::tests` and the random ones against the reference, once
/// per test run (the reference runs in one process for all of them).
fn comparison() -> &'static Comparison {
    static COMPARISON: OnceLock<Comparison> = OnceLock::new();
    COMPARISON.get_or_init(|| {
        let mut cases = super::tests::hand_worked_cases();
        cases.extend(random_cases(random_case_count()));
        compare(&cases)
    })
}

/// Every case agrees on `kind`, and the cases reached each of `outcomes` (so a kind is never
/// "checked" only where it is excluded).
fn agrees_on(kind: OptionKind, outcomes: &[&str]) {
    let name = kind_name(kind);
    let all = comparison();
    let differ: Vec<&str> = all
        .mismatches
        .iter()
        .filter(|(k, _)| *k == name)
        .map(|(_, m)| m.as_str())
        .collect();
    let seen: Vec<String> = all
        .outcomes
        .iter()
        .filter(|((k, _), _)| *k == name)
        .map(|((_, outcome), count)| format!("{outcome}: {count}"))
        .collect();
    assert!(
        differ.is_empty(),
        "{name}: {} of {} cases differ from the reference ({}); the first:\n{}",
        differ.len(),
        all.cases,
        seen.join(", "),
        differ[..differ.len().min(8)].join("\n")
    );
    for outcome in outcomes {
        assert!(
            all.outcomes.contains_key(&(name, (*outcome).to_owned())),
            "{name}: no case reached {outcome:?}; seen {}",
            seen.join(", ")
        );
    }
}

#[test]
fn catch_up_agrees_with_the_reference() {
    agrees_on(
        OptionKind::CatchUp,
        &[
            "offered, then CONTRACT_RESUMES",
            "offered, then PAID_OFF",
            "NO_ARREARS",
            "CATCH_UP_NOT_AFFORDABLE",
            "CATCH_UP_DOES_NOT_COVER_INTEREST",
            "NEEDS_STATEMENT",
            "NO_DISPOSABLE_INCOME",
        ],
    );
}

#[test]
fn reduced_payment_agrees_with_the_reference() {
    agrees_on(
        OptionKind::ReducedPayment,
        &[
            "offered, then PAID_OFF",
            "REDUCED_PAYMENT_NOT_AFFORDABLE",
            "BALANCE_TOO_SMALL_TO_SPREAD",
        ],
    );
}

#[test]
fn term_extension_agrees_with_the_reference() {
    agrees_on(
        OptionKind::TermExtension,
        &[
            "offered, then PAID_OFF",
            "TERM_EXTENSION_NOT_AFFORDABLE",
            "TERM_EXTENSION_NOT_NEEDED",
            "TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT",
        ],
    );
}

#[test]
fn payment_holiday_agrees_with_the_reference() {
    agrees_on(
        OptionKind::PaymentHoliday,
        &["offered, then PAID_OFF", "PAYMENT_HOLIDAY_NOT_AFFORDABLE"],
    );
}

#[test]
fn interest_fee_freeze_agrees_with_the_reference() {
    agrees_on(
        OptionKind::InterestFeeFreeze,
        &[
            "offered, then PAID_OFF",
            "INTEREST_FEE_FREEZE_NOT_AFFORDABLE",
            "INTEREST_FEE_FREEZE_TOO_LONG",
        ],
    );
}

#[test]
fn settlement_agrees_with_the_reference() {
    agrees_on(
        OptionKind::Settlement,
        &[
            "offered, then FORGIVEN",
            "offered, then PAID_OFF",
            "SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE",
        ],
    );
}

#[test]
fn token_payment_agrees_with_the_reference() {
    agrees_on(
        OptionKind::TokenPayment,
        &["offered, then REVIEW", "TOKEN_PAYMENT_NOT_NEEDED"],
    );
}

#[test]
fn breathing_space_agrees_with_the_reference() {
    agrees_on(
        OptionKind::BreathingSpace,
        &[
            "offered, then REVIEW",
            "ALREADY_PROTECTED",
            "BREATHING_SPACE_USED_IN_LAST_12_MONTHS",
        ],
    );
}
