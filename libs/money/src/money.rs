//! An amount of money: a currency and a signed whole number of its minor units.

use std::cmp::Ordering;

use crate::{Currency, MoneyError, Operation};

/// An exact amount: `minor_units` of `currency`'s minor unit (cents for EUR, yen for JPY, fils
/// for KWD). Never a float. Every operation is checked: overflow and mixing currencies are
/// errors, never a wrap or a panic.
///
/// There is deliberately no `Ord`: amounts in different currencies do not compare. Use
/// [`Money::checked_cmp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    currency: Currency,
    minor_units: i64,
}

impl Money {
    /// `minor_units` of `currency`, e.g. `Money::from_minor(Currency::EUR, 1234)` is EUR 12.34.
    pub const fn from_minor(currency: Currency, minor_units: i64) -> Self {
        Self {
            currency,
            minor_units,
        }
    }

    /// Nothing, in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::from_minor(currency, 0)
    }

    /// `major` whole units plus `minor` minor units: `(EUR, 12, 34)` is EUR 12.34,
    /// `(EUR, -12, -34)` is EUR -12.34 and `(EUR, 0, -5)` is EUR -0.05.
    ///
    /// `minor` must be smaller in size than one major unit (so always 0 for JPY) and must not
    /// have the opposite sign to `major`; anything else is [`MoneyError::InvalidMinorPart`].
    pub fn from_major_minor(
        currency: Currency,
        major: i64,
        minor: i64,
    ) -> Result<Self, MoneyError> {
        let per_major = currency.minor_units_per_major();
        let signs_conflict = (major > 0 && minor < 0) || (major < 0 && minor > 0);
        if minor.unsigned_abs() >= per_major.unsigned_abs() || signs_conflict {
            return Err(MoneyError::InvalidMinorPart {
                currency,
                major,
                minor,
            });
        }
        major
            .checked_mul(per_major)
            .and_then(|scaled| scaled.checked_add(minor))
            .map(|minor_units| Self::from_minor(currency, minor_units))
            .ok_or(MoneyError::Overflow {
                operation: Operation::Multiplication,
                currency,
            })
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub const fn minor_units(self) -> i64 {
        self.minor_units
    }

    pub const fn is_zero(self) -> bool {
        self.minor_units == 0
    }

    pub const fn is_positive(self) -> bool {
        self.minor_units > 0
    }

    pub const fn is_negative(self) -> bool {
        self.minor_units < 0
    }

    /// `self + other`; both must be in the same currency.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        self.minor_units
            .checked_add(other.minor_units)
            .map(|sum| Self::from_minor(currency, sum))
            .ok_or(MoneyError::Overflow {
                operation: Operation::Addition,
                currency,
            })
    }

    /// `self - other`; both must be in the same currency.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        self.minor_units
            .checked_sub(other.minor_units)
            .map(|difference| Self::from_minor(currency, difference))
            .ok_or(MoneyError::Overflow {
                operation: Operation::Subtraction,
                currency,
            })
    }

    /// `self × factor`, e.g. a monthly amount times a number of months.
    pub fn checked_mul(self, factor: i64) -> Result<Self, MoneyError> {
        self.minor_units
            .checked_mul(factor)
            .map(|product| Self::from_minor(self.currency, product))
            .ok_or(MoneyError::Overflow {
                operation: Operation::Multiplication,
                currency: self.currency,
            })
    }

    /// `-self`; only the most negative amount (`i64::MIN` minor units) has no negation.
    pub fn checked_neg(self) -> Result<Self, MoneyError> {
        self.minor_units
            .checked_neg()
            .map(|negated| Self::from_minor(self.currency, negated))
            .ok_or(MoneyError::Overflow {
                operation: Operation::Negation,
                currency: self.currency,
            })
    }

    /// The total of `amounts`, all in `currency` (zero when there are none), e.g. a schedule's
    /// installments summed to check them against the plan total.
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Self>,
    ) -> Result<Self, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), |total, amount| {
                total.checked_add(amount).map_err(|error| match error {
                    MoneyError::Overflow { currency, .. } => MoneyError::Overflow {
                        operation: Operation::Sum,
                        currency,
                    },
                    other => other,
                })
            })
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(self, other: Self) -> Result<Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.minor_units.cmp(&other.minor_units))
    }

    fn same_currency(self, other: Self) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EUR: Currency = Currency::EUR;

    fn eur(minor_units: i64) -> Money {
        Money::from_minor(EUR, minor_units)
    }

    #[test]
    fn from_major_minor_combines_parts_with_one_sign() {
        assert_eq!(Money::from_major_minor(EUR, 12, 34), Ok(eur(1234)));
        assert_eq!(Money::from_major_minor(EUR, -12, -34), Ok(eur(-1234)));
        assert_eq!(Money::from_major_minor(EUR, 0, -5), Ok(eur(-5)));
        assert_eq!(Money::from_major_minor(EUR, -3, 0), Ok(eur(-300)));
        assert_eq!(
            Money::from_major_minor(Currency::JPY, 1500, 0),
            Ok(Money::from_minor(Currency::JPY, 1500))
        );
        assert_eq!(
            Money::from_major_minor(Currency::KWD, 1, 234),
            Ok(Money::from_minor(Currency::KWD, 1234))
        );
    }

    #[test]
    fn from_major_minor_refuses_oversized_or_contrary_minor_parts() {
        for (currency, major, minor) in [
            (EUR, 12, 100),
            (EUR, 12, -34),
            (EUR, -12, 34),
            (EUR, 0, i64::MIN),
            (Currency::JPY, 1, 1),
            (Currency::KWD, 1, 1000),
        ] {
            assert_eq!(
                Money::from_major_minor(currency, major, minor),
                Err(MoneyError::InvalidMinorPart {
                    currency,
                    major,
                    minor
                })
            );
        }
    }

    #[test]
    fn from_major_minor_refuses_majors_beyond_the_range() {
        assert_eq!(
            Money::from_major_minor(EUR, i64::MAX / 100 + 1, 0),
            Err(MoneyError::Overflow {
                operation: Operation::Multiplication,
                currency: EUR
            })
        );
        assert_eq!(
            Money::from_major_minor(EUR, i64::MAX / 100, 7),
            Ok(eur(i64::MAX))
        );
        assert_eq!(
            Money::from_major_minor(EUR, i64::MIN / 100, -8),
            Ok(eur(i64::MIN))
        );
    }

    #[test]
    fn arithmetic_in_one_currency() {
        assert_eq!(eur(1234).checked_add(eur(66)), Ok(eur(1300)));
        assert_eq!(eur(1234).checked_sub(eur(2000)), Ok(eur(-766)));
        assert_eq!(eur(1234).checked_mul(-3), Ok(eur(-3702)));
        assert_eq!(eur(1234).checked_neg(), Ok(eur(-1234)));
        assert_eq!(
            Money::checked_sum(EUR, [eur(1), eur(2), eur(3)]),
            Ok(eur(6))
        );
        assert_eq!(Money::checked_sum(EUR, []), Ok(eur(0)));
    }

    #[test]
    fn overflow_is_an_error_naming_the_operation() {
        let overflow = |operation| {
            Err(MoneyError::Overflow {
                operation,
                currency: EUR,
            })
        };
        assert_eq!(
            eur(i64::MAX).checked_add(eur(1)),
            overflow(Operation::Addition)
        );
        assert_eq!(
            eur(i64::MIN).checked_sub(eur(1)),
            overflow(Operation::Subtraction)
        );
        assert_eq!(
            eur(i64::MAX).checked_mul(2),
            overflow(Operation::Multiplication)
        );
        assert_eq!(
            eur(i64::MIN).checked_mul(-1),
            overflow(Operation::Multiplication)
        );
        assert_eq!(eur(i64::MIN).checked_neg(), overflow(Operation::Negation));
        assert_eq!(
            Money::checked_sum(EUR, [eur(i64::MAX), eur(1)]),
            overflow(Operation::Sum)
        );
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let usd = Money::from_minor(Currency::USD, 1);
        let mismatch = Err(MoneyError::CurrencyMismatch {
            left: EUR,
            right: Currency::USD,
        });
        assert_eq!(eur(1).checked_add(usd), mismatch);
        assert_eq!(eur(1).checked_sub(usd), mismatch);
        assert_eq!(
            eur(1).checked_cmp(usd),
            Err(MoneyError::CurrencyMismatch {
                left: EUR,
                right: Currency::USD
            })
        );
        assert_eq!(
            Money::checked_sum(EUR, [eur(1), usd]),
            Err(MoneyError::CurrencyMismatch {
                left: EUR,
                right: Currency::USD
            })
        );
    }

    #[test]
    fn compares_within_a_currency() {
        assert_eq!(eur(-1).checked_cmp(eur(1)), Ok(Ordering::Less));
        assert_eq!(eur(5).checked_cmp(eur(5)), Ok(Ordering::Equal));
    }

    #[test]
    fn sign_predicates() {
        assert!(eur(0).is_zero());
        assert!(eur(1).is_positive());
        assert!(eur(-1).is_negative());
        assert!(!eur(0).is_positive() && !eur(0).is_negative());
    }
}
