//! Amounts as decimal text: "12.34" for an amount alone, "EUR 12.34" for money.
//!
//! Text is exact both ways: formatting always prints every minor-unit digit, and parsing refuses
//! anything finer than the minor unit instead of rounding it away.

use std::fmt;
use std::str::FromStr;

use crate::error::excerpt;
use crate::{Currency, Money, MoneyError};

impl Money {
    /// Reads a decimal amount in `currency`: an optional `-`, one or more digits, then
    /// optionally `.` and one or more digits ("12.34", "-0.05", "1500").
    ///
    /// Digits finer than the currency's minor unit are refused ([`MoneyError::SubMinorAmount`]:
    /// "12.345" EUR, "1.5" JPY) unless they are zeros, which change nothing ("12.340" EUR and
    /// "1500.00" JPY are accepted). No `+`, spaces, exponents or thousands separators.
    pub fn from_decimal_str(currency: Currency, input: &str) -> Result<Self, MoneyError> {
        let malformed = || MoneyError::MalformedAmount {
            input: excerpt(input),
        };
        let out_of_range = || MoneyError::AmountOutOfRange {
            currency,
            input: excerpt(input),
        };

        let (negative, unsigned) = match input.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) if is_digits(fraction) => (whole, fraction),
            Some(_) => return Err(malformed()),
            None => (unsigned, ""),
        };
        if !is_digits(whole) {
            return Err(malformed());
        }

        let exponent = usize::from(currency.minor_unit_exponent());
        // The text is ASCII digits by now, so any byte index is a char boundary.
        let (significant, finer) = fraction.split_at(fraction.len().min(exponent));
        if finer.bytes().any(|digit| digit != b'0') {
            return Err(MoneyError::SubMinorAmount {
                currency,
                input: excerpt(input),
            });
        }

        let padding = std::iter::repeat_n(b'0', exponent - significant.len());
        let magnitude = whole
            .bytes()
            .chain(significant.bytes())
            .chain(padding)
            .try_fold(0_u64, |magnitude, digit| {
                magnitude
                    .checked_mul(10)?
                    .checked_add(u64::from(digit - b'0'))
            })
            .ok_or_else(out_of_range)?;
        let signed = if negative {
            -i128::from(magnitude)
        } else {
            i128::from(magnitude)
        };
        i64::try_from(signed)
            .map(|minor_units| Self::from_minor(currency, minor_units))
            .map_err(|_| out_of_range())
    }

    /// Reads money as [`Display`](fmt::Display) writes it: a currency code, one space, and an
    /// amount as [`Money::from_decimal_str`] reads it ("EUR 12.34", "JPY -1500").
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let (code, amount) = input
            .split_once(' ')
            .ok_or_else(|| MoneyError::MalformedMoney {
                input: excerpt(input),
            })?;
        Self::from_decimal_str(Currency::parse(code)?, amount)
    }

    /// The amount without its currency, with exactly as many decimals as the minor unit has:
    /// "12.34" (EUR), "1500" (JPY), "-1.234" (KWD).
    pub fn to_decimal_string(self) -> String {
        DecimalAmount(self).to_string()
    }
}

/// Writes the amount part of a [`Money`] without allocating.
struct DecimalAmount(Money);

impl fmt::Display for DecimalAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let currency = self.0.currency();
        let minor_units = self.0.minor_units();
        let sign = if minor_units < 0 { "-" } else { "" };
        // unsigned_abs keeps i64::MIN printable.
        let magnitude = minor_units.unsigned_abs();
        let exponent = usize::from(currency.minor_unit_exponent());
        if exponent == 0 {
            return write!(f, "{sign}{magnitude}");
        }
        let per_major = currency.minor_units_per_major().unsigned_abs();
        write!(
            f,
            "{sign}{}.{:0exponent$}",
            magnitude / per_major,
            magnitude % per_major
        )
    }
}

