//! A nominal annual interest rate, held as an exact decimal.
//!
//! DESIGN.md "Money and time": rates are exact decimals, never floats. A rate is written as a
//! fraction of one ("0.1299" is 12.99 % a year) so that it reads the same in the API, the store and
//! the amortisation arithmetic.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// At most this many decimal places: enough for any published APR (basis points of basis points),
/// and small enough that `balance × rate` stays exact in 128-bit integers (see `amortisation`).
pub const MAX_RATE_DECIMALS: u32 = 10;

/// Why a rate was refused; each message tells an API caller what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error(
        "the annual rate must be a plain decimal between 0 and 1, e.g. 0.1299 for 12.99 % \
         (digits and at most one point; no sign, exponent, separator or spaces)"
    )]
    NotADecimal,
    #[error("the annual rate must not be negative: send a decimal between 0 and 1, e.g. 0.1299")]
    Negative,
    #[error(
        "the annual rate must be below 1 (100 % a year): it is a fraction of one, \
         e.g. 0.1299 for 12.99 %"
    )]
    TooLarge,
    #[error(
        "the annual rate has {decimals} decimal places; at most {max} are allowed, e.g. 0.1299"
    )]
    TooPrecise { decimals: usize, max: u32 },
}

/// A nominal annual rate in `[0, 1)`, normalised (no trailing zeros), with at most
/// [`MAX_RATE_DECIMALS`] decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AnnualRate(Decimal);

impl AnnualRate {
    /// Parses an exact decimal string such as `"0.1299"`. The empty string and `"0"` mean zero
    /// (a frozen-interest plan). Trailing zeros do not count as decimal places (`"0.10"` is 0.1).
    ///
    /// # Errors
    /// [`RateError`] for negatives, values of 1 or more, exponents, more than
    /// [`MAX_RATE_DECIMALS`] significant decimals, or anything that is not a plain decimal.
    pub fn parse(text: &str) -> Result<Self, RateError> {
        if text.is_empty() {
            return Ok(Self::zero());
        }
        if let Some(unsigned) = text.strip_prefix('-') {
            // Name the real problem when the rest is a well-formed number.
            return Err(match split_plain_decimal(unsigned) {
                Some(_) => RateError::Negative,
                None => RateError::NotADecimal,
            });
        }
        let (whole, fraction) = split_plain_decimal(text).ok_or(RateError::NotADecimal)?;
        if whole.bytes().any(|digit| digit != b'0') {
            return Err(RateError::TooLarge);
        }
        let significant = fraction.trim_end_matches('0');
        let decimals = significant.len();
        if decimals > MAX_RATE_DECIMALS as usize {
            return Err(RateError::TooPrecise {
                decimals,
                max: MAX_RATE_DECIMALS,
            });
        }
        from_fraction_digits(significant)
    }

    /// Checks a decimal already in hand (e.g. read back from a store) against the same rules.
    ///
    /// # Errors
    /// [`RateError`] as for [`AnnualRate::parse`].
    #[cfg(test)]
    pub fn from_decimal(value: Decimal) -> Result<Self, RateError> {
        let value = value.normalize();
        if value.is_sign_negative() && !value.is_zero() {
            return Err(RateError::Negative);
        }
        if value >= Decimal::ONE {
            return Err(RateError::TooLarge);
        }
        if value.scale() > MAX_RATE_DECIMALS {
            return Err(RateError::TooPrecise {
                decimals: value.scale() as usize,
                max: MAX_RATE_DECIMALS,
            });
        }
        // `normalize` keeps the sign of a negative zero; zero has one representation here.
        Ok(if value.is_zero() {
            Self::zero()
        } else {
            Self(value)
        })
    }

    /// No interest: used for frozen-interest plans (CONC 7.3: interest and fees frozen).
    #[must_use]
    pub fn zero() -> Self {
        Self(Decimal::ZERO)
    }

    /// No interest accrues at this rate (an account's flags show a plan at zero as a freeze).
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// DESIGN.md: monthly rate r = nominal annual rate / 12.
    ///
    /// Rounded to 28 significant digits when the quotient does not terminate (0.1 / 12), so use
    /// it for display and estimates only. Money is computed by `amortisation`, which keeps the
    /// division by 12 exact.
    #[must_use]
    #[cfg(test)]
    pub fn monthly(&self) -> Decimal {
        // Cannot overflow or divide by zero: the value is below 1 and the divisor is 12.
        self.0 / Decimal::from(12)
    }

    #[must_use]
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// The rate as `numerator / 10^scale` with `scale <= MAX_RATE_DECIMALS`, for exact integer
    /// arithmetic. The numerator is below `10^scale` because the rate is below 1.
    pub(crate) fn as_scaled_integer(&self) -> (u64, u32) {
        // Non-negative and below 10^10 by construction, so the conversion cannot fail.
        let numerator = u64::try_from(self.0.mantissa()).unwrap_or(0);
        (numerator, self.0.scale())
    }
}

