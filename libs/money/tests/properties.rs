//! Properties every amount must satisfy, checked against exact i128 arithmetic.

use proptest::prelude::*;
use rapport_money::{Currency, Money, MoneyError, Operation, div_round_half_even};

/// Any i64, with the edges (where wrapping bugs live) drawn far more often than chance would.
fn minor_units() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => any::<i64>(),
        2 => -1_000_000_i64..1_000_000,
        1 => prop::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            i64::MIN / 2,
            -1,
            0,
            1,
            i64::MAX / 2,
            i64::MAX - 1,
            i64::MAX,
        ]),
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(Currency::all().collect::<Vec<_>>())
}

fn money() -> impl Strategy<Value = Money> {
    (currency(), minor_units()).prop_map(|(currency, units)| Money::from_minor(currency, units))
}

fn units(amounts: &[Money]) -> Vec<i128> {
    amounts
        .iter()
        .map(|amount| i128::from(amount.minor_units()))
        .collect()
}

/// The result i128 arithmetic says a checked operation must give.
fn expected(exact: i128, currency: Currency, operation: Operation) -> Result<Money, MoneyError> {
    i64::try_from(exact)
        .map(|units| Money::from_minor(currency, units))
        .map_err(|_| MoneyError::Overflow {
            operation,
            currency,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn split_is_exact_and_even(amount in money(), parts in 1_usize..=1000) {
        let split = amount.split(parts).expect("parts is positive");
        let split_units = units(&split);
        prop_assert_eq!(split.len(), parts);
        prop_assert!(split.iter().all(|part| part.currency() == amount.currency()));
        prop_assert_eq!(split_units.iter().sum::<i128>(), i128::from(amount.minor_units()));
        let largest = split_units.iter().max().expect("at least one part");
        let smallest = split_units.iter().min().expect("at least one part");
        prop_assert!(largest - smallest <= 1);
        // Larger magnitudes first.
        prop_assert!(split_units.windows(2).all(|pair| pair[0].abs() >= pair[1].abs()));
    }

    #[test]
    fn split_of_a_negation_is_the_negated_split(amount in money(), parts in 1_usize..=1000) {
        prop_assume!(amount.minor_units() != i64::MIN);
        let negated = amount.checked_neg().expect("not i64::MIN");
        let direct: Vec<i128> = units(&negated.split(parts).expect("parts is positive"));
        let mirrored: Vec<i128> = units(&amount.split(parts).expect("parts is positive"))
            .into_iter()
            .map(|part| -part)
            .collect();
        prop_assert_eq!(direct, mirrored);
    }

    #[test]
    fn allocate_is_exact_and_within_one_unit_of_each_share(
        amount in money(),
        weights in prop::collection::vec(
            prop_oneof![3 => 0_u64..1000, 1 => any::<u64>()],
            1..50,
        ),
    ) {
        prop_assume!(weights.iter().any(|&weight| weight > 0));
        let parts = amount.allocate(&weights).expect("positive total weight");
        let part_units = units(&parts);
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(part_units.iter().sum::<i128>(), i128::from(amount.minor_units()));

        // Each part is its exact share |amount| · w / W, rounded down or (when not exact) up.
        // |amount| · w < 2^127 fits a u128.
        let total_weight: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        let magnitude = u128::from(amount.minor_units().unsigned_abs());
        for (part, &weight) in part_units.iter().zip(&weights) {
            prop_assert!(*part == 0 || (*part < 0) == amount.is_negative());
            let exact = magnitude * u128::from(weight);
            let (floor, remainder) = (exact / total_weight, exact % total_weight);
            let part_magnitude = part.unsigned_abs();
            prop_assert!(
                part_magnitude == floor || (remainder > 0 && part_magnitude == floor + 1),
                "part {} for weight {} of {}", part, weight, total_weight
            );
            if weight == 0 {
                prop_assert_eq!(*part, 0);
            }
        }
    }

    #[test]
    fn allocate_by_equal_weights_is_split(amount in money(), parts in 1_usize..=200, weight in 1_u64..1000) {
        let weights = vec![weight; parts];
        prop_assert_eq!(
            amount.allocate(&weights).expect("positive weights"),
            amount.split(parts).expect("parts is positive")
        );
    }

    #[test]
    fn add_matches_i128_or_overflows(a in minor_units(), b in minor_units(), currency in currency()) {
        let exact = i128::from(a) + i128::from(b);
        prop_assert_eq!(
            Money::from_minor(currency, a).checked_add(Money::from_minor(currency, b)),
            expected(exact, currency, Operation::Addition)
        );
    }

    #[test]
    fn sub_matches_i128_or_overflows(a in minor_units(), b in minor_units(), currency in currency()) {
        let exact = i128::from(a) - i128::from(b);
        prop_assert_eq!(
            Money::from_minor(currency, a).checked_sub(Money::from_minor(currency, b)),
            expected(exact, currency, Operation::Subtraction)
        );
    }

    #[test]
    fn mul_matches_i128_or_overflows(a in minor_units(), factor in minor_units(), currency in currency()) {
        let exact = i128::from(a) * i128::from(factor);
        prop_assert_eq!(
            Money::from_minor(currency, a).checked_mul(factor),
            expected(exact, currency, Operation::Multiplication)
        );
    }

    #[test]
    fn neg_matches_i128_or_overflows(amount in money()) {
        let exact = -i128::from(amount.minor_units());
        prop_assert_eq!(
            amount.checked_neg(),
            expected(exact, amount.currency(), Operation::Negation)
        );
    }

    #[test]
    fn add_then_sub_round_trips(a in money(), b in minor_units()) {
        let b = Money::from_minor(a.currency(), b);
        if let Ok(sum) = a.checked_add(b) {
            prop_assert_eq!(sum.checked_sub(b), Ok(a));
        }
        if let Ok(difference) = a.checked_sub(b) {
            prop_assert_eq!(difference.checked_add(b), Ok(a));
        }
    }

    #[test]
    fn mixed_currencies_never_combine(a in money(), b in money()) {
        prop_assume!(a.currency() != b.currency());
        let mismatch = MoneyError::CurrencyMismatch { left: a.currency(), right: b.currency() };
        prop_assert_eq!(a.checked_add(b), Err(mismatch.clone()));
        prop_assert_eq!(a.checked_sub(b), Err(mismatch.clone()));
        prop_assert_eq!(a.checked_cmp(b), Err(mismatch));
    }

    #[test]
    fn display_and_parse_round_trip(amount in money()) {
        let text = amount.to_string();
        prop_assert_eq!(Money::parse(&text), Ok(amount));
        prop_assert_eq!(
            Money::from_decimal_str(amount.currency(), &amount.to_decimal_string()),
            Ok(amount)
        );
    }

    #[test]
    fn digits_finer_than_the_minor_unit_are_refused(
        amount in money(),
        finer in 1_u8..=9,
    ) {
        let decimal = amount.to_decimal_string();
        let separator = if amount.currency().minor_unit_exponent() == 0 { "." } else { "" };
        let text = format!("{decimal}{separator}{finer}");
        prop_assert_eq!(
            Money::from_decimal_str(amount.currency(), &text),
            Err(MoneyError::SubMinorAmount { currency: amount.currency(), input: text.clone() })
        );
    }

    #[test]
    fn half_even_is_nearest_with_ties_to_even(
        numerator in any::<i64>(),
        denominator in 1_i64..=i64::MAX,
    ) {
        let (numerator, denominator) = (i128::from(numerator), i128::from(denominator));
        let rounded = div_round_half_even(numerator, denominator).expect("positive denominator");
        // |numerator − rounded · denominator| ≤ denominator / 2, with equality only for an even
        // result. All of this fits i128 because both inputs are within i64.
        let twice_error = 2 * (numerator - rounded * denominator).abs();
        prop_assert!(twice_error <= denominator);
        if twice_error == denominator {
            prop_assert_eq!(rounded % 2, 0);
        }
    }
}
