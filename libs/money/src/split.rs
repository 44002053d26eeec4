//! Exact division of an amount into parts: the parts always add back to the whole, to the
//! minor unit, so no cent is created or lost.

use std::cmp::Reverse;

use crate::{Money, MoneyError, Operation};

impl Money {
    /// Splits `self` into `parts` amounts that sum exactly to `self` and differ from each other
    /// by at most one minor unit.
    ///
    /// Order: the parts with the larger magnitude come first, so EUR 10.00 in 3 is
    /// `[3.34, 3.33, 3.33]` and EUR -10.00 in 3 is `[-3.34, -3.33, -3.33]`; splitting a negated
    /// amount gives the negated parts.
    ///
    /// Allocates one `Money` per part; `parts` is expected to be a count of people or
    /// installments, not an untrusted number from the wire.
    pub fn split(self, parts: usize) -> Result<Vec<Self>, MoneyError> {
        if parts == 0 {
            return Err(MoneyError::ZeroParts);
        }
        // In i128 so that neither i64::MIN nor a huge part count can overflow.
        let total = i128::from(self.minor_units());
        let count = i128::try_from(parts).map_err(|_| self.overflow())?;
        let base = total / count; // truncates toward zero: the smaller magnitude
        let remainder = total % count; // same sign as total, |remainder| < count
        let larger = base + remainder.signum();
        let larger_count =
            usize::try_from(remainder.unsigned_abs()).map_err(|_| self.overflow())?;
        (0..parts)
            .map(|index| self.with_units(if index < larger_count { larger } else { base }))
            .collect()
    }

    /// Shares `self` out in proportion to integer `weights`, one part per weight, summing
    /// exactly to `self`.
    ///
    /// Each part is its exact share rounded toward zero; the minor units that leaves over go
    /// one each to the parts with the largest remainders (largest-remainder method), earlier
    /// parts first on equal remainders. So a part is always within one minor unit of its exact
    /// share, a zero weight always gets zero, and equal weights give the same result as
    /// [`Money::split`]. Negative amounts are shared as their magnitude, then negated.
    pub fn allocate(self, weights: &[u64]) -> Result<Vec<Self>, MoneyError> {
        if weights.is_empty() {
            return Err(MoneyError::NoWeights);
        }
        let total_weight = weights
            .iter()
            .try_fold(0_u128, |sum, &weight| sum.checked_add(u128::from(weight)))
            .ok_or_else(|| self.overflow())?;
        if total_weight == 0 {
            return Err(MoneyError::ZeroTotalWeight);
        }

        // |amount| < 2^64 and weight < 2^64, so every product fits in a u128.
        let magnitude = u128::from(self.minor_units().unsigned_abs());
        let mut shares: Vec<u128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
        for (index, &weight) in weights.iter().enumerate() {
            let exact = magnitude * u128::from(weight);
            shares.push(exact / total_weight);
            remainders.push((exact % total_weight, index));
        }

        // Fewer units are left over than there are non-zero remainders (each remainder is below
        // one unit), so zero-weight parts never receive one.
        let distributed: u128 = shares.iter().sum();
        let left_over = magnitude - distributed;
        remainders.sort_by_key(|&(remainder, index)| (Reverse(remainder), index));
        for &(_, index) in remainders
            .iter()
            .take(usize::try_from(left_over).unwrap_or(usize::MAX))
        {
            if let Some(share) = shares.get_mut(index) {
                *share += 1;
            }
        }

        let negative = self.is_negative();
        shares
            .into_iter()
            .map(|share| {
                let share = i128::try_from(share).map_err(|_| self.overflow())?;
                self.with_units(if negative { -share } else { share })
            })
            .collect()
    }

    /// A part of `self`; parts never exceed the whole, so the conversion cannot fail in
    /// practice, but it is checked rather than cast.
    fn with_units(self, units: i128) -> Result<Self, MoneyError> {
        i64::try_from(units)
            .map(|units| Self::from_minor(self.currency(), units))
            .map_err(|_| self.overflow())
    }

    fn overflow(self) -> MoneyError {
        MoneyError::Overflow {
            operation: Operation::Multiplication,
            currency: self.currency(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn eur(minor_units: i64) -> Money {
        Money::from_minor(Currency::EUR, minor_units)
    }

    fn units(amounts: &[Money]) -> Vec<i64> {
        amounts.iter().map(|amount| amount.minor_units()).collect()
    }

    #[test]
    fn split_puts_the_larger_parts_first() {
        assert_eq!(
            units(&eur(1000).split(3).expect("3 parts")),
            [334, 333, 333]
        );
        assert_eq!(
            units(&eur(1001).split(3).expect("3 parts")),
            [334, 334, 333]
        );
        assert_eq!(
            units(&eur(-1000).split(3).expect("3 parts")),
            [-334, -333, -333]
        );
        assert_eq!(units(&eur(2).split(5).expect("5 parts")), [1, 1, 0, 0, 0]);
        assert_eq!(units(&eur(0).split(2).expect("2 parts")), [0, 0]);
        assert_eq!(units(&eur(7).split(1).expect("1 part")), [7]);
    }

    #[test]
    fn split_handles_the_extremes() {
        assert_eq!(units(&eur(i64::MIN).split(1).expect("1 part")), [i64::MIN]);
        let halves = eur(i64::MIN).split(2).expect("2 parts");
        assert_eq!(units(&halves), [i64::MIN / 2, i64::MIN / 2]);
        let thirds = eur(i64::MAX).split(3).expect("3 parts");
        assert_eq!(
            thirds
                .iter()
                .map(|m| i128::from(m.minor_units()))
                .sum::<i128>(),
            i128::from(i64::MAX)
        );
    }

    #[test]
    fn split_into_zero_parts_is_an_error() {
        assert_eq!(eur(100).split(0), Err(MoneyError::ZeroParts));
    }

    #[test]
    fn allocate_follows_the_weights_with_largest_remainder() {
        // 100 by 1:1:1 is 33.33… each; one unit left goes to the first tie.
        assert_eq!(
            units(&eur(100).allocate(&[1, 1, 1]).expect("weights")),
            [34, 33, 33]
        );
        // 100 by 70:20:10.
        assert_eq!(
            units(&eur(100).allocate(&[70, 20, 10]).expect("weights")),
            [70, 20, 10]
        );
        // 5 by 3:7 is 1.5 / 3.5: remainders tie, the earlier part gets the unit.
        assert_eq!(units(&eur(5).allocate(&[3, 7]).expect("weights")), [2, 3]);
        // 10 by 1:2:0 is 3.33 / 6.67 / 0: the larger remainder (0.67) gets the unit.
        assert_eq!(
            units(&eur(10).allocate(&[1, 2, 0]).expect("weights")),
            [3, 7, 0]
        );
        assert_eq!(
            units(&eur(-10).allocate(&[1, 2, 0]).expect("weights")),
            [-3, -7, 0]
        );
    }

    #[test]
    fn allocate_handles_the_extremes() {
        let parts = eur(i64::MIN)
            .allocate(&[u64::MAX, u64::MAX, 1])
            .expect("weights");
        assert_eq!(
            parts
                .iter()
                .map(|m| i128::from(m.minor_units()))
                .sum::<i128>(),
            i128::from(i64::MIN)
        );
    }

    #[test]
    fn allocate_needs_a_positive_total_weight() {
        assert_eq!(eur(100).allocate(&[]), Err(MoneyError::NoWeights));
        assert_eq!(eur(100).allocate(&[0, 0]), Err(MoneyError::ZeroTotalWeight));
    }
}
