//! Exact integer arithmetic behind the level payment.
//!
//! The level payment `P·r / (1 − (1 + r)^−n)` is a ratio of integers once the rate is written as
//! `a / b`. Deciding its half-even rounding needs the exact ratio: ties are real at everyday inputs
//! (EUR 100.50 at 12 % over 2 months is exactly 51.005), and a 28-digit decimal cannot tell
//! 51.005 from 51.00499…9. A few hundred 64-bit limbs settle it exactly and quickly.

use std::cmp::Ordering;

/// A non-negative integer of any size, little-endian 64-bit limbs, no trailing zero limbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BigNat {
    limbs: Vec<u64>,
}

impl BigNat {
    pub(super) fn from_u128(value: u128) -> Self {
        // Splitting a u128 into its two 64-bit halves; the truncation is the point.
        #[allow(clippy::cast_possible_truncation)]
        let limbs = vec![value as u64, (value >> 64) as u64];
        Self::trimmed(limbs)
    }

    /// `base^exponent`, multiplying by as large a power of `base` as fits in one limb at a time.
    pub(super) fn pow(base: u64, exponent: u32) -> Self {
        let mut result = Self::from_u128(1);
        let mut remaining = exponent;
        while remaining > 0 {
            let mut chunk = base;
            remaining -= 1;
            while remaining > 0 {
                match chunk.checked_mul(base) {
                    Some(bigger) => {
                        chunk = bigger;
                        remaining -= 1;
                    }
                    None => break,
                }
            }
            result = result.times(chunk);
        }
        result
    }

    #[must_use]
    pub(super) fn times(&self, factor: u64) -> Self {
        let mut limbs = Vec::with_capacity(self.limbs.len() + 1);
        let mut carry: u128 = 0;
        for &limb in &self.limbs {
            let product = u128::from(limb) * u128::from(factor) + carry;
            // Low half stays in this limb, high half carries: truncation intended.
            #[allow(clippy::cast_possible_truncation)]
            limbs.push(product as u64);
            carry = product >> 64;
        }
        #[allow(clippy::cast_possible_truncation)]
        limbs.push(carry as u64);
        Self::trimmed(limbs)
    }

    #[must_use]
    pub(super) fn plus(&self, other: &Self) -> Self {
        let length = self.limbs.len().max(other.limbs.len());
        let mut limbs = Vec::with_capacity(length + 1);
        let mut carry = false;
        for index in 0..length {
            let left = self.limbs.get(index).copied().unwrap_or(0);
            let right = other.limbs.get(index).copied().unwrap_or(0);
            let (sum, first) = left.overflowing_add(right);
            let (sum, second) = sum.overflowing_add(u64::from(carry));
            limbs.push(sum);
            carry = first || second;
        }
        limbs.push(u64::from(carry));
        Self::trimmed(limbs)
    }

    /// `self − other`, or `None` when `other` is larger.
    #[must_use]
    pub(super) fn minus(&self, other: &Self) -> Option<Self> {
        if self.cmp(other) == Ordering::Less {
            return None;
        }
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = false;
        for (index, &left) in self.limbs.iter().enumerate() {
            let right = other.limbs.get(index).copied().unwrap_or(0);
            let (difference, first) = left.overflowing_sub(right);
            let (difference, second) = difference.overflowing_sub(u64::from(borrow));
            limbs.push(difference);
            borrow = first || second;
        }
        Some(Self::trimmed(limbs))
    }

    fn trimmed(mut limbs: Vec<u64>) -> Self {
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        Self { limbs }
    }
}

impl Ord for BigNat {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for BigNat {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `numerator / denominator` rounded half-even (DESIGN.md: installment rounding half-even), for
/// a quotient known to lie in `[low, high)`. Binary search on `k·denominator ≤ numerator`, then
/// one comparison of `2·numerator` with `(2k + 1)·denominator` decides the rounding exactly.
pub(super) fn round_half_even_ratio(
    numerator: &BigNat,
    denominator: &BigNat,
    mut low: u64,
    mut high: u64,
) -> u128 {
    // Invariant: low·denominator ≤ numerator < high·denominator.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if denominator.times(middle) <= *numerator {
            low = middle;
        } else {
            high = middle;
        }
    }
    let floor = low;
    let twice_numerator = numerator.times(2);
    let midpoint = denominator.times(floor).times(2).plus(denominator);
    let round_up = match twice_numerator.cmp(&midpoint) {
        Ordering::Less => false,
        Ordering::Greater => true,
        Ordering::Equal => floor % 2 == 1,
    };
    u128::from(floor) + u128::from(round_up)
}

/// `numerator / denominator` rounded half-even, for machine-sized operands.
pub(super) fn round_half_even_u128(numerator: u128, denominator: u128) -> u128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let round_up = match (remainder * 2).cmp(&denominator) {
        Ordering::Less => false,
        Ordering::Greater => true,
        Ordering::Equal => quotient % 2 == 1,
    };
    quotient + u128::from(round_up)
}

/// Greatest common divisor, to keep the rate's fraction (and so every power of it) small.
pub(super) fn gcd(mut left: u64, mut right: u64) -> u64 {
    while right != 0 {
        (left, right) = (right, left % right);
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_matches_machine_arithmetic_where_it_fits() {
        assert_eq!(BigNat::pow(7, 0), BigNat::from_u128(1));
        assert_eq!(BigNat::pow(10, 38), BigNat::from_u128(10u128.pow(38)));
        assert_eq!(BigNat::pow(3, 80), BigNat::from_u128(3u128.pow(80)));
        assert_eq!(
            BigNat::pow(u64::MAX, 2),
            BigNat::from_u128(u128::from(u64::MAX).pow(2))
        );
    }

    #[test]
    fn large_powers_round_trip_through_subtraction() {
        let big = BigNat::pow(433, 480);
        let bigger = big.times(433);
        assert_eq!(bigger, BigNat::pow(433, 481));
        let difference = bigger.minus(&big).expect("larger minus smaller");
        assert_eq!(difference, big.times(432));
        assert_eq!(big.minus(&bigger), None);
        assert_eq!(big.plus(&big), big.times(2));
    }

    #[test]
    fn ratio_rounds_half_even_exactly() {
        let ratio = |numerator: u128, denominator: u128| {
            round_half_even_ratio(
                &BigNat::from_u128(numerator),
                &BigNat::from_u128(denominator),
                0,
                u64::try_from(numerator / denominator + 1).expect("small"),
            )
        };
        assert_eq!(ratio(5, 2), 2);
        assert_eq!(ratio(7, 2), 4);
        assert_eq!(ratio(10, 4), 2);
        assert_eq!(ratio(11, 4), 3);
        assert_eq!(ratio(9, 4), 2);
        assert_eq!(ratio(1, 3), 0);
        assert_eq!(ratio(2, 3), 1);
        assert_eq!(ratio(0, 3), 0);
    }

    #[test]
    fn machine_ratio_rounds_half_even() {
        assert_eq!(round_half_even_u128(15, 10), 2);
        assert_eq!(round_half_even_u128(25, 10), 2);
        assert_eq!(round_half_even_u128(26, 10), 3);
        assert_eq!(round_half_even_u128(24, 10), 2);
    }

    #[test]
    fn gcd_reduces_fractions() {
        assert_eq!(gcd(1299, 120_000), 3);
        assert_eq!(gcd(0, 12), 12);
    }
}