impl fmt::Display for AnnualRate {
    /// The normalised decimal, e.g. `0.1299` or `0`: the same text `parse` accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for AnnualRate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Splits `digits[.digits]` into its whole and fractional digits; `None` for anything else.
fn split_plain_decimal(text: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
        Some(_) => return None,
        None => (text, ""),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    (!whole.is_empty() && all_digits(whole) && all_digits(fraction)).then_some((whole, fraction))
}

/// Builds `0.<digits>` from at most `MAX_RATE_DECIMALS` significant fractional digits.
fn from_fraction_digits(digits: &str) -> Result<AnnualRate, RateError> {
    if digits.is_empty() {
        return Ok(AnnualRate::zero());
    }
    let numerator: i64 = digits.parse().map_err(|_| RateError::NotADecimal)?;
    let scale = u32::try_from(digits.len()).map_err(|_| RateError::NotADecimal)?;
    let value = Decimal::try_new(numerator, scale).map_err(|_| RateError::NotADecimal)?;
    Ok(AnnualRate(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> AnnualRate {
        AnnualRate::parse(text).expect("valid rate")
    }

    #[test]
    fn parses_and_normalises_exact_decimals() {
        assert_eq!(rate("0.1299").to_string(), "0.1299");
        assert_eq!(rate("0.10").to_string(), "0.1");
        assert_eq!(rate("0.0000000001").to_string(), "0.0000000001");
        assert_eq!(rate("0.9999999999").to_string(), "0.9999999999");
        assert_eq!(rate("00.5").to_string(), "0.5");
        assert_eq!(rate("0.12990000000000").to_string(), "0.1299");
    }

    #[test]
    fn empty_and_zero_spellings_are_zero() {
        for text in ["", "0", "0.0", "000", "0.0000000000000"] {
            let parsed = rate(text);
            assert!(parsed.is_zero(), "{text:?}");
            assert_eq!(parsed, AnnualRate::zero());
            assert_eq!(parsed.to_string(), "0");
        }
    }

    #[test]
    fn refuses_negative_rates() {
        assert_eq!(AnnualRate::parse("-0.05"), Err(RateError::Negative));
        assert_eq!(AnnualRate::parse("-0"), Err(RateError::Negative));
        assert_eq!(AnnualRate::parse("-x"), Err(RateError::NotADecimal));
    }

    #[test]
    fn refuses_one_hundred_percent_and_more() {
        for text in ["1", "1.0", "1.00000000001", "12.99", "0001.5"] {
            assert_eq!(AnnualRate::parse(text), Err(RateError::TooLarge), "{text}");
        }
    }

    #[test]
    fn refuses_more_than_ten_decimals() {
        assert_eq!(
            AnnualRate::parse("0.12345678901"),
            Err(RateError::TooPrecise {
                decimals: 11,
                max: 10
            })
        );
    }

    #[test]
    fn refuses_exponents_signs_separators_and_garbage() {
        for text in [
            "1e-2", "0.1e1", "1E5", "+0.1", " 0.1", "0.1 ", "0,1", ".5", "0.", "0..1", "0.1.2",
            "12.99%", "abc", "0x10", "0_1", "٠.١", "NaN", "inf",
        ] {
            assert_eq!(
                AnnualRate::parse(text),
                Err(RateError::NotADecimal),
                "{text:?}"
            );
        }
    }

    #[test]
    fn monthly_is_annual_over_twelve() {
        assert_eq!(rate("0.1299").monthly(), Decimal::new(10825, 6));
        assert_eq!(rate("0.018").monthly(), Decimal::new(15, 4));
        assert!(AnnualRate::zero().monthly().is_zero());
    }

    #[test]
    fn orders_by_value() {
        assert!(rate("0.05") < rate("0.1"));
        assert_eq!(rate("0.10"), rate("0.1"));
    }

    #[test]
    fn from_decimal_applies_the_same_rules() {
        assert_eq!(
            AnnualRate::from_decimal(Decimal::new(12990, 5)),
            Ok(rate("0.1299"))
        );
        assert_eq!(
            AnnualRate::from_decimal(Decimal::new(-1, 2)),
            Err(RateError::Negative)
        );
        assert_eq!(
            AnnualRate::from_decimal(Decimal::ONE),
            Err(RateError::TooLarge)
        );
        assert_eq!(
            AnnualRate::from_decimal(Decimal::new(1, 11)),
            Err(RateError::TooPrecise {
                decimals: 11,
                max: 10
            })
        );
        assert_eq!(
            AnnualRate::from_decimal(Decimal::new(0, 3)),
            Ok(AnnualRate::zero())
        );
    }

    #[test]
    fn scaled_integer_is_exact() {
        assert_eq!(rate("0.1299").as_scaled_integer(), (1299, 4));
        assert_eq!(AnnualRate::zero().as_scaled_integer(), (0, 0));
    }

    #[test]
    fn messages_tell_the_caller_what_to_send() {
        let message = RateError::NotADecimal.to_string();
        assert!(
            message.contains("between 0 and 1, e.g. 0.1299"),
            "{message}"
        );
    }
}
