//! Hand-worked cases of every kind, to the minor unit (also run through the Python reference).

use super::*;

/// Worked by hand from DESIGN.md's convention (r = annual / 12; interest = opening × r,
/// half-even); the arithmetic is beside each figure in the tests below. All go through the
/// independent reference too, with the random cases (`reference_check`). Today is
/// 10 March 2025 and the payday the 28th, so plans start on 28 March 2025.
pub(in crate::options) fn hand_worked_cases() -> Vec<reference_check::Case> {
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
