//! Half-even ("banker's") rounding of an exact quotient to a whole number of minor units.
//!
//! DESIGN.md fixes installment rounding as half-even so that any two implementations of a
//! schedule agree to the minor unit, and so ties do not drift every schedule the same way.

use crate::MoneyError;

/// `numerator / denominator` rounded to the nearest integer, ties to the even neighbour:
/// 0.5 → 0, 1.5 → 2, 2.5 → 2, −2.5 → −2.
///
/// The denominator must be positive (scale a negative one into the numerator's sign first);
/// otherwise [`MoneyError::NonPositiveDenominator`]. The result never overflows: with a
/// denominator of 1 it is the numerator, and with 2 or more its size is at most half of it.
pub fn div_round_half_even(numerator: i128, denominator: i128) -> Result<i128, MoneyError> {
    if denominator <= 0 {
        return Err(MoneyError::NonPositiveDenominator { denominator });
    }
    // Floor quotient and a remainder in 0..denominator, whatever the numerator's sign.
    let floor = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    // Compare remainder with denominator − remainder rather than 2·remainder with denominator,
    // which could overflow for denominators above i128::MAX / 2.
    let above_floor = denominator - remainder;
    let round_up = match remainder.cmp(&above_floor) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => floor % 2 != 0,
    };
    // floor + 1 only when the remainder is non-zero, so the denominator is at least 2 and floor
    // is at most i128::MAX / 2.
    Ok(if round_up { floor + 1 } else { floor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn halves(numerator: i128) -> i128 {
        div_round_half_even(numerator, 2).expect("positive denominator")
    }

    #[test]
    fn ties_go_to_the_even_neighbour() {
        assert_eq!(halves(1), 0); // 0.5
        assert_eq!(halves(3), 2); // 1.5
        assert_eq!(halves(5), 2); // 2.5
        assert_eq!(halves(7), 4); // 3.5
        assert_eq!(halves(-1), 0); // -0.5
        assert_eq!(halves(-3), -2); // -1.5
        assert_eq!(halves(-5), -2); // -2.5
        assert_eq!(halves(-7), -4); // -3.5
    }

    #[test]
    fn non_ties_go_to_the_nearest_integer() {
        let round = |n, d| div_round_half_even(n, d).expect("positive denominator");
        assert_eq!(round(14, 10), 1); // 1.4
        assert_eq!(round(16, 10), 2); // 1.6
        assert_eq!(round(-14, 10), -1);
        assert_eq!(round(-16, 10), -2);
        assert_eq!(round(251, 100), 3); // 2.51: just above the tie
        assert_eq!(round(-251, 100), -3);
        assert_eq!(round(10, 5), 2); // exact
        assert_eq!(round(0, 7), 0);
        assert_eq!(round(1, 3), 0);
        assert_eq!(round(2, 3), 1);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let round = |n, d| div_round_half_even(n, d).expect("positive denominator");
        assert_eq!(round(i128::MAX, 1), i128::MAX);
        assert_eq!(round(i128::MIN, 1), i128::MIN);
        // i128::MAX / 2 = (2^126 - 1) + 0.5, and 2^126 - 1 is odd, so the tie goes up.
        assert_eq!(round(i128::MAX, 2), i128::MAX / 2 + 1);
        assert_eq!(round(i128::MIN, 2), i128::MIN / 2);
        assert_eq!(round(i128::MAX, i128::MAX), 1);
        assert_eq!(round(i128::MIN, i128::MAX), -1);
        assert_eq!(round(1, i128::MAX), 0);
    }

    #[test]
    fn the_denominator_must_be_positive() {
        for denominator in [0, -1, i128::MIN] {
            assert_eq!(
                div_round_half_even(1, denominator),
                Err(MoneyError::NonPositiveDenominator { denominator })
            );
        }
    }
}
