//! Reference hardship cases: who must get which option, who must not, and what comes first.

use super::*;

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