/// "EUR 12.34", "JPY 1500", "KWD -1.234": the form [`Money::parse`] reads back.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency(), DecimalAmount(*self))
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EUR: Currency = Currency::EUR;
    const JPY: Currency = Currency::JPY;
    const KWD: Currency = Currency::KWD;

    #[test]
    fn displays_code_and_every_minor_digit() {
        let cases = [
            (Money::from_minor(EUR, 1234), "EUR 12.34"),
            (Money::from_minor(EUR, -1234), "EUR -12.34"),
            (Money::from_minor(EUR, -5), "EUR -0.05"),
            (Money::from_minor(EUR, 0), "EUR 0.00"),
            (Money::from_minor(JPY, 1500), "JPY 1500"),
            (Money::from_minor(JPY, -1500), "JPY -1500"),
            (Money::from_minor(KWD, 1234), "KWD 1.234"),
            (Money::from_minor(KWD, -1), "KWD -0.001"),
            (
                Money::from_minor(EUR, i64::MIN),
                "EUR -92233720368547758.08",
            ),
            (Money::from_minor(EUR, i64::MAX), "EUR 92233720368547758.07"),
        ];
        for (money, text) in cases {
            assert_eq!(money.to_string(), text);
            assert_eq!(Money::parse(text), Ok(money), "{text}");
        }
    }

    #[test]
    fn decimal_string_has_no_code() {
        assert_eq!(Money::from_minor(KWD, -1234).to_decimal_string(), "-1.234");
    }

    #[test]
    fn reads_decimal_amounts() {
        let cases = [
            (EUR, "12.34", 1234),
            (EUR, "12.3", 1230),
            (EUR, "12", 1200),
            (EUR, "-0.05", -5),
            (EUR, "-0", 0),
            (EUR, "007.50", 750),
            (EUR, "12.340", 1234),
            (JPY, "1500", 1500),
            (JPY, "1500.00", 1500),
            (KWD, "1.234", 1234),
            (EUR, "-92233720368547758.08", i64::MIN),
        ];
        for (currency, text, minor_units) in cases {
            assert_eq!(
                Money::from_decimal_str(currency, text),
                Ok(Money::from_minor(currency, minor_units)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_amounts_finer_than_the_minor_unit() {
        for (currency, text) in [
            (EUR, "12.345"),
            (EUR, "0.001"),
            (JPY, "1.5"),
            (KWD, "1.2345"),
        ] {
            assert_eq!(
                Money::from_decimal_str(currency, text),
                Err(MoneyError::SubMinorAmount {
                    currency,
                    input: text.to_owned()
                })
            );
        }
    }

    #[test]
    fn refuses_text_that_is_not_a_plain_decimal() {
        for text in [
            "", "-", ".", ".5", "5.", "+5", "1,234.00", "12,34", " 1", "1 ", "1e3", "--1", "1.2.3",
            "1_000", "١٢",
        ] {
            assert_eq!(
                Money::from_decimal_str(EUR, text),
                Err(MoneyError::MalformedAmount {
                    input: text.to_owned()
                }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_amounts_beyond_the_range() {
        for text in [
            "92233720368547758.08",
            "-92233720368547758.09",
            "99999999999999999999999999",
        ] {
            assert_eq!(
                Money::from_decimal_str(EUR, text),
                Err(MoneyError::AmountOutOfRange {
                    currency: EUR,
                    input: text.to_owned()
                })
            );
        }
    }

    #[test]
    fn money_text_needs_a_known_code_and_one_space() {
        assert_eq!(
            Money::parse("EUR12.34"),
            Err(MoneyError::MalformedMoney {
                input: "EUR12.34".into()
            })
        );
        assert_eq!(
            Money::parse("eur 12.34"),
            Err(MoneyError::MalformedCurrencyCode {
                input: "eur".into()
            })
        );
        assert_eq!(
            Money::parse("EUR  12.34"),
            Err(MoneyError::MalformedAmount {
                input: " 12.34".into()
            })
        );
        assert_eq!("JPY 1500".parse(), Ok(Money::from_minor(JPY, 1500)));
    }
}
