//! Unit tests of the ranking, the amounts, the waivers, the recovery figures and bad input.

use super::*;

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
